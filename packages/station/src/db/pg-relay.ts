import pg from 'pg';
import type { Logger } from 'pino';
import type { HubEvent } from '../lines/hub.js';

const CHANNEL = 'parley_hub';

/**
 * Carries hub events between the processes of one station over PostgreSQL LISTEN/NOTIFY, so
 * a message accepted by one process reaches WebSocket clients of another at once. Events are
 * hints ("something committed on line X"); receivers re-read the database, so a notification
 * lost while a connection was down delays a client, never loses an item (clients also resync
 * on reconnect).
 */
export class PgRelay {
  private listener: pg.Client | null = null;
  private publisher: pg.Pool;
  private stopped = false;
  private readonly origin = Math.random().toString(36).slice(2);

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly deliver: (event: HubEvent) => void,
  ) {
    this.publisher = new pg.Pool({ connectionString: url, max: 2 });
    this.publisher.on('error', () => {});
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'hub relay connection lost; reconnecting');
      this.listener = null;
      setTimeout(() => void this.connect().catch(() => {}), 1000);
    });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      // `event` is the single-event form of processes not yet upgraded.
      const { origin, events, event } = JSON.parse(msg.payload) as { origin: string; events?: HubEvent[]; event?: HubEvent };
      if (origin === this.origin) return;
      for (const e of events ?? (event ? [event] : [])) this.deliver(e);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'hub relay cannot connect; retrying');
      await client.end().catch(() => {});
      setTimeout(() => void this.connect().catch(() => {}), 1000);
    }
  }

  private queued = new Map<string, HubEvent>();
  private flushing = false;

  /**
   * Events of one turn of the event loop go out as one notification (an item commonly raises
   * several: committed, delivered, health), and repeats of the same hint as one: a round trip
   * to the database per event was most of the relay's cost.
   */
  publish(event: HubEvent): void {
    this.queued.set(JSON.stringify(event), event);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const events = [...this.queued.values()];
      this.queued.clear();
      for (const chunk of chunks(events)) {
        this.publisher
          .query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ origin: this.origin, events: chunk })])
          .catch((err: Error) => {
            this.log.warn({ err: err.message }, 'hub relay publish failed');
          });
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => {});
    await this.publisher.end().catch(() => {});
  }
}

/** PostgreSQL refuses a notification payload of 8,000 bytes or more: split well below. */
function chunks(events: HubEvent[], maxChars = 6000): HubEvent[][] {
  const out: HubEvent[][] = [];
  let cur: HubEvent[] = [];
  let size = 0;
  for (const e of events) {
    const n = JSON.stringify(e).length + 1;
    if (cur.length > 0 && size + n > maxChars) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

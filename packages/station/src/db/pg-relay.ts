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
      const { origin, event } = JSON.parse(msg.payload) as { origin: string; event: HubEvent };
      if (origin !== this.origin) this.deliver(event);
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

  publish(event: HubEvent): void {
    this.publisher.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ origin: this.origin, event })]).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'hub relay publish failed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => {});
    await this.publisher.end().catch(() => {});
  }
}

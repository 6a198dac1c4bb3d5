import type { Item, Health, ServerFrame } from '@parley/protocol';
import type { LineEngine, Membership } from './e2ee/line-engine.js';
import type { OfflineQueue } from './offline-queue.js';
import type { TimelineEvent } from './timeline.js';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'offline' | 'refused';

export interface LineConnectionHandlers {
  /** Timeline events, batched so a long history renders once, not once per item. */
  events(events: TimelineEvent[]): void;
  health(health: Health, lastContactAt: number | null): void;
  status(status: ConnectionStatus, detail?: string): void;
  /** Which queued messages were written to the current socket and await the station's answer. */
  inFlight(ids: ReadonlySet<string>): void;
  /** The socket failed to open: the session may have ended; the app checks and asks to log in. */
  suspectSession(): void;
  /** Whether this device is in the line's group yet (sending waits until it is). */
  membership(m: Membership): void;
  /** This device could not process the timeline (storage refused, keys changed): shown, not hidden. */
  failure(message: string | null): void;
}

/** Errors after which a send is worth repeating as it is; any other refusal is final. */
const RETRIABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED']);
const PING_EVERY_MS = 15_000;
const SILENCE_LIMIT_MS = 25_000;

/** Lines with a live connection in this tab; the background sender leaves their queue alone. */
export const connectedLines = new Set<string>();

/**
 * The live view of one line: /api/v1/lines/:line/stream over a WebSocket, authenticated by the
 * session cookie. Every item goes through the line's engine (MLS), in order, exactly once; the
 * stream resumes after the last position the engine processed. On every (re)connect it encrypts
 * the line's queued messages with the group's current epoch and sends them as kind 'mls'; a
 * queued message is removed once its item is back in the timeline. When the browser goes offline
 * it closes the socket at once rather than write into a dead connection.
 */
export class LineConnection {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private batch: TimelineEvent[] = [];
  private lastFrameAt = 0;
  private readonly sent = new Set<string>();
  /** Accepted by the station; removed from the queue when the item itself comes through. */
  private readonly accepted = new Set<string>();
  private incoming: Item[] = [];
  private ingesting = false;
  private flushing = false;
  private flushAgain = false;
  private readonly offQueue: () => void;

  constructor(
    private readonly line: string,
    private readonly queue: OfflineQueue,
    private readonly engine: LineEngine,
    private readonly on: LineConnectionHandlers,
  ) {
    this.offQueue = queue.subscribe(() => void this.flush());
    globalThis.addEventListener('online', this.onOnline);
    globalThis.addEventListener('offline', this.onOffline);
  }

  start(): void {
    connectedLines.add(this.line);
    this.on.membership(this.engine.membership);
    if (globalThis.navigator?.onLine === false) this.on.status('offline');
    else this.open();
  }

  stop(): void {
    this.stopped = true;
    connectedLines.delete(this.line);
    this.offQueue();
    globalThis.removeEventListener('online', this.onOnline);
    globalThis.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    this.drop();
    this.deliverBatch();
  }

  /**
   * Encrypt and send every queued message of this line that is not already on its way on this
   * socket, oldest first. Waits (messages stay queued) while this device is not in the group.
   */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        if (this.engine.selfUpdateDue) {
          // Before sending (and when the connection opens): the messages then go with the new keys.
          await this.engine
            .refreshKeysIfDue()
            .catch((e: unknown) => console.warn('could not refresh this device’s keys; sending anyway', e));
        }
        for (const p of this.queue.list(this.line)) {
          const ws = this.socket;
          if (this.stopped || !ws || ws.readyState !== WebSocket.OPEN) return;
          if (p.status !== 'queued' || this.sent.has(p.clientId) || this.accepted.has(p.clientId)) continue;
          let sealed: Awaited<ReturnType<LineEngine['seal']>>;
          try {
            sealed = await this.engine.seal(p);
          } catch (e) {
            const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'ENCRYPTION_FAILED';
            await this.queue.markFailed(p.clientId, { code, message: `this device could not encrypt it: ${(e as Error).message}` });
            continue;
          }
          this.on.membership(this.engine.membership);
          if ('membership' in sealed) return; // not in the group (yet): everything stays queued
          // The socket may have closed while encrypting: the next one sends it (same clientId, same bytes).
          if (this.socket !== ws || ws.readyState !== WebSocket.OPEN) return;
          ws.send(JSON.stringify({ type: 'send', kind: 'mls', payload: sealed.payload, clientId: p.clientId }));
          this.sent.add(p.clientId);
          this.reportInFlight();
        }
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
    }
  }

  private readonly onOnline = () => {
    if (this.stopped) return;
    this.attempt = 0;
    clearTimeout(this.retryTimer);
    if (!this.socket) this.open();
  };

  private readonly onOffline = () => {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.drop();
    this.on.status('offline');
  };

  private open(): void {
    clearTimeout(this.retryTimer);
    this.on.status(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // Resume after what the engine has processed; anything in between comes again and is skipped.
    const after = this.engine.cursor;
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/lines/${encodeURIComponent(this.line)}/stream?after=${after}`);
    this.socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.on.status('open');
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
      void this.flush();
    };
    ws.onmessage = (ev) => {
      this.lastFrameAt = Date.now();
      try {
        this.handle(JSON.parse(String(ev.data)) as ServerFrame);
      } catch (e) {
        console.error('unreadable frame from the station', e);
      }
    };
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      this.drop();
      if (this.stopped) return;
      if (ev.code === 4404) {
        this.on.status('refused', ev.reason || 'you hold no seat on this line');
        return;
      }
      if (!opened) this.on.suspectSession();
      this.scheduleReconnect();
    };
  }

  /** Forget the socket now; a close handshake over a dead network could take minutes. */
  private drop(): void {
    const ws = this.socket;
    this.socket = null;
    clearInterval(this.pingTimer);
    if (this.sent.size > 0 || this.accepted.size > 0) {
      // Not answered (or not yet back as items) on this socket: they stay queued and go again,
      // same clientId, on the next; the station keeps one copy.
      this.sent.clear();
      this.accepted.clear();
      this.on.inFlight(new Set());
    }
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'closing');
    }
  }

  private scheduleReconnect(): void {
    if (globalThis.navigator?.onLine === false) {
      this.on.status('offline');
      return;
    }
    const delay = Math.min(10_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.on.status('reconnecting');
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private keepAlive(): void {
    const ws = this.socket;
    if (!ws) return;
    if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
      // No answer to our pings: the connection is dead even if the browser has not noticed.
      this.drop();
      this.scheduleReconnect();
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'item':
        this.addItem(frame.item);
        break;
      case 'accepted':
        // The item itself comes through the stream in timeline order; the queue entry goes then.
        if (this.sent.delete(frame.clientId)) {
          this.accepted.add(frame.clientId);
          this.reportInFlight();
        }
        break;
      case 'delivered':
        this.push({ type: 'delivered', seq: frame.seq });
        break;
      case 'health':
        this.on.health(frame.health, frame.lastContactAt);
        break;
      case 'error':
        if (frame.clientId) this.refused(frame.clientId, frame.error);
        else console.warn('station refused a frame', frame.error);
        break;
      case 'pong':
        break;
      default: {
        const unknown: never = frame;
        console.warn('unknown frame from the station', unknown);
      }
    }
  }

  private addItem(item: Item): void {
    this.incoming.push(item);
    void this.ingest();
  }

  /** Hand items to the engine in arrival (= timeline) order, one batch at a time. */
  private async ingest(): Promise<void> {
    if (this.ingesting) return;
    this.ingesting = true;
    try {
      while (this.incoming.length > 0 && !this.stopped) {
        // Let a burst of frames gather into one batch: one transaction, one render.
        await new Promise((r) => setTimeout(r, 0));
        const batch = this.incoming;
        this.incoming = [];
        const before = this.engine.membership;
        let records: Awaited<ReturnType<LineEngine['ingest']>>;
        try {
          records = await this.engine.ingest(batch);
        } catch (e) {
          // Nothing was kept: reconnect, and the stream resends from the engine's cursor; but
          // keys that changed will not change back: stop and say so.
          this.incoming = [];
          this.on.failure(`This device could not process the line’s messages: ${(e as Error).message}`);
          this.drop();
          // (by name: the engine's module is loaded lazily, after login)
          if ((e as Error).name === 'LineKeyError') this.on.status('refused', 'the line’s station keys changed');
          else this.scheduleReconnect();
          return;
        }
        this.on.failure(null);
        if (records.length > 0) this.push({ type: 'records', records });
        for (const r of records) {
          // Our own message is back as an item: whether its 'accepted' answer arrived or was lost with a socket.
          if (r.dir === 'out' && r.clientId && this.queue.list(this.line).some((p) => p.clientId === r.clientId)) this.settle(r.clientId);
        }
        if (this.engine.membership !== before) {
          this.on.membership(this.engine.membership);
          void this.flush();
        }
      }
    } finally {
      this.ingesting = false;
    }
  }

  /** Sent on this socket and not yet back as items: shown as "Sending…". */
  private reportInFlight(): void {
    this.on.inFlight(new Set([...this.sent, ...this.accepted]));
  }

  private settle(clientId: string): void {
    let changed = this.sent.delete(clientId);
    changed = this.accepted.delete(clientId) || changed;
    if (changed) this.reportInFlight();
    void this.queue.remove(clientId);
  }

  private refused(clientId: string, error: { code: string; message: string }): void {
    if (this.sent.delete(clientId)) this.reportInFlight();
    if (RETRIABLE.has(error.code)) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.flush(), 3000);
    } else {
      void this.queue.markFailed(clientId, error);
    }
  }

  private push(ev: TimelineEvent): void {
    this.batch.push(ev);
    this.batchTimer ??= setTimeout(() => this.deliverBatch(), 16);
  }

  private deliverBatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    this.on.events(events);
  }
}

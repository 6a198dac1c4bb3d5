import type { Health, Item, ServerFrame } from '@parley/protocol';
import { encodeMessage } from './message-codec.js';
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
}

/** Errors after which a send is worth repeating as it is; any other refusal is final. */
const RETRIABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED']);
const PING_EVERY_MS = 15_000;
const SILENCE_LIMIT_MS = 25_000;

/** Lines with a live connection in this tab; the background sender leaves their queue alone. */
export const connectedLines = new Set<string>();

/**
 * The live view of one line: /api/v1/lines/:line/stream over a WebSocket, authenticated by the
 * session cookie. It resumes after the last position seen, sends the line's queued messages on
 * every (re)connect, and removes a queued message once the station says it stored it. When the
 * browser goes offline it closes the socket at once rather than write into a dead connection.
 */
export class LineConnection {
  private socket: WebSocket | null = null;
  private cursor: number;
  private attempt = 0;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private batch: TimelineEvent[] = [];
  private lastFrameAt = 0;
  private readonly sent = new Set<string>();
  private readonly offQueue: () => void;

  constructor(
    private readonly line: string,
    private readonly queue: OfflineQueue,
    private readonly on: LineConnectionHandlers,
    after = 0,
  ) {
    this.cursor = after;
    this.offQueue = queue.subscribe(() => this.flush());
    globalThis.addEventListener('online', this.onOnline);
    globalThis.addEventListener('offline', this.onOffline);
  }

  start(): void {
    connectedLines.add(this.line);
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

  /** Send every queued message of this line that is not already on its way on this socket. */
  flush(): void {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    let changed = false;
    for (const p of this.queue.list(this.line)) {
      if (p.status !== 'queued' || this.sent.has(p.clientId)) continue;
      ws.send(JSON.stringify({ type: 'send', payload: encodeMessage(p.text), clientId: p.clientId }));
      this.sent.add(p.clientId);
      changed = true;
    }
    if (changed) this.on.inFlight(new Set(this.sent));
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
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/lines/${encodeURIComponent(this.line)}/stream?after=${this.cursor}`);
    this.socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.on.status('open');
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
      this.flush();
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
    if (this.sent.size > 0) {
      // Not answered on this socket: they stay queued and go again, same clientId, on the next.
      this.sent.clear();
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
        this.addItem(frame.item);
        this.settle(frame.clientId);
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
    this.cursor = Math.max(this.cursor, item.pos);
    this.push({ type: 'item', item });
    // Our own message, stored: whether its 'accepted' answer arrives or was lost with a socket.
    if (item.dir === 'out' && item.clientId) this.settle(item.clientId);
  }

  private settle(clientId: string): void {
    if (this.sent.delete(clientId)) this.on.inFlight(new Set(this.sent));
    this.queue.remove(clientId);
  }

  private refused(clientId: string, error: { code: string; message: string }): void {
    if (this.sent.delete(clientId)) this.on.inFlight(new Set(this.sent));
    if (RETRIABLE.has(error.code)) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.flush(), 3000);
    } else {
      this.queue.markFailed(clientId, error);
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

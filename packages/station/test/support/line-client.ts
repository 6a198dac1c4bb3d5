import { opaqueApplicationMessage, opaqueBody } from '@parley/e2ee/frames';
import type { Item } from '@parley/protocol';
import WebSocket from 'ws';

/**
 * A payload the station takes for a member's encrypted message: `text` in the envelope of an
 * MLS application message of the line's group. Line tests check delivery, not cryptography.
 */
export function opaquePayload(lineId: string, text: string | Uint8Array): string {
  const body = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return Buffer.from(opaqueApplicationMessage(lineId, body)).toString('base64url');
}

/** What `opaquePayload` wrapped. */
export function opaqueText(payload: string): string {
  return new TextDecoder().decode(opaqueBody(Buffer.from(payload, 'base64url')));
}

/** What a sending client knows about one item: what it sent, and what the station answered. */
export interface ClientItem {
  clientId: string;
  payload: string;
  acceptedSeq: number | null;
}

export interface LineClientOptions {
  /** Station base URL (http://127.0.0.1:PORT). */
  url: string;
  token: string;
  line: string;
  /** Keep every item frame seen, to check the live view afterwards. */
  keepView?: boolean;
  /** Called for every item frame, with the time it was read off the socket. */
  onItem?: (item: Item, at: bigint) => void;
  /** Called for every accepted frame. */
  onAccepted?: (clientId: string, item: Item, at: bigint) => void;
}

interface SendJob {
  items: ClientItem[];
  next: number;
  window: number;
  ratePerSec: number | null;
  startedAt: number;
  sent: number;
  done: () => void;
  fail: (err: Error) => void;
}

/** Answers that mean the item itself is wrong, not that the station is in trouble. */
const REFUSALS = new Set(['NOT_ENCRYPTED', 'VALIDATION_FAILED', 'FORBIDDEN', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']);

/**
 * A line client the way a real one must behave on a line that may crash under it: one
 * WebSocket that reconnects forever (resuming its live view with `after=` the last position
 * it saw), pipelined sends with client ids, and every send that was not answered 'accepted'
 * before the connection dropped is sent again, with the same client id, in its original order.
 */
export class LineClient {
  readonly view: Item[] = [];
  lastPos = 0;
  connects = 0;
  errors: string[] = [];
  private ws: WebSocket | null = null;
  private open = false;
  private stopped = false;
  private readonly inFlight = new Map<string, number>();
  private readonly retry: number[] = [];
  private job: SendJob | null = null;
  private readonly waiters = new Map<string, (item: Item) => void>();
  private readonly byClientId = new Map<string, ClientItem>();
  private rateTimer: NodeJS.Timeout | null = null;
  private opened: (() => void) | null = null;

  constructor(private readonly opts: LineClientOptions) {}

  /** Connect (retrying until the station answers). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.opened = resolve;
      this.connect();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.ws?.terminate();
  }

  get connected(): boolean {
    return this.open;
  }

  private connect(): void {
    if (this.stopped) return;
    const wsUrl = `${this.opts.url.replace(/^http/, 'ws')}/api/v1/lines/${this.opts.line}/stream?after=${this.lastPos}`;
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${this.opts.token}` }, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.open = true;
      this.connects++;
      this.opened?.();
      this.opened = null;
      // Everything unanswered goes again first, in the order it was first sent.
      const unanswered = [...this.inFlight.values(), ...this.retry].sort((a, b) => a - b);
      this.inFlight.clear();
      this.retry.length = 0;
      this.retry.push(...unanswered);
      this.pump();
    });
    ws.on('message', (raw) => this.onMessage(raw as Buffer));
    ws.on('error', () => {});
    ws.on('close', () => {
      this.open = false;
      if (this.ws === ws) this.ws = null;
      if (!this.stopped) setTimeout(() => this.connect(), 50);
    });
  }

  private onMessage(raw: Buffer): void {
    const at = process.hrtime.bigint();
    const frame = JSON.parse(raw.toString('utf8')) as
      | { type: 'item'; item: Item }
      | { type: 'accepted'; clientId: string; item: Item }
      | { type: 'error'; clientId?: string; error: { code: string; message: string } }
      | { type: string };
    if (frame.type === 'item') {
      const item = (frame as { item: Item }).item;
      if (item.pos <= this.lastPos) {
        this.errors.push(`item at position ${item.pos} seen again (last seen ${this.lastPos})`);
        return;
      }
      this.lastPos = item.pos;
      if (this.opts.keepView) this.view.push(item);
      this.opts.onItem?.(item, at);
    } else if (frame.type === 'accepted') {
      const { clientId, item } = frame as { clientId: string; item: Item };
      this.opts.onAccepted?.(clientId, item, at);
      const ci = this.byClientId.get(clientId);
      if (ci) ci.acceptedSeq = item.seq;
      this.inFlight.delete(clientId);
      const w = this.waiters.get(clientId);
      if (w) {
        this.waiters.delete(clientId);
        w(item);
      }
      this.pump();
    } else if (frame.type === 'error') {
      const { clientId, error } = frame as { clientId?: string; error: { code: string; message: string } };
      this.errors.push(`${clientId ?? '-'}: ${error.code} ${error.message}`);
      if (clientId !== undefined && this.inFlight.has(clientId) && REFUSALS.has(error.code) && this.job) {
        // Sending it again would be refused again: the test is wrong, fail it instead of spinning.
        const job = this.job;
        this.job = null;
        job.fail(new Error(`the station refused ${clientId}: ${error.code} ${error.message}`));
      } else if (clientId !== undefined && this.inFlight.has(clientId)) {
        // The station refused to store it (not a lost answer): send it again later.
        this.retry.push(this.inFlight.get(clientId) as number);
        this.retry.sort((a, b) => a - b);
        this.inFlight.delete(clientId);
        setTimeout(() => this.pump(), 100);
      }
    }
  }

  private frame(ci: ClientItem): string {
    return JSON.stringify({ type: 'send', payload: ci.payload, clientId: ci.clientId });
  }

  private pump(): void {
    const job = this.job;
    const ws = this.ws;
    if (!job || !ws || !this.open) return;
    while (this.inFlight.size < job.window) {
      let idx: number;
      if (this.retry.length > 0) idx = this.retry.shift() as number;
      else if (job.next < job.items.length) {
        if (job.ratePerSec !== null) {
          const allowed = ((Date.now() - job.startedAt) / 1000) * job.ratePerSec;
          if (job.sent >= allowed) {
            if (!this.rateTimer) {
              this.rateTimer = setTimeout(() => {
                this.rateTimer = null;
                this.pump();
              }, 5);
            }
            break;
          }
        }
        idx = job.next++;
        job.sent++;
      } else break;
      const ci = job.items[idx] as ClientItem;
      this.inFlight.set(ci.clientId, idx);
      ws.send(this.frame(ci));
    }
    if (job.next >= job.items.length && this.retry.length === 0 && this.inFlight.size === 0) {
      this.job = null;
      job.done();
    }
  }

  /**
   * Send every item, pipelined (at most `window` unanswered), optionally at a bounded rate;
   * resolves once each was answered 'accepted', whatever crashes happened in between.
   */
  sendAll(items: ClientItem[], opts: { window?: number; ratePerSec?: number } = {}): Promise<void> {
    if (this.job) throw new Error('one sendAll at a time');
    for (const ci of items) this.byClientId.set(ci.clientId, ci);
    return new Promise((resolve, reject) => {
      this.job = {
        items,
        next: 0,
        window: opts.window ?? 256,
        ratePerSec: opts.ratePerSec ?? null,
        startedAt: Date.now(),
        sent: 0,
        done: resolve,
        fail: reject,
      };
      this.pump();
    });
  }

  /** One send on a connected socket, for latency measurements (no retry). */
  sendOne(clientId: string, payload: string): Promise<Item> {
    return new Promise((resolve, reject) => {
      if (!this.ws || !this.open) {
        reject(new Error('not connected'));
        return;
      }
      this.waiters.set(clientId, resolve);
      this.ws.send(JSON.stringify({ type: 'send', payload, clientId }));
    });
  }
}

/**
 * Send items over plain HTTP from `concurrency` parallel workers. A request whose answer was
 * lost (connection reset, station down, 5xx) is sent again with the same client id until an
 * answer comes: the station answers a retry with the item it already stored.
 */
export async function httpSendAll(
  url: () => string,
  token: string,
  line: string,
  items: ClientItem[],
  opts: { concurrency?: number; ratePerSec?: number } = {},
): Promise<{ retries: number }> {
  let next = 0;
  let retries = 0;
  const startedAt = Date.now();
  const worker = async () => {
    for (;;) {
      if (opts.ratePerSec !== undefined) {
        const due = startedAt + (next / opts.ratePerSec) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const ci = items[next++];
      if (!ci) return;
      for (;;) {
        try {
          const res = await fetch(`${url()}/api/v1/lines/${line}/items`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ payload: ci.payload, clientId: ci.clientId }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await res.json()) as { item?: Item; error?: { code: string } };
          if (res.ok && body.item) {
            ci.acceptedSeq = body.item.seq;
            break;
          }
          if (res.status < 500) throw new Error(`send refused: ${res.status} ${JSON.stringify(body)}`);
        } catch (e) {
          if ((e as Error).message.startsWith('send refused')) throw e;
        }
        retries++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { retries };
}

/** The whole timeline of a line as one station holds it, read page by page through the client API. */
export async function readTimeline(url: string, token: string, line: string): Promise<Item[]> {
  const all: Item[] = [];
  let after = 0;
  for (;;) {
    const res = await fetch(`${url}/api/v1/lines/${line}/items?after=${after}&limit=1000`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`reading the timeline failed: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { items: Item[]; nextCursor: number };
    if (page.items.length === 0) return all;
    all.push(...page.items);
    after = page.nextCursor;
  }
}

export async function lineSummary(url: string, token: string, line: string): Promise<Record<string, unknown> & { health: string }> {
  const res = await fetch(`${url}/api/v1/lines/${line}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`line summary failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown> & { health: string };
}

/** Poll until `check` returns a value (not undefined), or fail with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

export interface LineEnd {
  /** A URL of the station (a function for a station of several processes, some of them down). */
  url: string | (() => string);
  token: string;
}

/**
 * Both ends' timelines of a line, read at rest: each station's stream drained, and nothing
 * added between a reading before and one after. A snapshot of one end and then the other while
 * the hub still appends (record receipts, group commits) would compare different moments.
 * `settled` may add a condition of the caller's (e.g. its clients caught up).
 */
export async function timelinesAtRest(
  a: LineEnd,
  b: LineEnd,
  line: string,
  settled: (a: Awaited<ReturnType<typeof lineSummary>>, b: Awaited<ReturnType<typeof lineSummary>>) => boolean = () => true,
): Promise<{ a: Item[]; b: Item[] }> {
  const urlOf = (e: LineEnd) => (typeof e.url === 'string' ? e.url : e.url());
  const quiescent = () =>
    waitFor(
      'both streams to drain',
      async () => {
        const sa = await lineSummary(urlOf(a), a.token, line);
        const sb = await lineSummary(urlOf(b), b.token, line);
        const drained = sa.backlogOut === 0 && sb.backlogOut === 0 && sa.backlogIn === 0 && sb.backlogIn === 0;
        return drained && settled(sa, sb) ? { sa, sb } : undefined;
      },
      60_000,
      200,
    );
  for (let attempt = 0; ; attempt++) {
    const before = await quiescent();
    const ta = await readTimeline(urlOf(a), a.token, line);
    const tb = await readTimeline(urlOf(b), b.token, line);
    const after = await quiescent();
    if (before.sa.lastPos === after.sa.lastPos && before.sb.lastPos === after.sb.lastPos) return { a: ta, b: tb };
    if (attempt >= 10) throw new Error('the line never stayed still long enough to read both ends');
  }
}

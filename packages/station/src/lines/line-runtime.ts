import { type FedItem, Heartbeat, type Health, type PeerRefusalView } from '@parley/protocol';
import type { Logger } from 'pino';
import type { Db } from '../db/open.js';
import { derivedTransaction } from '../db/derived-writes.js';
import { prepared } from '../db/prepared.js';
import type { ItemsTable } from '../db/schema.js';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost, PeerRefusal } from '../federation/fed-client.js';
import { FedStream } from '../federation/fed-stream.js';
import type { StationKey } from '../identity/station-key.js';
import { computeHealth } from './health.js';
import type { Hub } from './hub.js';
import { lineById, num, outgoingAfter, recordAck, recordHeartbeat } from './line-store.js';

const BATCH = 1000;
/**
 * A batch's size on the wire at most (base64 payloads and the JSON around them): it must fit one
 * frame of the peer's WebSocket server (2 MiB, http/server.ts) with room to spare.
 */
const BATCH_BYTES = 1024 * 1024;
const MAX_BACKOFF_MS = 2000;
/** Acks are written this long after they arrive, one write for all of them (see recordAckSoon). */
const ACK_WRITE_DELAY_MS = 250;

export interface RuntimeDeps {
  db: Db;
  hub: Hub;
  key: StationKey;
  log: Logger;
  heartbeatMs: number;
}

/**
 * Everything a station does on its own for one line: the forwarder that pushes our
 * outgoing stream to the peer until it is acknowledged, and the heartbeat that probes every
 * peer endpoint. State that matters survives in the database; what lives here (endpoint
 * status, timers) is rebuilt on start.
 */
export class LineRuntime {
  readonly endpoints: Endpoints;
  /** Our stream to the peer: one WebSocket kept open between batches (see federation/fed-stream.ts). */
  private readonly stream: FedStream;
  private stopped = false;
  private acked = 0;
  private wake: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private forwarding: Promise<void> = Promise.resolve();
  private inBacklogSince: number | null = null;
  private lastHealth: Health | null = null;
  private lastRefusal: string | null = null;
  /** Heartbeat probes in flight, one at most per endpoint. */
  private readonly probing = new Map<string, Promise<void>>();
  private healthRefresh: Promise<void> | null = null;
  private healthDirty = false;
  /** Set by kick(); the forwarder's next sleep returns at once (a kick while it was busy is not lost). */
  private kicked = false;
  /**
   * Outgoing rows just committed by this process's outbox, contiguous by sequence number,
   * not yet acknowledged: the forwarder sends them without reading them back from the
   * database. Anything else (a restart, another process's commits, a gap) is read from it.
   */
  private ready: ItemsTable[] = [];
  private readyHead = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  private ackWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly lineId: string,
    private readonly peerKey: Uint8Array,
    peerUrls: string[],
    private readonly deps: RuntimeDeps,
  ) {
    this.endpoints = new Endpoints(peerUrls);
    this.stream = new FedStream(deps.key, peerKey, lineId, this.endpoints);
    this.unsubscribe = deps.hub.on(lineId, (ev) => {
      if (ev.type === 'items' && ev.rows) this.keep(ev.rows);
      else if (ev.type === 'outbox') this.kick();
    });
  }

  async start(): Promise<void> {
    const line = await lineById(this.deps.db, this.lineId);
    this.acked = num(line?.out_acked ?? 0);
    this.forwarding = this.forwardLoop();
    this.startBeat();
    this.heartbeatTimer = setInterval(() => this.startBeat(), this.deps.heartbeatMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.kick();
    await this.forwarding;
    this.stream.close();
    if (this.ackTimer) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
      this.writeAck();
    }
    await this.ackWrite;
    await Promise.all(this.probing.values());
    await this.healthRefresh;
  }

  /**
   * Probe every endpoint, each on its own: an endpoint that swallows packets (no answer
   * until the timeout) must not hold back the probes of the others, nor the health they
   * report. An endpoint still being probed from the last beat is skipped.
   */
  private startBeat(): void {
    if (this.stopped) return;
    for (const ep of this.endpoints.states) {
      if (this.probing.has(ep.url)) continue;
      const probe = this.probe(ep.url)
        .catch((err) => this.deps.log.error({ err, line: this.lineId }, 'heartbeat failed'))
        .finally(() => this.probing.delete(ep.url));
      this.probing.set(ep.url, probe);
    }
  }

  private keep(rows: ItemsTable[]): void {
    const first = rows[0];
    if (first?.dir !== 'out') return;
    const last = this.ready[this.ready.length - 1];
    if (this.ready.length - this.readyHead >= 4 * BATCH || (last && num(first.seq) !== num(last.seq) + 1)) {
      // Too far behind, or not contiguous: what is dropped here is read from the database.
      this.ready = [];
      this.readyHead = 0;
    }
    for (const r of rows) this.ready.push(r);
  }

  /** Up to `limit` rows after `afterSeq` from the ready queue, or null if it does not start right there. */
  private fromReady(afterSeq: number, limit: number): ItemsTable[] | null {
    while (this.readyHead < this.ready.length && num((this.ready[this.readyHead] as ItemsTable).seq) <= afterSeq) this.readyHead++;
    if (this.readyHead > 1024) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    const head = this.ready[this.readyHead];
    if (!head || num(head.seq) !== afterSeq + 1) return null;
    return this.ready.slice(this.readyHead, this.readyHead + limit);
  }

  /** The highest sequence number the peer has acknowledged, as this runtime knows it. */
  get ackedSeq(): number {
    return this.acked;
  }

  /**
   * The peer's acknowledgement is recorded a moment later, one write for all the acks of
   * that moment: it needs no commit of its own per batch, because losing it (a crash) only
   * means resending items the peer then drops as duplicates.
   */
  private recordAckSoon(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.writeAck();
    }, ACK_WRITE_DELAY_MS);
  }

  private writeAck(): void {
    const seq = this.acked;
    this.ackWrite = this.ackWrite
      .then(() => recordAck(this.deps.db, this.lineId, seq, Date.now()))
      .catch((err) => this.deps.log.error({ err, line: this.lineId }, 'recording the acknowledgement failed'));
  }

  kick(): void {
    this.kicked = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.kicked || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async forwardLoop(): Promise<void> {
    const { db, log, hub } = this.deps;
    let backoff = 0;
    /** The last batch was acknowledged and the ready queue held nothing after it. */
    let drained = false;
    while (!this.stopped) {
      this.kicked = false;
      let rows: ItemsTable[];
      try {
        const ready = this.fromReady(this.acked, BATCH);
        // Just acknowledged, nothing of ours waiting: sleep without asking the database (once
        // per item when items go one at a time). Anything committed since wakes us (kick); the
        // sleep's end reads the database anyway, as it always did.
        rows = ready ?? (drained ? [] : await outgoingAfter(db, this.lineId, this.acked, BATCH));
        drained = false;
      } catch (e) {
        log.error({ err: e, line: this.lineId }, 'reading the outbox failed');
        await this.sleep(1000);
        continue;
      }
      if (rows.length === 0) {
        await this.sleep(1000);
        continue;
      }
      rows = rows.slice(0, batchFitting(rows));
      const items: FedItem[] = rows.map((r) => ({
        seq: num(r.seq),
        kind: r.kind as FedItem['kind'], // the outbox stores only what the client API let in: 'mls', and 'welcome' from the hub
        payload: Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength).toString('base64url'),
        sender: r.sender_handle,
        clientId: r.client_id,
        sentAt: num(r.sent_at),
      }));
      try {
        const res = await this.stream.push(items);
        backoff = 0;
        // Nothing committed while it was on its way (that would have kicked us), all of it taken.
        drained = !this.kicked && res.ackedSeq >= (items[items.length - 1] as FedItem).seq;
        if (this.refusal) {
          log.info({ line: this.lineId, seq: this.refusal.seq }, 'peer takes our stream again');
          this.refusal = null;
          void this.refreshHealth();
        }
        if (res.ackedSeq > this.acked) {
          this.acked = res.ackedSeq;
          this.recordAckSoon();
          hub.emit({ type: 'delivered', lineId: this.lineId, seq: res.ackedSeq });
        }
      } catch (e) {
        if (e instanceof PeerRefusal && e.code === 'SEQ_GAP' && typeof e.body.ackedSeq === 'number') {
          // The peer holds less than we thought (our record of its ack was ahead, or it was
          // restored from a backup): resend from what it really holds.
          log.warn({ line: this.lineId, ours: this.acked, theirs: e.body.ackedSeq }, 'peer asked to resend from an earlier point');
          this.acked = Math.min(this.acked, e.body.ackedSeq);
          continue;
        }
        if (e instanceof PeerRefusal && this.refusal?.code !== e.code) {
          // The peer answered, and said no: the stream is held at this batch until it takes
          // it. Say so where operators look (line status, the client API, /metrics).
          this.refusal = { seq: items[0]?.seq ?? 0, code: e.code, message: e.message.slice(0, 500), since: Date.now() };
          void this.refreshHealth();
        }
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, backoff * 2));
        log.warn(
          { line: this.lineId, code: (e as { code?: string }).code, msg: (e as Error).message, retryInMs: backoff },
          'forwarding failed',
        );
        await this.sleep(backoff);
      }
    }
  }

  /** Probe one endpoint; any signed answer is contact. Then refresh the line's health. */
  private async probe(url: string): Promise<void> {
    const { db, key, log, heartbeatMs } = this.deps;
    const line = await lineById(db, this.lineId);
    if (!line || this.stopped) return;
    const body = { sentSeq: num(line.out_seq), ackedSeq: num(line.in_seq), at: Date.now() };
    try {
      const single = new Endpoints([url]);
      const res = await fedPost(key, this.peerKey, single, `fed/v1/lines/${this.lineId}/heartbeat`, body, Heartbeat, {
        timeoutMs: Math.min(5000, Math.max(1000, 2 * heartbeatMs)),
      });
      this.endpoints.markUp(url);
      await recordHeartbeat(db, this.lineId, res.sentSeq, res.ackedSeq, Date.now());
      if (res.ackedSeq < num(line.out_seq)) this.kick();
    } catch (e) {
      if (e instanceof PeerRefusal) {
        this.endpoints.markUp(url);
        log.warn({ line: this.lineId, code: e.code }, 'peer refused heartbeat');
      } else {
        this.endpoints.markDown(url, (e as Error).message);
      }
    }
    if (!this.stopped) await this.refreshHealth();
  }

  /** Recompute health, record it, tell clients if it changed. Calls during a refresh coalesce into one more. */
  private refreshHealth(): Promise<void> {
    if (this.healthRefresh) {
      this.healthDirty = true;
      return this.healthRefresh;
    }
    this.healthRefresh = (async () => {
      do {
        this.healthDirty = false;
        await this.writeHealth();
      } while (this.healthDirty && !this.stopped);
    })().finally(() => {
      this.healthRefresh = null;
    });
    return this.healthRefresh;
  }

  /** The peer's refusal of our next batch, while it lasts. */
  refusal: PeerRefusalView | null = null;

  private async writeHealth(): Promise<void> {
    const { db, hub } = this.deps;
    const h = await this.health();
    // Recomputed at every probe: no reason to wait for the disk (see derived-writes.ts).
    await derivedTransaction(db, (trx) =>
      trx
        .updateTable('lines')
        .set({
          health: h,
          health_at: Date.now(),
          endpoints: JSON.stringify(this.endpoints.states),
          peer_refusal: this.refusal ? JSON.stringify(this.refusal) : null,
        })
        .where('id', '=', this.lineId)
        .execute(),
    );
    const refusal = this.refusal ? `${this.refusal.seq}:${this.refusal.code}` : null;
    if (h !== this.lastHealth || refusal !== this.lastRefusal) {
      this.lastHealth = h;
      this.lastRefusal = refusal;
      hub.emit({ type: 'health', lineId: this.lineId });
    }
  }

  async health(now = Date.now()): Promise<Health> {
    const { db, heartbeatMs } = this.deps;
    const line = await lineById(db, this.lineId);
    if (!line) return 'down';
    const oldest = await prepared<{ lineId: string; after: number }, { stored_at: number }>(db, 'items.oldestUnacked', (db, p) =>
      db
        .selectFrom('items')
        .select('stored_at')
        .where('line_id', '=', p('lineId'))
        .where('dir', '=', 'out')
        .where('seq', '>', p('after'))
        .orderBy('seq')
        .limit(1),
    ).first(db, { lineId: this.lineId, after: Math.max(num(line.out_acked), this.acked) });
    const backlogIn = num(line.peer_sent_seq) - num(line.in_seq);
    if (backlogIn > 0) this.inBacklogSince ??= now;
    else this.inBacklogSince = null;
    return computeHealth({
      now,
      intervalMs: heartbeatMs,
      lastContactAt: line.last_contact_at === null ? null : num(line.last_contact_at),
      anyEndpointDown: this.endpoints.anyDown(),
      oldestUnackedAgeMs: oldest ? now - num(oldest.stored_at) : null,
      inBacklogAgeMs: this.inBacklogSince === null ? null : now - this.inBacklogSince,
      peerRefusing: this.refusal !== null,
    });
  }
}

/** How many of `rows`, from the first, make a batch within BATCH_BYTES (always at least one). */
function batchFitting(rows: ItemsTable[]): number {
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    bytes += Math.ceil(((rows[i] as ItemsTable).payload.byteLength * 4) / 3) + 256;
    if (i > 0 && bytes > BATCH_BYTES) return i;
  }
  return rows.length;
}

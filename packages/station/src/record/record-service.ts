import { createHash } from 'node:crypto';
import {
  checkPeerHead,
  type CosignedHead,
  cosign,
  type Direction,
  headSigningBytes,
  type Inconsistency,
  type RecordEntry,
  RecordError,
  RecordLog,
  type Side,
  type StationKeys,
  sameHead,
  type TreeHead,
  verifyHeadSignature,
} from '@parley/record';
import { ParleyError, RECORDER_HANDLE } from '@parley/protocol';
import { Gauge } from 'prom-client';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost } from '../federation/fed-client.js';
import { type LineRow, lineById, num } from '../lines/line-store.js';
import { nodeEd25519Verify } from '../identity/station-key.js';
import type { StationContext } from '../station-context.js';
import { FedRecordHeadAnswer, type FedRecordHeadRequest } from './record-wire.js';
import {
  actorOf,
  encodeRecordItem,
  entryEventOf,
  entryTime,
  itemHash,
  parseCallItem,
  parseRecordItem,
  type StatedEntry,
  toIso,
} from './record-items.js';
import {
  type AlarmReason,
  alarmCounts,
  alarmsOf,
  cosignedHeads,
  loadRecord,
  type RecordAlarm,
  raiseAlarm,
  storeFolded,
  storeHeadSignature,
} from './record-store.js';

/** How often the service looks at the lines this process runs. */
const STEP_MS = 250;
/** At most one head signed and sent per line this often, whatever the traffic. */
const SIGN_EVERY_MS = 500;
/** A head the peer has not cosigned yet is sent again after this long. */
const RESEND_MS = 3000;
/** The hub writes a receipt of new items at most this often… */
const RECEIPT_EVERY_MS = 1000;
/** …with at most this many hashes in one entry. */
const RECEIPT_MAX = 500;
const RECEIPT_ROUNDS = 20;
/**
 * A record item must fit an item payload (64 KiB) with room to spare: a payload the peer refuses
 * would stop the hub's whole stream. 500 hashes take about 33 KB.
 */
const RECORD_ITEM_MAX_BYTES = 48 * 1024;
const FOLD_BATCH = 500;
/** How far ahead of our clock the hub may date an entry (the call core's own allowance). */
const CLOCK_SKEW_MS = 5 * 60_000;
/** The hub compares the group's roster with the record's this often. */
const ROSTER_EVERY_MS = 2000;

const DIRS: readonly { dir: Direction; hubDir: 'out' | 'in'; short: string }[] = [
  { dir: 'inviter_to_acceptor', hubDir: 'out', short: 'ia' },
  { dir: 'acceptor_to_inviter', hubDir: 'in', short: 'ai' },
];

interface LineState {
  lineId: string;
  side: Side;
  peerSide: Side;
  keys: StationKeys;
  peerKey: Uint8Array;
  log: RecordLog;
  foldedSeq: number;
  holdFrom: number | null;
  heads: Map<number, CosignedHead>;
  /** Largest size both stations signed. */
  cosignedSize: number;
  /** Last seq of each direction a receipt in the log covers. */
  receipted: Record<Direction, number>;
  lastReceiptAt: number;
  /** The group's devices as the roster entries so far leave them, and the last epoch stated. */
  roster: Set<string>;
  rosterEpoch: number;
  lastRosterAt: number;
  lastPost: { size: number; at: number };
  posting: boolean;
  /** Heads the peer signed beyond our log, compared once we reach them. */
  pendingPeer: Map<number, { head: TreeHead; signature: string }>;
  /** Set when the stored record cannot be loaded: nothing is folded or signed on this line. */
  broken: string | null;
}

export interface RecordStatus {
  lineId: string;
  side: Side;
  size: number;
  rootHash: string;
  foldedSeq: number;
  /** First entry this station refuses to sign, if any. */
  holdFrom: number | null;
  cosigned: CosignedHead | null;
  alarms: RecordAlarm[];
  broken: string | null;
  entries?: readonly RecordEntry[];
}

/**
 * The joint record of every line this process runs. Each station folds the hub's stream into
 * the record on its own (record-items.ts says how), signs the head of what it folded and sends
 * the signature to the peer, which signs back when its own fold agrees. A head counts once both
 * signed it. The hub also states what only it can: the line_linked entry 0 and receipts of the
 * hashes of every other item on both streams, which the other station checks against its copy.
 * Any disagreement is an alarm, stored with its evidence.
 */
export class RecordService {
  private readonly states = new Map<string, LineState>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly busy = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly ctx: StationContext) {
    registerMetrics(ctx);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), STEP_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    const held = new Set(this.ctx.lines.heldLineIds());
    for (const lineId of this.states.keys()) if (!held.has(lineId)) this.states.delete(lineId); // another process runs it now
    for (const lineId of held) {
      if (this.busy.has(lineId)) continue;
      this.busy.add(lineId);
      void this.serial(lineId, () => this.step(lineId))
        .catch((err) => this.ctx.log.error({ err, line: lineId }, 'joint record step failed'))
        .finally(() => this.busy.delete(lineId));
    }
  }

  /** One thing at a time per line in this process: the fold, the hub's own entries, the peer's heads. */
  private serial<T>(lineId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(lineId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.chains.set(
      lineId,
      next.catch(() => {}),
    );
    return next;
  }

  private async step(lineId: string): Promise<void> {
    if (this.stopped) return;
    const line = await lineById(this.ctx.db, lineId);
    if (!line) return;
    const st = await this.state(line);
    if (st.broken) return;
    const hub = line.role === 'inviter';
    if (hub && st.log.size === 0) await this.emitLinked(line);
    // A fold that lost its race to another process of this station leaves `st` holding entries
    // that were never stored: nothing more may be stated, signed or judged from it (a head
    // signed over it contradicts the record both stations keep). The next step reloads.
    await this.fold(line, st);
    if (st.broken) return;
    if (hub && Date.now() - st.lastReceiptAt >= RECEIPT_EVERY_MS) {
      st.lastReceiptAt = Date.now();
      if (await this.emitReceipts(line, st)) await this.fold(line, st);
      if (st.broken) return;
    }
    if (hub && Date.now() - st.lastRosterAt >= ROSTER_EVERY_MS) {
      st.lastRosterAt = Date.now();
      if (await this.emitRoster(line, st)) await this.fold(line, st);
      if (st.broken) return;
    }
    await this.comparePending(line, st);
    this.maybeSend(line, st);
  }

  private async state(line: LineRow): Promise<LineState> {
    const existing = this.states.get(line.id);
    if (existing) return existing;
    const st = await this.load(line);
    if (this.ctx.lines.heldLineIds().includes(line.id)) this.states.set(line.id, st);
    return st;
  }

  private async load(line: LineRow): Promise<LineState> {
    const side: Side = line.role === 'inviter' ? 'inviter' : 'acceptor';
    const own = Buffer.from(this.ctx.data.key.publicKey).toString('base64url');
    const peer = Buffer.from(line.peer_public_key).toString('base64url');
    const keys: StationKeys = side === 'inviter' ? { inviterKey: own, acceptorKey: peer } : { inviterKey: peer, acceptorKey: own };
    const base = {
      lineId: line.id,
      side,
      peerSide: (side === 'inviter' ? 'acceptor' : 'inviter') as Side,
      keys,
      peerKey: new Uint8Array(line.peer_public_key),
      cosignedSize: 0,
      receipted: { inviter_to_acceptor: 0, acceptor_to_inviter: 0 },
      lastReceiptAt: 0,
      roster: new Set<string>(),
      rosterEpoch: -1,
      lastRosterAt: 0,
      lastPost: { size: 0, at: 0 },
      posting: false,
      pendingPeer: new Map(),
    };
    let stored: Awaited<ReturnType<typeof loadRecord>>;
    try {
      stored = await loadRecord(this.ctx.db, line.id);
    } catch (e) {
      // A stored entry that no longer fits the log: someone changed the database under us.
      const detail = `the stored joint record of line ${line.name} does not load: ${(e as Error).message}`;
      await this.alarm(line, 'LOCAL_RECORD_CHANGED', 'load', detail, { error: (e as Error).message });
      return { ...base, log: new RecordLog(line.id), foldedSeq: 0, holdFrom: 0, heads: new Map(), broken: detail };
    }
    const st: LineState = { ...base, ...stored, broken: null };
    // Check our own storage against what we signed: a changed row must not be signed again.
    let hold = st.holdFrom;
    const holdAt = (i: number) => {
      hold = hold === null ? i : Math.min(hold, i);
    };
    for (const idx of stored.changedLeaves) {
      holdAt(idx);
      await this.alarm(
        line,
        'LOCAL_RECORD_CHANGED',
        `leaf:${idx}`,
        `stored entry ${idx} of line ${line.name} no longer has its leaf hash`,
        {
          entry: st.log.entry(idx),
        },
      );
    }
    for (const h of stored.heads.values()) {
      if (h.head.size > st.log.size) continue;
      const check = st.log.checkHead(h.head);
      if (check.ok) continue;
      holdAt(0);
      await this.alarm(
        line,
        'LOCAL_RECORD_CHANGED',
        `head:${h.head.size}`,
        `the stored record of line ${line.name} no longer matches the head of size ${h.head.size} this station signed: ${check.message}`,
        {
          head: h,
          rootNow: st.log.rootHash(h.head.size),
        },
      );
    }
    st.holdFrom = hold;
    for (const h of stored.heads.values())
      if (h.signatures.inviter && h.signatures.acceptor) st.cosignedSize = Math.max(st.cosignedSize, h.head.size);
    for (const e of st.log.entries()) this.noteEntry(st, e);
    return st;
  }

  private noteEntry(st: LineState, e: RecordEntry): void {
    if (e.type === 'items') st.receipted[e.dir] = Math.max(st.receipted[e.dir], e.hashes[e.hashes.length - 1]!.seq);
    if (e.type === 'roster_changed') {
      for (const d of e.removed) st.roster.delete(d);
      for (const d of e.added) st.roster.add(d);
      st.rosterEpoch = Math.max(st.rosterEpoch, e.epoch);
    }
  }

  private async alarm(line: LineRow, reason: AlarmReason, key: string, detail: string, evidence: unknown): Promise<void> {
    if (await raiseAlarm(this.ctx.db, line.id, `${reason}:${key}`, reason, detail, evidence)) {
      this.ctx.log.error({ line: line.name, reason, detail }, 'JOINT RECORD ALARM');
    }
  }

  // ---- The hub's own entries -------------------------------------------------------------

  private async appendRecordItem(line: LineRow, entry: StatedEntry, clientId: string): Promise<void> {
    const payload = encodeRecordItem(entry);
    // Never put on the stream what the other station would refuse (FED_BAD_ITEM stops the stream).
    const check = parseRecordItem(payload);
    if (!check.ok || payload.length > RECORD_ITEM_MAX_BYTES) {
      throw new Error(`the hub made a record item it cannot send (${check.ok ? `${payload.length} bytes` : check.reason})`);
    }
    await this.ctx.outbox.append({
      lineId: line.id,
      kind: 'record',
      payload,
      senderHandle: RECORDER_HANDLE,
      clientId,
      sentAt: Date.now(),
    });
  }

  /**
   * At the hub: state a readout's publication (its own side's, or the other station's passed on
   * signed). The caller checks the citations against the log first (readouts/readout-desk.ts): an
   * entry the log refuses would be dropped by both folds. One client id per readout, so a retry
   * appends nothing twice.
   */
  async stateReadout(line: LineRow, entry: Omit<Extract<StatedEntry, { type: 'readout_published' }>, 'at'>): Promise<void> {
    await this.serial(line.id, async () => {
      const st = await this.state(line);
      await this.appendRecordItem(line, { ...entry, at: entryTime(toIso(Date.now()), st.log.lastAt) }, `readout-${entry.readoutId}`);
    });
  }

  /**
   * Entry 0. Its time is the line's creation at the hub: earlier than anything on the line's
   * streams, and carried in the item, so the other station needs no clock of its own for it.
   */
  private async emitLinked(line: LineRow): Promise<void> {
    const own = Buffer.from(this.ctx.data.key.publicKey).toString('base64url');
    await this.appendRecordItem(
      line,
      {
        type: 'line_linked',
        lineId: line.id,
        lineName: line.name,
        inviterKey: own,
        acceptorKey: Buffer.from(line.peer_public_key).toString('base64url'),
        at: toIso(num(line.created_at)),
        by: { side: 'inviter' },
      },
      'record-line-linked',
    );
  }

  /**
   * Receipts: the SHA-256 of every item on both streams (but the record's own items, which are
   * in the record as themselves), in seq order, from a gap-free run only, so a later item never
   * gets a receipt before an earlier one is stored.
   */
  private async emitReceipts(line: LineRow, st: LineState): Promise<boolean> {
    let emitted = false;
    for (const d of DIRS) {
      // Several full receipts in one go when traffic runs ahead (up to 10,000 items a second).
      let from = st.receipted[d.dir];
      for (let round = 0; round < RECEIPT_ROUNDS; round++) {
        const rows = await this.ctx.db
          .selectFrom('items')
          .select(['seq', 'kind', 'payload'])
          .where('line_id', '=', line.id)
          .where('dir', '=', d.hubDir)
          .where('seq', '>', from)
          .orderBy('seq')
          .limit(RECEIPT_MAX)
          .execute();
        const hashes: { seq: number; sha256: string }[] = [];
        let expect = from + 1;
        for (const r of rows) {
          if (num(r.seq) !== expect) break;
          expect++;
          if (r.kind !== 'record') hashes.push({ seq: num(r.seq), sha256: itemHash(new Uint8Array(r.payload)) });
        }
        if (hashes.length === 0) break;
        const at = entryTime(toIso(Date.now()), st.log.lastAt);
        await this.appendRecordItem(
          line,
          { type: 'items', dir: d.dir, hashes, at, by: { side: 'inviter' } },
          `record-${d.short}-${hashes[0]!.seq}`,
        );
        emitted = true;
        from = hashes[hashes.length - 1]!.seq;
        if (rows.length < RECEIPT_MAX) break;
      }
    }
    return emitted;
  }

  /**
   * Roster changes, stated by the hub from its recorder's group (the other station cannot read a
   * commit's removals without the group's tree): the devices added and removed since the last
   * roster entry, once the commit of that epoch is on the stream. Commits that change no device
   * (members refreshing their keys) make no entry. Device ids are prefixed with their side
   * (`i-`, `a-`), since both recorders of a line share one id.
   */
  private async emitRoster(line: LineRow, st: LineState): Promise<boolean> {
    const view = await this.ctx.lines.runningRecorder(line.id)?.rosterView();
    if (!view || view.epoch <= st.rosterEpoch) return false;
    const committed = await this.ctx.db
      .selectFrom('items')
      .select('seq')
      .where('line_id', '=', line.id)
      .where('dir', '=', 'out')
      .where('sender_handle', '=', RECORDER_HANDLE)
      .where('client_id', '=', `commit-e${view.epoch}`)
      .executeTakeFirst();
    if (!committed) return false;
    const own = this.ctx.data.config.name;
    const now = new Set(view.devices.map((d) => qualifiedDevice(d.station === own ? 'inviter' : 'acceptor', d.deviceId)));
    const added = [...now].filter((d) => !st.roster.has(d)).sort();
    const removed = [...st.roster].filter((d) => !now.has(d)).sort();
    if (added.length === 0 && removed.length === 0) return false;
    const at = entryTime(toIso(Date.now()), st.log.lastAt);
    await this.appendRecordItem(
      line,
      {
        type: 'roster_changed',
        epoch: view.epoch,
        added: added.slice(0, 1000),
        removed: removed.slice(0, 1000),
        at,
        by: { side: 'inviter' },
      },
      `record-roster-e${view.epoch}`,
    );
    return true;
  }

  // ---- The fold ------------------------------------------------------------------------------

  private async fold(line: LineRow, st: LineState): Promise<void> {
    const hubDir = line.role === 'inviter' ? 'out' : 'in';
    if (st.log.size === 0 && !(await this.foldLinked(line, st, hubDir))) return;
    // Another process of this station may have folded since this one last did (the line moved
    // between processes and back): judging new items from a stale state would raise false alarms.
    const folded = await this.ctx.db.selectFrom('record_folds').select('folded_seq').where('line_id', '=', line.id).executeTakeFirst();
    if (folded && num(folded.folded_seq) !== st.foldedSeq) {
      this.states.delete(line.id);
      st.broken = 'reloading';
      return;
    }
    for (;;) {
      const rows = await this.ctx.db
        .selectFrom('items')
        .select(['seq', 'kind', 'payload'])
        .where('line_id', '=', line.id)
        .where('dir', '=', hubDir)
        .where('kind', 'in', ['call', 'record'])
        .where('seq', '>', st.foldedSeq)
        .orderBy('seq')
        .limit(FOLD_BATCH)
        .execute();
      if (rows.length === 0 || this.stopped) return;
      const entries: RecordEntry[] = [];
      let hold = st.holdFrom;
      const receipted = { ...st.receipted };
      for (const row of rows) {
        const seq = num(row.seq);
        const entry = this.entryOf(st, row.kind, new Uint8Array(row.payload), seq, line);
        if (!entry) continue;
        try {
          st.log.append(entry);
        } catch (e) {
          // Both stations refuse the same entry in the same place, so the logs stay equal.
          if (!(e instanceof RecordError)) throw e;
          this.ctx.log.warn(
            { line: line.name, seq, code: e.code, err: e.message },
            'an item of the hub\u2019s stream makes no record entry',
          );
          continue;
        }
        entries.push(entry);
        // The hub dates every entry; the other station vouches for no time far ahead of its own clock.
        if (line.role === 'acceptor' && Date.parse(entry.at) > Date.now() + CLOCK_SKEW_MS) {
          hold = hold === null ? entry.index : Math.min(hold, entry.index);
          await this.alarm(
            line,
            'ENTRY_IN_FUTURE',
            `entry:${entry.index}`,
            `the hub dated entry ${entry.index} ${entry.at}, ahead of this station's clock`,
            {
              entry,
              foldedAt: toIso(Date.now()),
            },
          );
        }
        if (entry.type === 'items') {
          if (line.role === 'acceptor' && !(await this.checkReceipt(line, entry, receipted[entry.dir]))) {
            hold = hold === null ? entry.index : Math.min(hold, entry.index);
          }
          receipted[entry.dir] = entry.hashes[entry.hashes.length - 1]!.seq;
        }
      }
      const toSeq = num(rows[rows.length - 1]!.seq);
      const stored = await storeFolded(this.ctx.db, line.id, st.foldedSeq, toSeq, entries, hold);
      if (!stored) {
        // Another process folded first: our log is ahead of what is stored; start again from the database.
        this.states.delete(line.id);
        st.broken = 'reloading';
        return;
      }
      st.foldedSeq = toSeq;
      st.holdFrom = hold;
      st.receipted = receipted;
      for (const e of entries) this.noteEntry(st, e);
    }
  }

  /** Entry 0: the first line_linked item on the hub's stream, wherever it is; the fold then starts from the stream's beginning. */
  private async foldLinked(line: LineRow, st: LineState, hubDir: 'out' | 'in'): Promise<boolean> {
    let after = 0;
    for (;;) {
      const rows = await this.ctx.db
        .selectFrom('items')
        .select(['seq', 'payload'])
        .where('line_id', '=', line.id)
        .where('dir', '=', hubDir)
        .where('kind', '=', 'record')
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(100)
        .execute();
      if (rows.length === 0) return false;
      for (const row of rows) {
        after = num(row.seq);
        const parsed = parseRecordItem(new Uint8Array(row.payload));
        if (!parsed.ok || parsed.entry.type !== 'line_linked') continue;
        const entry = { ...parsed.entry, index: 0 } as RecordEntry;
        let hold: number | null = null;
        if (entry.type === 'line_linked' && line.role === 'acceptor') {
          const problems: string[] = [];
          if (entry.lineId !== line.id) problems.push(`it links line ${entry.lineId}`);
          if (entry.inviterKey !== st.keys.inviterKey) problems.push('its inviter key is not the key pinned for the hub');
          if (entry.acceptorKey !== st.keys.acceptorKey) problems.push('its acceptor key is not this station\u2019s');
          if (problems.length > 0) {
            hold = 0;
            await this.alarm(line, 'LINK_MISMATCH', 'linked', `the hub's entry 0 does not link this line: ${problems.join('; ')}`, {
              entry,
            });
          }
        }
        try {
          st.log.append(entry);
        } catch (e) {
          this.ctx.log.error({ line: line.name, err: (e as Error).message }, 'the hub\u2019s line_linked entry does not start the record');
          return false;
        }
        if (!(await storeFolded(this.ctx.db, line.id, 0, 0, [entry], hold))) {
          this.states.delete(line.id);
          st.broken = 'reloading';
          return false;
        }
        st.holdFrom = hold;
        return true;
      }
    }
  }

  private entryOf(st: LineState, kind: string, payload: Uint8Array, seq: number, line: LineRow): RecordEntry | undefined {
    const lastAt = st.log.lastAt;
    if (kind === 'call') {
      const ev = parseCallItem(payload);
      if (!ev) {
        this.ctx.log.warn({ line: line.name, seq }, 'a call item that is not a call or test event');
        return undefined;
      }
      return st.log.nextEntry(entryEventOf(ev), actorOf(ev.by), entryTime(toIso(ev.at), lastAt));
    }
    const parsed = parseRecordItem(payload);
    if (!parsed.ok) {
      this.ctx.log.warn({ line: line.name, seq, reason: parsed.reason }, 'a record item that makes no entry');
      return undefined;
    }
    if (parsed.entry.type === 'line_linked') return undefined; // entry 0, made already
    return { ...parsed.entry, index: st.log.size, at: entryTime(parsed.entry.at, lastAt) } as RecordEntry;
  }

  /**
   * The other station's check of a receipt: each hash against its own copy of the item (what it
   * sent, what it received), and no item left out since the last receipt. False (and an alarm)
   * when the hub recorded something this station did not send or receive.
   */
  private async checkReceipt(line: LineRow, entry: Extract<RecordEntry, { type: 'items' }>, prev: number): Promise<boolean> {
    // The hub's outgoing stream is what we received; the hub's incoming stream is what we sent.
    const ourDir = entry.dir === 'inviter_to_acceptor' ? 'in' : 'out';
    const last = entry.hashes[entry.hashes.length - 1]!.seq;
    const rows = await this.ctx.db
      .selectFrom('items')
      .select(['seq', 'kind', 'payload'])
      .where('line_id', '=', line.id)
      .where('dir', '=', ourDir)
      .where('seq', '>', Math.min(prev, entry.hashes[0]!.seq - 1))
      .where('seq', '<=', last)
      .orderBy('seq')
      .execute();
    const ours = new Map(rows.map((r) => [num(r.seq), r]));
    const problems: { seq: number; problem: string; recorded?: string; ours?: string }[] = [];
    const listed = new Set<number>();
    for (const h of entry.hashes) {
      listed.add(h.seq);
      const row = ours.get(h.seq);
      if (!row) problems.push({ seq: h.seq, problem: 'this station holds no such item', recorded: h.sha256 });
      else if (row.kind === 'record') problems.push({ seq: h.seq, problem: 'a record item is not receipted' });
      else {
        const mine = itemHash(new Uint8Array(row.payload));
        if (mine !== h.sha256)
          problems.push({ seq: h.seq, problem: 'the hash is not that of the item this station holds', recorded: h.sha256, ours: mine });
      }
    }
    for (const r of rows) {
      const seq = num(r.seq);
      if (seq > prev && r.kind !== 'record' && !listed.has(seq)) problems.push({ seq, problem: 'the receipt leaves this item out' });
    }
    if (problems.length === 0) return true;
    await this.alarm(
      line,
      'RECEIPT_MISMATCH',
      `entry:${entry.index}`,
      `the hub's receipt (entry ${entry.index}, ${entry.dir}) disagrees with this station's items at seq ${problems
        .map((p) => p.seq)
        .slice(0, 10)
        .join(', ')}`,
      { entry, problems: problems.slice(0, 100) },
    );
    return false;
  }

  // ---- Heads ---------------------------------------------------------------------------------

  /** The head of our log at `size`, dated by its last entry so both stations sign the same bytes. */
  private headAt(st: LineState, size: number): TreeHead {
    return st.log.head(st.log.entry(size - 1).at, size);
  }

  private signLimit(st: LineState): number {
    return Math.min(st.log.size, st.holdFrom ?? Number.POSITIVE_INFINITY);
  }

  /** Our signature on our own head (made once, kept). */
  private async ownSignature(st: LineState, head: TreeHead): Promise<string> {
    if (st.broken) throw new Error(`not signing: ${st.broken}`);
    const known = st.heads.get(head.size);
    const have = known && sameHead(known.head, head) ? known.signatures[st.side] : undefined;
    if (have) return have;
    const sig = Buffer.from(this.ctx.data.key.sign(headSigningBytes(head))).toString('base64url');
    await storeHeadSignature(this.ctx.db, head, st.side, sig);
    st.heads.set(head.size, cosign(known && sameHead(known.head, head) ? known : head, st.side, sig));
    return sig;
  }

  private async storePeerSignature(st: LineState, head: TreeHead, signature: string): Promise<void> {
    await storeHeadSignature(this.ctx.db, head, st.peerSide, signature);
    const known = st.heads.get(head.size);
    st.heads.set(head.size, cosign(known && sameHead(known.head, head) ? known : head, st.peerSide, signature));
    const both = st.heads.get(head.size)!;
    if (both.signatures.inviter && both.signatures.acceptor) st.cosignedSize = Math.max(st.cosignedSize, head.size);
    // Memory keeps the recent heads only; every head stays in the database (evidence reads it there).
    if (st.heads.size > 64) {
      for (const size of [...st.heads.keys()].sort((a, b) => a - b).slice(0, st.heads.size - 32)) {
        if (size !== st.cosignedSize) st.heads.delete(size);
      }
    }
  }

  /**
   * The peer presented `presented` (signed by it), and it is not our head of that size. The
   * evidence names the head the peer signed before that it contradicts, when there is one (then
   * the peer's key is on two histories that cannot both be true), or else our own head.
   */
  private async peerInconsistent(line: LineRow, st: LineState, presented: CosignedHead): Promise<void> {
    const n = presented.head.size;
    const cosigned = await cosignedHeads(this.ctx.db, line.id);
    const same = cosigned.find((h) => h.head.size === n);
    const later = cosigned.filter((h) => h.head.size > n && h.head.size <= st.log.size).sort((a, b) => a.head.size - b.head.size)[0];
    let evidence: Inconsistency | undefined;
    const check = (previous: CosignedHead, proof: Uint8Array[]) => {
      const r = checkPeerHead(previous, presented, proof, st.keys);
      return r.consistent ? undefined : r.evidence;
    };
    if (same) evidence = check(same, []);
    else if (later) evidence = check(later, st.log.consistencyProof(n, later.head.size));
    if (!evidence) {
      const ours = this.headAt(st, n);
      const sig = n <= this.signLimit(st) ? await this.ownSignature(st, ours) : undefined;
      evidence = check(sig ? cosign(ours, st.side, sig) : { head: ours, signatures: {} }, []);
    }
    if (!evidence) return;
    const who = evidence.equivocatedBy.length > 0 ? ` The ${evidence.equivocatedBy.join(' and ')} station signed both.` : '';
    await this.alarm(
      line,
      'PEER_HEAD_INCONSISTENT',
      `${n}:${presented.head.rootHash}`,
      `the peer station signed a head of size ${n} that is not this station's record (${evidence.reason}).${who}`,
      evidence,
    );
  }

  private async comparePending(line: LineRow, st: LineState): Promise<void> {
    for (const [size, p] of st.pendingPeer) {
      if (size > st.log.size) continue;
      st.pendingPeer.delete(size);
      await this.judgePeerHead(line, st, p.head, p.signature);
    }
  }

  /** The peer's signed head of a size we hold: cosign it if it is ours, raise the alarm if not. */
  private async judgePeerHead(line: LineRow, st: LineState, head: TreeHead, signature: string): Promise<'cosigned' | 'mismatch' | 'held'> {
    const ours = this.headAt(st, head.size);
    if (!sameHead(ours, head)) {
      await this.peerInconsistent(line, st, { head, signatures: { [st.peerSide]: signature } });
      return 'mismatch';
    }
    if (head.size > this.signLimit(st)) return 'held';
    await this.ownSignature(st, ours);
    await this.storePeerSignature(st, head, signature);
    return 'cosigned';
  }

  private maybeSend(line: LineRow, st: LineState): void {
    const n = this.signLimit(st);
    if (n === 0 || n <= st.cosignedSize || st.posting) return;
    const now = Date.now();
    if (now - st.lastPost.at < (n === st.lastPost.size ? RESEND_MS : SIGN_EVERY_MS)) return;
    st.lastPost = { size: n, at: now };
    st.posting = true;
    void this.send(line, st, this.headAt(st, n))
      .catch((err) => this.ctx.log.debug({ line: line.name, err: (err as Error).message }, 'record head not delivered'))
      .finally(() => {
        st.posting = false;
      });
  }

  private async send(line: LineRow, st: LineState, head: TreeHead): Promise<void> {
    const signature = await this.serial(line.id, () => this.ownSignature(st, head));
    const body: FedRecordHeadRequest = { size: head.size, rootHash: head.rootHash, at: head.at, signature };
    const answer = await fedPost(
      this.ctx.data.key,
      line.peer_public_key,
      this.ctx.lines.runtime(line.id)?.endpoints ?? new Endpoints(JSON.parse(line.peer_urls) as string[]),
      `fed/v1/lines/${line.id}/record/heads`,
      body,
      FedRecordHeadAnswer,
    );
    await this.serial(line.id, async () => {
      if (answer.status === 'cosigned' && answer.signature && verifyHeadSignature(head, answer.signature, st.peerKey, nodeEd25519Verify)) {
        await this.storePeerSignature(st, head, answer.signature);
      } else if (answer.status === 'mismatch' && answer.head && answer.signature) {
        const theirs: TreeHead = { ...answer.head };
        if (
          theirs.lineId === line.id &&
          verifyHeadSignature(theirs, answer.signature, st.peerKey, nodeEd25519Verify) &&
          theirs.size <= st.log.size
        ) {
          await this.judgePeerHead(line, st, theirs, answer.signature);
        }
      }
    });
  }

  /** The peer sends its signed head (federation route). */
  async receivePeerHead(line: LineRow, body: FedRecordHeadRequest): Promise<FedRecordHeadAnswer> {
    const head: TreeHead = { lineId: line.id, size: body.size, rootHash: body.rootHash, at: body.at };
    if (!verifyHeadSignature(head, body.signature, line.peer_public_key, nodeEd25519Verify)) {
      throw new ParleyError('FED_BAD_SIGNATURE', 'the head signature does not verify against the pinned station key');
    }
    return this.serial(line.id, async () => {
      const st = await this.state(line);
      if (st.broken) throw new ParleyError('UNAVAILABLE', 'this station\u2019s record of the line is not available', 'see its alarms');
      if (head.size > st.log.size) {
        if (st.pendingPeer.size > 16) st.pendingPeer.delete(st.pendingPeer.keys().next().value as number);
        st.pendingPeer.set(head.size, { head, signature: body.signature });
        return { status: 'pending', size: st.log.size };
      }
      const verdict = await this.judgePeerHead(line, st, head, body.signature);
      if (verdict === 'cosigned') return { status: 'cosigned', size: head.size, signature: await this.ownSignature(st, head) };
      if (verdict === 'held') return { status: 'held', size: this.signLimit(st) };
      const ours = this.headAt(st, head.size);
      return head.size <= this.signLimit(st)
        ? { status: 'mismatch', size: head.size, head: ours, signature: await this.ownSignature(st, ours) }
        : { status: 'mismatch', size: head.size, head: ours };
    });
  }

  /** What a member (or an operator) may see of the line's record. */
  async status(line: LineRow, opts: { entries?: boolean } = {}): Promise<RecordStatus> {
    const st = await this.serial(line.id, () => (this.states.get(line.id) ? Promise.resolve(this.states.get(line.id)!) : this.load(line)));
    const cosigned = st.heads.get(st.cosignedSize);
    return {
      lineId: line.id,
      side: st.side,
      size: st.log.size,
      rootHash: st.log.rootHash(),
      foldedSeq: st.foldedSeq,
      holdFrom: st.holdFrom,
      cosigned: cosigned ?? null,
      alarms: await alarmsOf(this.ctx.db, line.id),
      broken: st.broken,
      ...(opts.entries ? { entries: st.log.entries() } : {}),
    };
  }
}

function registerMetrics(ctx: StationContext): void {
  const { db, metrics } = ctx;
  const byName = async () => new Map((await db.selectFrom('lines').select(['id', 'name']).execute()).map((l) => [l.id, l.name]));
  new Gauge({
    name: 'parley_record_alarms',
    help: 'Joint-record alarms stored per line (peer heads or receipts that disagree with this station\u2019s record)',
    labelNames: ['line'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      const names = await byName();
      const counts = await alarmCounts(db);
      for (const [id, name] of names) this.set({ line: name }, counts.get(id) ?? 0);
    },
  });
  new Gauge({
    name: 'parley_record_cosigned_size',
    help: 'Entries of the joint record under the last head both stations signed',
    labelNames: ['line'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      const names = await byName();
      const rows = await db
        .selectFrom('record_heads')
        .select(['line_id', db.fn.max('size').as('size')])
        .where('sig_inviter', 'is not', null)
        .where('sig_acceptor', 'is not', null)
        .groupBy('line_id')
        .execute();
      const sizes = new Map(rows.map((r) => [r.line_id, num(r.size as number)]));
      for (const [id, name] of names) this.set({ line: name }, sizes.get(id) ?? 0);
    },
  });
}

/** A device id in roster entries: its side first, hashed down when that would pass 64 characters. */
export function qualifiedDevice(side: Side, deviceId: string): string {
  const id = `${side === 'inviter' ? 'i' : 'a'}-${deviceId}`;
  return id.length <= 64 ? id : `${id.slice(0, 2)}${createHash('sha256').update(deviceId).digest('base64url')}`;
}

import type { LineRecord } from './e2ee/line-engine.js';
import type { PendingMessage } from './offline-queue.js';
import { type Reader, readBy, readersOf, type Side } from './receipts.js';

/**
 * One line's conversation as this device knows it: the records its engine made from the timeline
 * (in timeline order, one per position: a later record for a position replaces the earlier, as
 * when a message waiting for its keys is decrypted or one sent before this device joined is
 * loaded from the recorder), and how far the peer station has acknowledged our outgoing stream.
 * Pure: the connection feeds it events; the view derives entries from it.
 */
export interface TimelineState {
  records: LineRecord[];
  /** Our outgoing items with seq <= deliveredSeq are stored at the peer station. */
  deliveredSeq: number;
  /** The highest timeline position with a record. */
  cursor: number;
}

export const emptyTimeline: TimelineState = { records: [], deliveredSeq: 0, cursor: 0 };

export type TimelineEvent = { type: 'records'; records: readonly LineRecord[] } | { type: 'delivered'; seq: number };

/** Apply a batch of events. */
export function applyEvents(state: TimelineState, events: readonly TimelineEvent[]): TimelineState {
  if (events.length === 0) return state;
  let records = state.records;
  let copied = false;
  let deliveredSeq = state.deliveredSeq;
  let cursor = state.cursor;
  for (const ev of events) {
    if (ev.type === 'delivered') {
      deliveredSeq = Math.max(deliveredSeq, ev.seq);
      continue;
    }
    for (const r of ev.records) {
      if (!copied) {
        records = records.slice();
        copied = true;
      }
      const last = records[records.length - 1];
      if (!last || last.pos < r.pos) records.push(r);
      else {
        const i = lowerBound(records, r.pos);
        if (records[i]?.pos === r.pos) records[i] = r;
        else records.splice(i, 0, r);
      }
      cursor = Math.max(cursor, r.pos);
    }
  }
  if (!copied && deliveredSeq === state.deliveredSeq) return state;
  return { records, deliveredSeq, cursor };
}

function lowerBound(records: LineRecord[], pos: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as LineRecord).pos < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A record of something someone said (or tried to), as opposed to a change of the group, a call event or a read receipt. */
export function isMessageRecord(r: LineRecord): boolean {
  return r.body.t !== 'event' && r.body.t !== 'call' && r.body.t !== 'signal' && r.body.t !== 'receipt';
}

/**
 * What the officer sees beside a message:
 * - queued: typed while disconnected or before this device joined the group; kept (sealed) on
 *   this device and encrypted and sent when it can be
 * - sending: encrypted and on its way to our station, not yet back as an item
 * - accepted: our station has stored it durably
 * - delivered: the peer station has stored it too
 * - read: a member of the other side has seen it (their app sent an end-to-end encrypted receipt)
 * - failed: our station (or this device) refused it; the text is kept for a retry
 * - received: a message from the peer's side
 */
export type DeliveryState = 'queued' | 'sending' | 'accepted' | 'delivered' | 'read' | 'failed' | 'received';

export function deliveryOf(item: Pick<LineRecord, 'dir' | 'seq'>, deliveredSeq: number, readers: readonly Reader[] = []): DeliveryState {
  if (item.dir === 'in') return 'received';
  // A receipt can only come from the peer's side once the item reached it, so read implies delivered.
  if (readers.some((r) => r.seq >= item.seq)) return 'read';
  return item.seq <= deliveredSeq ? 'delivered' : 'accepted';
}

export type TimelineEntry =
  | { kind: 'record'; key: string; record: LineRecord; state: DeliveryState; readBy?: Reader[] }
  | { kind: 'event'; key: string; record: LineRecord }
  | { kind: 'pending'; key: string; pending: PendingMessage; state: 'queued' | 'sending' | 'failed' };

/**
 * Records in timeline order, then this device's pending messages. A pending message whose item
 * has already arrived is shown once, as the record: the queue entry is only a leftover.
 */
export function timelineEntries(
  state: TimelineState,
  pending: readonly PendingMessage[],
  opts: { connected: boolean; inFlight: ReadonlySet<string>; side?: Side | undefined },
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const stored = new Set<string>();
  const readers = readersOf(state.records, opts.side);
  for (const r of state.records) {
    if (r.dir === 'out' && r.clientId) stored.add(r.clientId);
    if (r.body.t === 'signal' || r.body.t === 'receipt') continue; // a call's WebRTC plumbing; read receipts
    if (isMessageRecord(r)) {
      const st = deliveryOf(r, state.deliveredSeq, readers);
      entries.push(
        st === 'read'
          ? { kind: 'record', key: `i${r.pos}`, record: r, state: st, readBy: readBy(readers, r.seq) }
          : { kind: 'record', key: `i${r.pos}`, record: r, state: st },
      );
    } else entries.push({ kind: 'event', key: `i${r.pos}`, record: r });
  }
  for (const p of pending) {
    if (stored.has(p.clientId)) continue;
    const st = p.status === 'failed' ? 'failed' : opts.connected && opts.inFlight.has(p.clientId) ? 'sending' : 'queued';
    entries.push({ kind: 'pending', key: `p${p.clientId}`, pending: p, state: st });
  }
  return entries;
}

/** How many messages were sent before this device joined (their text is at our station's recorder). */
export function beforeJoinCount(state: TimelineState): number {
  let n = 0;
  for (const r of state.records) if (r.body.t === 'before-join') n++;
  return n;
}

/** How many translations were made before this device joined (their text is at our station's recorder too). */
export function translationsBeforeJoinCount(state: TimelineState): number {
  let n = 0;
  for (const r of state.records) if (r.body.t === 'translation' && !r.body.secret.ok && r.body.secret.code === 'BEFORE_JOIN') n++;
  return n;
}

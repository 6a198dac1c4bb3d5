import type { Item } from '@parley/protocol';
import type { PendingMessage } from './offline-queue.js';

/**
 * One line's conversation as this browser knows it: the items the station has streamed (in
 * timeline order, each once) and how far the peer station has acknowledged our outgoing stream.
 * Pure: the connection feeds it events; the view derives entries from it.
 */
export interface TimelineState {
  items: Item[];
  /** Our outgoing items with seq <= deliveredSeq are stored at the peer station. */
  deliveredSeq: number;
  /** The highest timeline position seen: a reconnect resumes after it. */
  cursor: number;
}

export const emptyTimeline: TimelineState = { items: [], deliveredSeq: 0, cursor: 0 };

export type TimelineEvent = { type: 'item'; item: Item } | { type: 'delivered'; seq: number };

/** Apply a batch of events. Items arrive in order almost always; a repeat (same pos) is dropped. */
export function applyEvents(state: TimelineState, events: readonly TimelineEvent[]): TimelineState {
  if (events.length === 0) return state;
  let items = state.items;
  let copied = false;
  let deliveredSeq = state.deliveredSeq;
  let cursor = state.cursor;
  for (const ev of events) {
    if (ev.type === 'delivered') {
      deliveredSeq = Math.max(deliveredSeq, ev.seq);
      continue;
    }
    const item = ev.item;
    if (!copied) {
      items = items.slice();
      copied = true;
    }
    const last = items[items.length - 1];
    if (!last || last.pos < item.pos) items.push(item);
    else {
      const i = lowerBound(items, item.pos);
      if (items[i]?.pos !== item.pos) items.splice(i, 0, item);
    }
    cursor = Math.max(cursor, item.pos);
  }
  if (!copied && deliveredSeq === state.deliveredSeq) return state;
  return { items, deliveredSeq, cursor };
}

function lowerBound(items: Item[], pos: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as Item).pos < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * What the officer sees beside a message:
 * - queued: typed while disconnected; kept on this device and sent on reconnect
 * - sending: on its way to our station, not yet confirmed
 * - accepted: our station has stored it durably
 * - delivered: the peer station has stored it too
 * - failed: our station refused it; the text is kept for a retry
 * - received: a message from the peer's side
 */
export type DeliveryState = 'queued' | 'sending' | 'accepted' | 'delivered' | 'failed' | 'received';

export function deliveryOf(item: Pick<Item, 'dir' | 'seq'>, deliveredSeq: number): DeliveryState {
  if (item.dir === 'in') return 'received';
  return item.seq <= deliveredSeq ? 'delivered' : 'accepted';
}

export type TimelineEntry =
  | { kind: 'item'; key: string; item: Item; state: DeliveryState }
  | { kind: 'pending'; key: string; pending: PendingMessage; state: 'queued' | 'sending' | 'failed' };

/**
 * Stored items in timeline order, then this device's pending messages. A pending message whose
 * item has already arrived is shown once, as the item: the queue entry is only a leftover.
 */
export function timelineEntries(
  state: TimelineState,
  pending: readonly PendingMessage[],
  opts: { connected: boolean; inFlight: ReadonlySet<string> },
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const stored = new Set<string>();
  for (const item of state.items) {
    if (item.dir === 'out' && item.clientId) stored.add(item.clientId);
    entries.push({ kind: 'item', key: `i${item.pos}`, item, state: deliveryOf(item, state.deliveredSeq) });
  }
  for (const p of pending) {
    if (stored.has(p.clientId)) continue;
    const st = p.status === 'failed' ? 'failed' : opts.connected && opts.inFlight.has(p.clientId) ? 'sending' : 'queued';
    entries.push({ kind: 'pending', key: `p${p.clientId}`, pending: p, state: st });
  }
  return entries;
}

/** clientIds of our messages that the timeline shows as stored (their queue entries can go). */
export function storedClientIds(state: TimelineState): Set<string> {
  const ids = new Set<string>();
  for (const item of state.items) if (item.dir === 'out' && item.clientId) ids.add(item.clientId);
  return ids;
}

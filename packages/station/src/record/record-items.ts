import { createHash } from 'node:crypto';
import { checkLineEvent, type LineEvent } from '@parley/calls';
import { decodeLineEvent, encodeLineEvent } from '@parley/protocol';
import { type Actor, type EntryEvent, type RecordEntry, validateEntry } from '@parley/record';

// How the hub's stream becomes the joint record. The record is a fold of the hub's stream
// (items the inviting station ordered), so both stations compute it on their own from the same
// items in the same order: no entry is ever sent on its own, and there is no second ordering to
// disagree about. Two kinds of item make entries:
//   'call'   a call, test or policy event of @parley/calls → the matching call_* / test_* /
//            policy_set entry;
//   'record' an entry the hub states itself ({entry} without `index`), for what only the hub
//            can know: the line_linked entry 0, receipts of item hashes, roster changes.
// Everything here is pure, so both stations make the same entry from the same item.

/** What a record item may carry. Call and test entries come only from 'call' items, so the hub cannot state one its call book never saw. */
export const RECORD_ITEM_TYPES = ['line_linked', 'roster_changed', 'items', 'readout_published'] as const;
export type RecordItemType = (typeof RECORD_ITEM_TYPES)[number];

/** The entry a record item states: every field but `index`, which is its place in the fold. */
export type StatedEntry =
  Extract<RecordEntry, { type: RecordItemType }> extends infer E ? (E extends RecordEntry ? Omit<E, 'index'> : never) : never;

export function encodeRecordItem(entry: StatedEntry): Uint8Array {
  return new Uint8Array(Buffer.from(encodeLineEvent({ entry }), 'base64url'));
}

/**
 * A record item's entry, checked as far as it can be on its own (the closed schema of its type,
 * real times, canonical hashes); its place in the log is checked when it is appended.
 */
export function parseRecordItem(payload: Uint8Array): { ok: true; entry: StatedEntry } | { ok: false; reason: string } {
  const env = decodeLineEvent(payload);
  if (!env) return { ok: false, reason: 'a record event must be a JSON object' };
  const keys = Object.keys(env);
  if (keys.length !== 1 || keys[0] !== 'entry') return { ok: false, reason: 'a record event carries an entry and nothing else' };
  const entry = env.entry as Record<string, unknown> | null;
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return { ok: false, reason: 'a record event carries an entry' };
  if (!(RECORD_ITEM_TYPES as readonly unknown[]).includes(entry.type)) {
    return { ok: false, reason: `a record event may state ${RECORD_ITEM_TYPES.join(', ')} only` };
  }
  if ('index' in entry) return { ok: false, reason: 'a record event leaves the index to the log' };
  // index 0 for the schema only: validateEntry checks form, not place.
  const checked = validateEntry({ ...entry, index: 0 });
  if (!checked.ok) {
    const first = checked.errors[0];
    return { ok: false, reason: `the record entry ${first?.path || '/'}: ${first?.message ?? 'is invalid'}` };
  }
  return { ok: true, entry: entry as unknown as StatedEntry };
}

/** A call item's event, if it is one the call core would read. */
export function parseCallItem(payload: Uint8Array): LineEvent | undefined {
  const env = decodeLineEvent(payload);
  const ev = env?.event as { action?: unknown } | undefined;
  if (!ev || typeof ev !== 'object') return undefined;
  const checked = checkLineEvent(ev);
  return checked.ok ? checked.value : undefined;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The call core's author ({side, handle} or {side, station: true}) as the record's actor. */
export function actorOf(by: LineEvent['by']): Actor {
  return 'handle' in by ? { side: by.side, handle: by.handle } : { side: by.side };
}

/** One entry per action of the call core. */
export function entryEventOf(ev: LineEvent): EntryEvent {
  if (ev.action === 'test_sent' || ev.action === 'test_acknowledged' || ev.action === 'test_unanswered') {
    return { type: ev.action, testId: ev.testId };
  }
  if (ev.action === 'policy_set') return { type: 'policy_set', policy: ev.policy };
  const callId = ev.callId;
  switch (ev.action) {
    case 'request':
      return { type: 'call_requested', callId, talkId: ev.talkId, urgency: ev.urgency, ...(ev.to !== undefined ? { to: ev.to } : {}) };
    case 'acknowledge':
      return { type: 'call_acknowledged', callId };
    case 'accept':
      return { type: 'call_accepted', callId, ...(ev.scheduledFor !== undefined ? { scheduledFor: toIso(ev.scheduledFor) } : {}) };
    case 'decline':
      return { type: 'call_declined', callId };
    case 'cancel':
      return { type: 'call_cancelled', callId };
    case 'expire':
      return { type: 'call_expired', callId };
    case 'unanswered':
      return { type: 'call_unanswered', callId };
    case 'escalate':
      return { type: 'call_escalated', callId, level: ev.level };
    case 'ring':
      return { type: 'call_ringing', callId };
    case 'connect':
      return { type: 'call_connected', callId };
    case 'end':
      return { type: 'call_ended', callId };
    case 'join':
      return { type: 'call_joined', callId };
    case 'leave':
      return { type: 'call_left', callId };
    default:
      return unhandled(ev);
  }
}

function unhandled(value: never): never {
  throw new Error(`unhandled call action: ${JSON.stringify(value)}`);
}

/**
 * The time an entry gets: the hub's time for the event, but never earlier than the entry before.
 * The hub dates a member's call event when the member acts and orders it a moment later, so two
 * events can reach the stream in the other order of their times; the record's times may not go
 * back. Both stations clamp the same way, so they still make the same entry.
 */
export function entryTime(at: string, lastAt: string | undefined): string {
  return lastAt !== undefined && at < lastAt ? lastAt : at;
}

/** What a receipt says of an item: SHA-256 of its payload, the bytes that crossed the line. */
export function itemHash(payload: Uint8Array): string {
  return createHash('sha256').update(payload).digest('base64url');
}

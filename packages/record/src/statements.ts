// What a verified record says, for people (statements) and programs (summary). Only ever fed
// entries the verifier has proven to be under heads both stations signed.
import { fromBase64url } from '@parley/protocol/bytes';
import { stationFingerprint } from '@parley/protocol';
import { type Actor, type CallEntry, type Direction, type PolicyChange, type RecordEntry, unreachable, type Urgency } from './entries.js';

export interface CallEvent {
  type: Exclude<CallEntry['type'], 'call_requested'>;
  entryIndex: number;
  at: string;
  by: Actor;
  scheduledFor?: string;
  level?: 'duty_officer' | 'deputy';
}

/** Where a call stands. Marks (unanswered, escalated) and participants joining or leaving are not states. */
export type CallState =
  | 'requested'
  | 'acknowledged'
  | 'accepted'
  | 'declined'
  | 'cancelled'
  | 'expired'
  | 'ringing'
  | 'connected'
  | 'ended';

export interface CallSummary {
  callId: string;
  talkId: string;
  urgency: Urgency;
  /** The far-side seat asked for, if the requester named one. */
  to?: string;
  requestedBy: Actor;
  requestedAt: string;
  requestEntry: number;
  /** What followed the request, in record order. */
  events: CallEvent[];
  /** The last state recorded for the call. */
  outcome: CallState;
  /** When the call was marked unanswered, if it was. */
  unansweredAt?: string;
}

export interface TestSummary {
  testId: string;
  sentBy: Actor;
  sentAt: string;
  sentEntry: number;
  outcome: 'pending' | 'acknowledged' | 'unanswered';
  answeredAt?: string;
  answeredBy?: Actor;
}

export interface ReadoutSummary {
  readoutId: string;
  /** Whose readout: by.side. */
  by: Actor;
  at: string;
  contentHash: string;
  cites: number[];
  entryIndex: number;
}

export interface TrafficSummary {
  dir: Direction;
  items: number;
  batches: number;
  firstSeq: number;
  lastSeq: number;
  firstAt: string;
  lastAt: string;
  firstEntry: number;
}

export interface RosterChange {
  entryIndex: number;
  at: string;
  by: Actor;
  epoch: number;
  added: string[];
  removed: string[];
}

export interface PolicySummary {
  entryIndex: number;
  at: string;
  by: Actor;
  policy: PolicyChange;
}

export interface RecordSummary {
  line?: { id: string; name: string; linkedAt: string; inviterKey: string; acceptorKey: string };
  calls: CallSummary[];
  tests: TestSummary[];
  readouts: ReadoutSummary[];
  traffic: TrafficSummary[];
  roster: RosterChange[];
  /** Changes of the line's deadlines and test schedule, in record order. */
  policies: PolicySummary[];
}

/** How a statement words each call event. */
function callVerb(event: { type: CallEvent['type']; level?: string }): string {
  switch (event.type) {
    case 'call_acknowledged':
      return 'acknowledged';
    case 'call_accepted':
      return 'accepted';
    case 'call_declined':
      return 'declined';
    case 'call_cancelled':
      return 'cancelled';
    case 'call_expired':
      return 'expired';
    case 'call_unanswered':
      return 'marked unanswered';
    case 'call_escalated':
      return event.level === 'deputy' ? 'escalated to deputies' : 'escalated to duty officers';
    case 'call_ringing':
      return 'ringing';
    case 'call_connected':
      return 'connected';
    case 'call_joined':
      return 'joined';
    case 'call_left':
      return 'left';
    case 'call_ended':
      return 'ended';
    default:
      return unreachable(event.type);
  }
}

/** The state a call event moves the call to, if it is a state change. */
function stateAfter(type: CallEvent['type']): CallState | undefined {
  switch (type) {
    case 'call_acknowledged':
      return 'acknowledged';
    case 'call_accepted':
      return 'accepted';
    case 'call_declined':
      return 'declined';
    case 'call_cancelled':
      return 'cancelled';
    case 'call_expired':
      return 'expired';
    case 'call_ringing':
      return 'ringing';
    case 'call_connected':
      return 'connected';
    case 'call_ended':
      return 'ended';
    case 'call_unanswered':
    case 'call_escalated':
    case 'call_joined':
    case 'call_left':
      return undefined;
    default:
      return unreachable(type);
  }
}

const ARROW: Record<Direction, string> = { inviter_to_acceptor: 'inviter→acceptor', acceptor_to_inviter: 'acceptor→inviter' };

/** "inviter/chief", or "inviter station" for what a station did by itself. */
export function actorText(by: Actor): string {
  return by.handle === undefined ? `${by.side} station` : `${by.side}/${by.handle}`;
}

function fingerprintOf(key: string): string {
  const raw = fromBase64url(key);
  return raw ? stationFingerprint(raw) : key;
}

/** A few words naming an entry, as a readout's citation shows it: "call c1 connected". */
export function describeEntry(entry: RecordEntry): string {
  switch (entry.type) {
    case 'line_linked':
      return `line ${entry.lineName} linked`;
    case 'roster_changed':
      return `roster epoch ${entry.epoch}`;
    case 'call_requested':
      return `call ${entry.callId} requested`;
    case 'call_acknowledged':
    case 'call_accepted':
    case 'call_declined':
    case 'call_cancelled':
    case 'call_expired':
    case 'call_unanswered':
    case 'call_escalated':
    case 'call_ringing':
    case 'call_connected':
    case 'call_joined':
    case 'call_left':
    case 'call_ended':
      return `call ${entry.callId} ${callVerb(entry)}`;
    case 'test_sent':
      return `test ${entry.testId} sent`;
    case 'test_acknowledged':
      return `test ${entry.testId} acknowledged`;
    case 'test_unanswered':
      return `test ${entry.testId} unanswered`;
    case 'readout_published':
      return `readout ${entry.readoutId}`;
    case 'policy_set':
      return `line policy set by ${actorText(entry.by)}`;
    case 'items': {
      const first = entry.hashes[0]!.seq;
      const last = entry.hashes[entry.hashes.length - 1]!.seq;
      return `items ${ARROW[entry.dir]} seq ${first === last ? first : `${first}–${last}`}`;
    }
    default:
      return unreachable(entry);
  }
}

/** The machine-readable account of entries (in index order). */
export function summarize(entries: readonly RecordEntry[]): RecordSummary {
  const summary: RecordSummary = { calls: [], tests: [], readouts: [], traffic: [], roster: [], policies: [] };
  const calls = new Map<string, CallSummary>();
  const tests = new Map<string, TestSummary>();
  const traffic = new Map<Direction, TrafficSummary>();
  for (const e of entries) {
    switch (e.type) {
      case 'line_linked':
        summary.line = { id: e.lineId, name: e.lineName, linkedAt: e.at, inviterKey: e.inviterKey, acceptorKey: e.acceptorKey };
        break;
      case 'roster_changed':
        summary.roster.push({ entryIndex: e.index, at: e.at, by: e.by, epoch: e.epoch, added: [...e.added], removed: [...e.removed] });
        break;
      case 'call_requested': {
        const call: CallSummary = {
          callId: e.callId,
          talkId: e.talkId,
          urgency: e.urgency,
          requestedBy: e.by,
          requestedAt: e.at,
          requestEntry: e.index,
          events: [],
          outcome: 'requested',
        };
        if (e.to !== undefined) call.to = e.to;
        calls.set(e.callId, call);
        summary.calls.push(call);
        break;
      }
      case 'call_acknowledged':
      case 'call_accepted':
      case 'call_declined':
      case 'call_cancelled':
      case 'call_expired':
      case 'call_unanswered':
      case 'call_escalated':
      case 'call_ringing':
      case 'call_connected':
      case 'call_joined':
      case 'call_left':
      case 'call_ended': {
        const call = calls.get(e.callId);
        if (!call) break; // the verifier reports it (ENTRY_INVALID); nothing to add it to
        const event: CallEvent = { type: e.type, entryIndex: e.index, at: e.at, by: e.by };
        if (e.type === 'call_accepted' && e.scheduledFor !== undefined) event.scheduledFor = e.scheduledFor;
        if (e.type === 'call_escalated') event.level = e.level;
        if (e.type === 'call_unanswered' && call.unansweredAt === undefined) call.unansweredAt = e.at;
        call.events.push(event);
        call.outcome = stateAfter(e.type) ?? call.outcome;
        break;
      }
      case 'test_sent': {
        const t: TestSummary = { testId: e.testId, sentBy: e.by, sentAt: e.at, sentEntry: e.index, outcome: 'pending' };
        tests.set(e.testId, t);
        summary.tests.push(t);
        break;
      }
      case 'test_acknowledged':
      case 'test_unanswered': {
        const t = tests.get(e.testId);
        if (!t) break;
        t.outcome = e.type === 'test_acknowledged' ? 'acknowledged' : 'unanswered';
        t.answeredAt = e.at;
        t.answeredBy = e.by;
        break;
      }
      case 'policy_set':
        summary.policies.push({ entryIndex: e.index, at: e.at, by: e.by, policy: e.policy });
        break;
      case 'readout_published':
        summary.readouts.push({
          readoutId: e.readoutId,
          by: e.by,
          at: e.at,
          contentHash: e.contentHash,
          cites: [...(e.cites ?? [])],
          entryIndex: e.index,
        });
        break;
      case 'items': {
        const first = e.hashes[0]!.seq;
        const last = e.hashes[e.hashes.length - 1]!.seq;
        const t = traffic.get(e.dir);
        if (!t) {
          const fresh: TrafficSummary = {
            dir: e.dir,
            items: e.hashes.length,
            batches: 1,
            firstSeq: first,
            lastSeq: last,
            firstAt: e.at,
            lastAt: e.at,
            firstEntry: e.index,
          };
          traffic.set(e.dir, fresh);
          summary.traffic.push(fresh);
        } else {
          t.items += e.hashes.length;
          t.batches++;
          t.lastSeq = Math.max(t.lastSeq, last);
          t.lastAt = e.at;
        }
        break;
      }
      default:
        unreachable(e);
    }
  }
  return summary;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * One sentence per fact, in the order the facts begin in the record: the line, each call with
 * everything that followed its request, each test, each readout with what it cites, roster
 * changes, and message traffic per direction.
 */
export function statementsOf(entries: readonly RecordEntry[]): string[] {
  const summary = summarize(entries);
  const byIndex = new Map(entries.map((e) => [e.index, e]));
  const out: [number, string][] = [];
  if (summary.line) {
    const l = summary.line;
    out.push([
      0,
      `line ${l.name} (${l.id}) linked at ${l.linkedAt} between inviter station ${fingerprintOf(l.inviterKey)} and acceptor station ${fingerprintOf(l.acceptorKey)}`,
    ]);
  }
  for (const c of summary.calls) {
    const wanted = c.to === undefined ? '' : ` for ${c.requestedBy.side === 'inviter' ? 'acceptor' : 'inviter'}/${c.to}`;
    const head = `call ${c.callId} (${c.urgency}, talk ${c.talkId}) requested by ${actorText(c.requestedBy)}${wanted} at ${c.requestedAt}`;
    const rest = c.events.map((ev) => {
      const when = ev.scheduledFor ? ` (scheduled for ${ev.scheduledFor})` : '';
      return `${callVerb(ev)} by ${actorText(ev.by)} at ${ev.at}${when}`;
    });
    out.push([c.requestEntry, [head, ...rest].join('; ')]);
  }
  for (const t of summary.tests) {
    const answer =
      t.outcome === 'pending'
        ? 'no answer recorded'
        : `${t.outcome === 'acknowledged' ? 'acknowledged' : 'recorded unanswered'} by ${actorText(t.answeredBy!)} at ${t.answeredAt}`;
    out.push([t.sentEntry, `test ${t.testId} sent by ${actorText(t.sentBy)} at ${t.sentAt}; ${answer}`]);
  }
  for (const r of summary.readouts) {
    const cited = r.cites.map((i) => {
      const target = byIndex.get(i);
      return `entry ${i}${target ? ` (${describeEntry(target)})` : ''}`;
    });
    const citing = cited.length > 0 ? ` citing ${cited.join(', ')}` : '';
    out.push([
      r.entryIndex,
      `readout ${r.readoutId} of the ${r.by.side} side published by ${actorText(r.by)} at ${r.at} (text SHA-256 ${r.contentHash})${citing}`,
    ]);
  }
  for (const p of summary.policies) {
    out.push([p.entryIndex, `line policy set by ${actorText(p.by)} at ${p.at}: ${policyText(p.policy)}`]);
  }
  for (const r of summary.roster) {
    const list = (ids: string[]) => (ids.length > 0 ? ids.join(', ') : 'none');
    out.push([
      r.entryIndex,
      `roster epoch ${r.epoch} at ${r.at} by ${actorText(r.by)}: added ${list(r.added)}; removed ${list(r.removed)}`,
    ]);
  }
  for (const t of summary.traffic) {
    const seqs = t.firstSeq === t.lastSeq ? `seq ${t.firstSeq}` : `seq ${t.firstSeq}–${t.lastSeq}`;
    out.push([
      t.firstEntry,
      `${plural(t.items, 'ciphertext item', 'ciphertext items')} ${ARROW[t.dir]} (${seqs}) in ${plural(t.batches, 'batch', 'batches')} ${t.firstAt === t.lastAt ? `at ${t.firstAt}` : `from ${t.firstAt} to ${t.lastAt}`}`,
    ]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

/** A policy change in words, durations in seconds: "acknowledge flash within 30 s; test every 1800 s". */
function policyText(p: PolicyChange): string {
  const parts: string[] = [];
  const s = (ms: number) => `${ms / 1000} s`;
  for (const [u, ms] of Object.entries(p.calls?.ackDeadlineMs ?? {})) parts.push(`acknowledge ${u} within ${s(ms)}`);
  for (const [u, ms] of Object.entries(p.calls?.deputyAfterMs ?? {})) parts.push(`${u} deputies ${s(ms)} later`);
  if (p.calls?.requestTtlMs !== undefined) parts.push(`requests expire after ${s(p.calls.requestTtlMs)}`);
  if (p.calls?.clockSkewMs !== undefined) parts.push(`call clock skew ${s(p.calls.clockSkewMs)}`);
  if (p.tests?.intervalMs !== undefined) parts.push(`test every ${s(p.tests.intervalMs)}`);
  if (p.tests?.ackDeadlineMs !== undefined) parts.push(`tests acknowledged within ${s(p.tests.ackDeadlineMs)}`);
  if (p.tests?.senders !== undefined) parts.push(`tests sent by ${p.tests.senders.join(' and ') || 'nobody'}`);
  if (p.tests?.clockSkewMs !== undefined) parts.push(`test clock skew ${s(p.tests.clockSkewMs)}`);
  return parts.join('; ') || 'no change';
}

import type { Call, CallState, PolicySummary, Side, TestRecord, Urgency } from '@parley/calls';
import type { Role } from '@parley/protocol';
import type { LineRecord } from './e2ee/line-engine.js';

// What the web app makes of a line's calls: which ones call for the officer's attention, what
// the officer may do with each, and refusals in plain words. Pure: the station's book
// (GET /api/v1/lines/:line/calls) and the officer come in, words and choices go out. Only types
// come from @parley/calls (its schemas stay out of the page's first bundle); the rules mirror
// its reducer, which the station applies all the same: a button shown wrongly is refused there.

export type { Call, CallState, PolicySummary, TestRecord, Urgency };

export interface CallsResponse {
  calls: Call[];
  /** Duty-officer test messages (absent from older stations). */
  tests?: TestRecord[];
  /** The line's deadlines and test schedule (absent from older stations: the defaults). */
  policy?: PolicySummary;
}

/** The signed-in officer on this line: their side of it, handle and role. */
export interface Me {
  side: Side;
  handle: string;
  role: Role;
}

export const URGENCY_ORDER: readonly Urgency[] = ['flash', 'immediate', 'priority', 'routine'];

export const URGENCY_LABEL: Record<Urgency, string> = {
  flash: 'Flash',
  immediate: 'Immediate',
  priority: 'Priority',
  routine: 'Routine',
};

/** How long the far side has to acknowledge by default (the station may run shorter drills). */
export const URGENCY_HELP: Record<Urgency, string> = {
  flash: 'acknowledge within 1 minute',
  immediate: 'acknowledge within 5 minutes',
  priority: 'acknowledge within 30 minutes',
  routine: 'acknowledge within 4 hours',
};

/** A duration in words: 60000 → "1 minute", 90000 → "1 minute 30 seconds", 14400000 → "4 hours". */
export function durationWords(ms: number): string {
  if (ms < 60_000) {
    const s = Math.round(ms / 100) / 10;
    return `${s} second${s === 1 ? '' : 's'}`;
  }
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    rest %= size;
  }
  return parts.join(' ');
}

/** How long the far side has to acknowledge a request of this urgency on this line (its own deadlines, or the defaults). */
export function urgencyHelp(urgency: Urgency, policy: PolicySummary | null | undefined): string {
  return policy ? `acknowledge within ${durationWords(policy.ackDeadlineMs[urgency])}` : URGENCY_HELP[urgency];
}

/** The line's deadlines in one sentence, as the calls panel shows them. */
export function policyText(policy: PolicySummary): string {
  const ack = URGENCY_ORDER.map((u) => `${URGENCY_LABEL[u].toLowerCase()} ${durationWords(policy.ackDeadlineMs[u])}`).join(', ');
  const tests =
    policy.testSenders.length === 0
      ? 'no test messages'
      : `a test message every ${durationWords(policy.testIntervalMs)}, to be acknowledged within ${durationWords(policy.testAckDeadlineMs)}`;
  return `Requests must be acknowledged within: ${ack}. ${tests[0]?.toUpperCase()}${tests.slice(1)}.`;
}

export const STATE_LABEL: Record<CallState, string> = {
  requested: 'Requested',
  acknowledged: 'Acknowledged',
  accepted: 'Accepted',
  declined: 'Declined',
  cancelled: 'Cancelled',
  expired: 'Expired',
  ringing: 'Ringing',
  connected: 'Connected',
  ended: 'Ended',
};

const OPEN_FOR_ANSWER: readonly CallState[] = ['requested', 'acknowledged'];
const LIVE: readonly CallState[] = ['accepted', 'ringing', 'connected'];

export function isOpenCall(call: Call): boolean {
  return OPEN_FOR_ANSWER.includes(call.state) || LIVE.includes(call.state);
}

/** A request still waiting for the far side past its deadline: the line shows as unanswered. */
export function isUnanswered(call: Call): boolean {
  return call.unansweredAt !== null && call.answer === null && call.state === 'requested';
}

export type CallAction = 'acknowledge' | 'accept' | 'decline' | 'cancel' | 'ring' | 'connect' | 'end' | 'join' | 'leave';

const isParticipant = (call: Call, me: Me) => call.participants.some((p) => p.side === me.side && p.handle === me.handle);

/** May this officer answer (acknowledge, accept, decline) for the far side? */
export function mayAnswer(call: Call, me: Me): boolean {
  if (me.side === call.requester.side) return false;
  return call.to === null || call.to === me.handle || me.role === 'duty_officer' || me.role === 'deputy';
}

/** The actions the officer may take on this call now, in the order the buttons are shown. */
export function allowedActions(call: Call, me: Me): CallAction[] {
  const out: CallAction[] = [];
  if (OPEN_FOR_ANSWER.includes(call.state)) {
    if (mayAnswer(call, me)) {
      if (call.state === 'requested') out.push('acknowledge');
      out.push('accept', 'decline');
    }
    if (me.side === call.requester.side && (me.handle === call.requester.handle || me.role === 'duty_officer')) out.push('cancel');
    return out;
  }
  if (!LIVE.includes(call.state)) return out;
  if (isParticipant(call, me)) {
    if (call.state === 'accepted') out.push('ring');
    if (call.state === 'ringing') out.push('connect');
    out.push('end');
    if (call.participants.length > 1) out.push('leave');
  } else {
    out.push('join');
  }
  return out;
}

export const ACTION_LABEL: Record<CallAction, string> = {
  acknowledge: 'Acknowledge',
  accept: 'Accept now',
  decline: 'Decline…',
  cancel: 'Cancel request…',
  ring: 'Ring',
  connect: 'Connected',
  end: 'End call',
  join: 'Join',
  leave: 'Leave',
};

export type AlertLevel = 'alarm' | 'notice';

export interface CallAlert {
  callId: string;
  level: AlertLevel;
  text: string;
}

/**
 * The calls that need this officer: requests from the far side they may answer that nobody
 * has acknowledged yet. An alarm when the request is marked unanswered or the station escalated
 * it to the officer's role (duty officers, then deputies); otherwise a notice.
 */
export function callAlerts(calls: readonly Call[], me: Me, farStation: string): CallAlert[] {
  const out: CallAlert[] = [];
  for (const c of calls) {
    if (c.state !== 'requested' || c.answer !== null || !mayAnswer(c, me)) continue;
    const who = `${farStation}/${c.requester.handle}`;
    const level = me.role === 'duty_officer' || me.role === 'deputy' ? me.role : null;
    const escalatedToMe = level !== null && c.escalated[level] !== undefined;
    const what = `${URGENCY_LABEL[c.urgency].toLowerCase()} call request from ${who}`;
    if (escalatedToMe || c.unansweredAt !== null) {
      const whom = level === 'deputy' ? 'deputies' : 'duty officers';
      out.push({
        callId: c.callId,
        level: 'alarm',
        text: `UNANSWERED ${what}${escalatedToMe ? ` — ${whom} alerted` : ''}: acknowledge it now`,
      });
    } else {
      out.push({ callId: c.callId, level: 'notice', text: `Incoming ${what}${c.to ? ` for ${c.to}` : ''}: please acknowledge` });
    }
  }
  // Alarms first, then the most urgent.
  return out.sort((a, b) => (a.level === b.level ? 0 : a.level === 'alarm' ? -1 : 1));
}

/**
 * Test messages from the far side this officer should acknowledge: duty officers answer them,
 * within minutes, or the line counts as unanswered.
 */
export function pendingTests(tests: readonly TestRecord[], me: Me): TestRecord[] {
  if (me.role !== 'duty_officer') return [];
  return tests.filter((t) => t.from !== me.side && t.acknowledged === null && t.unansweredAt === null);
}

export function testAlerts(tests: readonly TestRecord[], me: Me, farStation: string): CallAlert[] {
  return pendingTests(tests, me).map((t) => ({
    callId: t.testId,
    level: 'notice' as const,
    text: `Test message ${t.testId} from ${farStation} awaits a duty officer’s acknowledgement`,
  }));
}

/** Marks on a call for everyone: not acknowledged in time, who was alerted. */
export function callMarks(call: Call, farStation: string): string[] {
  const marks: string[] = [];
  if (call.unansweredAt !== null) marks.push(call.answer === null ? 'UNANSWERED' : 'answered late');
  if (call.escalated.duty_officer !== undefined) marks.push(`duty officers of ${farStation} alerted`);
  if (call.escalated.deputy !== undefined) marks.push(`deputies of ${farStation} alerted`);
  return marks;
}

/** Each state the call reached, who brought it there and when, in time order. */
export function callHistory(call: Call, stations: { inviter: string; acceptor: string }): { state: CallState; at: number; by: string }[] {
  const out: { state: CallState; at: number; by: string }[] = [];
  for (const [state, stamp] of Object.entries(call.reached) as [CallState, Call['reached']['requested'] | undefined][]) {
    if (!stamp) continue;
    const by = 'handle' in stamp.by ? `${stations[stamp.by.side]}/${stamp.by.handle}` : `${stations[stamp.by.side]} (scheduler)`;
    out.push({ state, at: stamp.at, by });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * The decrypted parts (topics, reasons) of each call, from the conversation's records:
 * callId → texts in timeline order with the action they came with.
 */
export function callSecrets(records: readonly LineRecord[]): Map<string, { action: string; text: string; from: string }[]> {
  const out = new Map<string, { action: string; text: string; from: string }[]>();
  for (const r of records) {
    const b = r.body;
    if (b.t !== 'call' || !b.secret?.ok || !('callId' in b.event)) continue;
    const list = out.get(b.event.callId) ?? [];
    list.push({ action: b.event.action, text: b.secret.text, from: `${b.secret.from.station}/${b.secret.from.handle}` });
    out.set(b.event.callId, list);
  }
  return out;
}

/** Which of the latest records are call events: the calls list is refreshed when one arrives. */
export function lastCallPos(records: readonly LineRecord[]): number {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as LineRecord;
    if (r.body.t === 'call') return r.pos;
  }
  return 0;
}

/** A refusal of a call action, in plain words, with what to do about it. */
export function callErrorText(code: string, message: string): string {
  const say = CALL_ERROR_WORDS[code];
  return say ? `${say} (${code})` : `${message} (${code})`;
}

const CALL_ERROR_WORDS: Record<string, string> = {
  CALL_NOT_FAR_SIDE: 'Only the side that was called can answer this request; your side made it.',
  CALL_NOT_ANSWERER:
    'This request is for someone else on your side; only they, a duty officer or a deputy may answer it. Tell your duty officer.',
  CALL_ALREADY_DECIDED: 'This call has already been accepted, declined or cancelled by someone else. The list now shows what happened.',
  CALL_INVALID_TRANSITION: 'That step does not fit the call’s current state (someone may have acted first). The list now shows its state.',
  CALL_EXPIRED: 'This request has expired (24 hours without an answer). Request a new call if it is still needed.',
  CALL_NOT_FOUND: 'Your station does not know this call. Reload the page; if it persists, tell your administrator.',
  CALL_NOT_REQUESTER: 'Only the officer who made the request, or a duty officer of your side, may cancel it.',
  CALL_NOT_PARTICIPANT: 'You are not in this call. Join it first.',
  CALL_ALREADY_PARTICIPANT: 'You are in this call already.',
  CALL_FULL: 'This call already has six participants, the most a call can hold.',
  TEST_ALREADY_ACKNOWLEDGED: 'This test message was acknowledged already, or its time ran out.',
  TEST_NOT_DUTY_OFFICER: 'Only duty officers acknowledge test messages.',
  TEST_NOT_FAR_SIDE: 'Your own side sent this test message; the other side acknowledges it.',
  NOT_SEATED: 'You hold no seat on this line any more. Ask your station administrator.',
  NOT_A_SEAT_HOLDER: 'You hold no seat on this line any more. Ask your station administrator.',
  PEER_UNREACHABLE:
    'The other station cannot be reached right now, and it orders this line’s calls. Nothing was sent; try again in a moment, or use the line’s messages once it is back.',
  UNAVAILABLE: 'The station is busy or the line is not running right now. Nothing was lost; try again in a moment.',
  NOT_ENCRYPTED: 'The station refused the encrypted part of the request. Reload the page and try again.',
};

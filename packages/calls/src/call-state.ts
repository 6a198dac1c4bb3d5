import type { Role } from '@parley/protocol/roles';
import {
  type CallAction,
  type CallEvent,
  type CallEventOf,
  checkCallEvent,
  type EscalationLevel,
  type EventBy,
  isStationBy,
  otherSide,
  type SeatBy,
  type Side,
  type Urgency,
} from './call-event.js';
import { type Refusal, refuse } from './errors.js';
import { type CallPolicy, callDeadlines } from './escalation.js';

// The pure reducer of call requests. Both stations run it over the same events in the hub's
// order; the hub runs it before sequencing an event, the acceptor on receipt, so both hold the
// same book. A refused event changes nothing: the function returns the error and the caller
// keeps the book it passed in.
//
//   requested ─▶ acknowledged ─▶ accepted ─▶ ringing ─▶ connected ─▶ ended
//       │              │            └──────────┴───────────┴─────────▲
//       └──────────────┴─▶ declined | cancelled | expired
//
// "Unanswered" and the escalation steps are marks on a request, not states: a late answer
// is still welcome, and the record keeps both the mark and the answer.

export const CALL_STATES = [
  'requested',
  'acknowledged',
  'accepted',
  'declined',
  'cancelled',
  'expired',
  'ringing',
  'connected',
  'ended',
] as const;
export type CallState = (typeof CALL_STATES)[number];

/** At most six people in one call: the line's principals with interpreters and note-takers. */
export const MAX_PARTICIPANTS = 6;

export interface Stamp {
  readonly at: number;
  readonly by: EventBy;
}

export interface Call {
  readonly callId: string;
  readonly talkId: string;
  readonly urgency: Urgency;
  readonly requester: SeatBy;
  /** The counterpart seat wanted on the far side, or null for "whoever is there". */
  readonly to: string | null;
  readonly state: CallState;
  /** When each state was reached and by whom. States are never reached twice. */
  readonly reached: Readonly<{ requested: Stamp } & Partial<Record<CallState, Stamp>>>;
  /** The far side's first response (acknowledge, accept or decline): what the deadlines wait for. */
  readonly answer: Stamp | null;
  readonly scheduledFor: number | null;
  readonly escalated: Readonly<Partial<Record<EscalationLevel, number>>>;
  readonly unansweredAt: number | null;
  /** Who is in the call now; the requester from the start, the accepter from acceptance. */
  readonly participants: readonly SeatBy[];
  /** Time of the last event applied: later events may not be earlier. */
  readonly lastAt: number;
}

export interface CallBook {
  /** In request order. A Map, so no id ('__proto__'…) can collide with an object's own keys. */
  readonly calls: ReadonlyMap<string, Call>;
}

export function emptyCallBook(): CallBook {
  return { calls: new Map() };
}

/** A member acting, as the station knows them from the session and the line's seat lists. */
export interface SeatActor {
  readonly kind: 'seat';
  readonly side: Side;
  readonly handle: string;
  readonly role: Role;
  readonly seated: boolean;
}
/** A station's scheduler acting. Only the hub (the inviter) emits call scheduler events. */
export interface StationActor {
  readonly kind: 'station';
  readonly side: Side;
}
export type CallActor = SeatActor | StationActor;

export interface CallContext {
  readonly actor: CallActor;
  readonly now: number;
  readonly policy: CallPolicy;
}

/** Who a notification is for; the station resolves it to its members and devices. */
export type Audience =
  | { readonly kind: 'seat'; readonly side: Side; readonly handle: string }
  | { readonly kind: 'role'; readonly side: Side; readonly role: 'duty_officer' | 'deputy' }
  | { readonly kind: 'participants' };

export type CallEffect =
  | {
      readonly kind: 'notify';
      readonly callId: string;
      readonly reason: CallAction;
      readonly urgency: Urgency;
      readonly audience: Audience;
      /** An escalation: ring loudly, page, whatever the station does for alarms. */
      readonly alarm: boolean;
    }
  /** Show the line as unanswered on both sides. */
  | { readonly kind: 'line_unanswered'; readonly callId: string; readonly since: number };

export type ApplyResult = { ok: true; calls: CallBook; effects: CallEffect[] } | Refusal;
type StepResult = { ok: true; call: Call; effects: CallEffect[] } | Refusal;

const OPEN_FOR_ANSWER: readonly CallState[] = ['requested', 'acknowledged'];
const LIVE: readonly CallState[] = ['accepted', 'ringing', 'connected'];
const TERMINAL: readonly CallState[] = ['declined', 'cancelled', 'expired', 'ended'];

export function isOpen(call: Call): boolean {
  return !TERMINAL.includes(call.state);
}

export function farSide(call: Call): Side {
  return otherSide(call.requester.side);
}

/**
 * Apply one call event (checked against the schema first). `ctx.actor` is who sends it, as the station established it (session
 * and seat lists for members; the federation key for the hub's scheduler); `event.by` must
 * name the same actor.
 */
export function applyCallEvent(calls: CallBook, event: CallEvent, ctx: CallContext): ApplyResult {
  // The type says CallEvent, but the value may come straight from a peer's JSON.
  const shape = checkCallEvent(event);
  if (!shape.ok) return shape;
  const actorError = checkActor(event, ctx.actor);
  if (actorError) return actorError;
  if (event.at > ctx.now + ctx.policy.clockSkewMs) {
    return refuse('CALL_BAD_TIME', `the event is dated ${event.at - ctx.now} ms in the future`);
  }
  const existing = calls.calls.get(event.callId);
  let result: StepResult;
  if (event.action === 'request') {
    if (existing) return refuse('CALL_EXISTS', `call ${event.callId} exists already`);
    result = request(event);
  } else {
    if (!existing) return refuse('CALL_NOT_FOUND', `no call ${event.callId} on this line`);
    if (existing.talkId !== event.talkId) {
      return refuse('CALL_TALK_MISMATCH', `call ${event.callId} belongs to talk ${existing.talkId}, not ${event.talkId}`);
    }
    if (event.at < existing.lastAt) {
      return refuse('CALL_BAD_TIME', `the event is dated before the call's last event (${event.at} < ${existing.lastAt})`);
    }
    // checkActor guarantees a SeatActor for every member action.
    result = step(existing, event, ctx.actor as SeatActor, ctx.policy);
  }
  if (!result.ok) return result;
  const next = new Map(calls.calls);
  next.set(event.callId, result.call);
  return { ok: true, calls: { calls: next }, effects: result.effects };
}

function checkActor(event: CallEvent, actor: CallActor): Refusal | null {
  const by = event.by;
  if (isStationBy(by)) {
    if (actor.kind !== 'station' || actor.side !== 'inviter' || by.side !== 'inviter') {
      return refuse('CALL_NOT_STATION', `only the hub's scheduler may ${event.action} a call`);
    }
    return null;
  }
  if (actor.kind !== 'seat') return refuse('CALL_ACTOR_MISMATCH', `${event.action} must come from a seat holder, not a station`);
  if (!actor.seated) return refuse('NOT_SEATED', `${actor.handle} holds no seat on this line`);
  if (by.side !== actor.side || by.handle !== actor.handle) {
    return refuse(
      'CALL_ACTOR_MISMATCH',
      `the event says it is by ${by.handle} (${by.side}) but comes from ${actor.handle} (${actor.side})`,
    );
  }
  return null;
}

function request(event: CallEventOf<'request'>): StepResult {
  const stamp: Stamp = { at: event.at, by: event.by };
  const call: Call = {
    callId: event.callId,
    talkId: event.talkId,
    urgency: event.urgency,
    requester: event.by,
    to: event.to ?? null,
    state: 'requested',
    reached: { requested: stamp },
    answer: null,
    scheduledFor: null,
    escalated: {},
    unansweredAt: null,
    participants: [event.by],
    lastAt: event.at,
  };
  const far = otherSide(event.by.side);
  const effects: CallEffect[] = [notify(call, 'request', { kind: 'role', side: far, role: 'duty_officer' })];
  if (call.to !== null) effects.unshift(notify(call, 'request', { kind: 'seat', side: far, handle: call.to }));
  return { ok: true, call, effects };
}

function step(call: Call, event: Exclude<CallEvent, { action: 'request' }>, actor: SeatActor, policy: CallPolicy): StepResult {
  const stamp: Stamp = { at: event.at, by: event.by };
  const toRequester: Audience = { kind: 'seat', side: call.requester.side, handle: call.requester.handle };
  const participants: Audience = { kind: 'participants' };
  switch (event.action) {
    case 'acknowledge': {
      const refusal = mayAnswer(call, actor) ?? openForAnswer(call, event.at, policy);
      if (refusal) return refusal;
      if (call.state === 'acknowledged') {
        return refuse('CALL_INVALID_TRANSITION', `call ${call.callId} was acknowledged already by ${describe(call.answer)}`);
      }
      return moved(call, 'acknowledged', stamp, { answer: call.answer ?? stamp }, [notify(call, 'acknowledge', toRequester)]);
    }
    case 'accept': {
      const refusal = mayAnswer(call, actor) ?? openForAnswer(call, event.at, policy);
      if (refusal) return refusal;
      if (event.scheduledFor !== undefined && event.scheduledFor < event.at) {
        return refuse('CALL_BAD_TIME', 'a call cannot be scheduled for a time already past');
      }
      return moved(
        call,
        'accepted',
        stamp,
        { answer: call.answer ?? stamp, scheduledFor: event.scheduledFor ?? null, participants: [...call.participants, event.by] },
        [notify(call, 'accept', participants)],
      );
    }
    case 'decline': {
      const refusal = mayAnswer(call, actor) ?? openForAnswer(call, event.at, policy);
      if (refusal) return refusal;
      return moved(call, 'declined', stamp, { answer: call.answer ?? stamp }, [notify(call, 'decline', toRequester)]);
    }
    case 'cancel': {
      const own = actor.side === call.requester.side && (actor.handle === call.requester.handle || actor.role === 'duty_officer');
      if (!own)
        return refuse('CALL_NOT_REQUESTER', `only ${call.requester.handle} or a duty officer of their side may cancel this request`);
      const refusal = openForAnswer(call, event.at, policy);
      if (refusal) return refusal;
      const far = farSide(call);
      const effects = [notify(call, 'cancel', { kind: 'role', side: far, role: 'duty_officer' })];
      if (call.to !== null) effects.unshift(notify(call, 'cancel', { kind: 'seat', side: far, handle: call.to }));
      return moved(call, 'cancelled', stamp, {}, effects);
    }
    case 'expire': {
      if (!OPEN_FOR_ANSWER.includes(call.state)) return refuse('CALL_INVALID_TRANSITION', `a call ${call.state} cannot expire`);
      const { expiresAt } = callDeadlines(call, policy);
      if (event.at < expiresAt) return notDue('expire', expiresAt);
      return moved(call, 'expired', stamp, {}, [notify(call, 'expire', toRequester)]);
    }
    case 'unanswered': {
      if (call.state !== 'requested') return refuse('CALL_INVALID_TRANSITION', `a call ${call.state} cannot be marked unanswered`);
      if (call.unansweredAt !== null) return refuse('CALL_INVALID_TRANSITION', `call ${call.callId} is marked unanswered already`);
      const { ackBy } = callDeadlines(call, policy);
      if (event.at < ackBy) return notDue('mark unanswered', ackBy);
      return touched(call, event.at, { unansweredAt: event.at }, [
        { kind: 'line_unanswered', callId: call.callId, since: event.at },
        notify(call, 'unanswered', toRequester),
      ]);
    }
    case 'escalate': {
      if (call.state !== 'requested') return refuse('CALL_INVALID_TRANSITION', `a call ${call.state} is not escalated`);
      if (call.escalated[event.level] !== undefined) {
        return refuse('CALL_INVALID_TRANSITION', `call ${call.callId} was escalated to ${event.level} already`);
      }
      const d = callDeadlines(call, policy);
      if (event.level === 'deputy' && call.escalated.duty_officer === undefined) {
        return refuse('CALL_INVALID_TRANSITION', 'deputies are alerted only after the duty officers');
      }
      const due = event.level === 'duty_officer' ? d.ackBy : d.deputyBy;
      if (event.at < due) return notDue(`escalate to ${event.level}`, due);
      return touched(call, event.at, { escalated: { ...call.escalated, [event.level]: event.at } }, [
        notify(call, 'escalate', { kind: 'role', side: farSide(call), role: event.level }, true),
      ]);
    }
    case 'ring': {
      const refusal = mustParticipate(call, actor);
      if (refusal) return refusal;
      if (call.state !== 'accepted') return invalid(call, 'ring');
      return moved(call, 'ringing', stamp, {}, [notify(call, 'ring', participants)]);
    }
    case 'connect': {
      const refusal = mustParticipate(call, actor);
      if (refusal) return refusal;
      if (call.state !== 'ringing') return invalid(call, 'connect');
      return moved(call, 'connected', stamp, {}, [notify(call, 'connect', participants)]);
    }
    case 'end': {
      const refusal = mustParticipate(call, actor);
      if (refusal) return refusal;
      if (!LIVE.includes(call.state)) return invalid(call, 'end');
      return moved(call, 'ended', stamp, {}, [notify(call, 'end', participants)]);
    }
    case 'join': {
      if (!LIVE.includes(call.state)) return invalid(call, 'join');
      if (isParticipant(call, event.by)) return refuse('CALL_ALREADY_PARTICIPANT', `${event.by.handle} is in the call already`);
      if (call.participants.length >= MAX_PARTICIPANTS) return refuse('CALL_FULL', `a call holds at most ${MAX_PARTICIPANTS} participants`);
      return touched(call, event.at, { participants: [...call.participants, event.by] }, [notify(call, 'join', participants)]);
    }
    case 'leave': {
      const refusal = mustParticipate(call, actor);
      if (refusal) return refusal;
      if (!LIVE.includes(call.state)) return invalid(call, 'leave');
      const rest = call.participants.filter((p) => !sameSeat(p, event.by));
      // The last one out ends the call: nobody would be left who may end it.
      if (rest.length === 0) return moved(call, 'ended', stamp, { participants: rest }, [notify(call, 'end', toRequester)]);
      return touched(call, event.at, { participants: rest }, [notify(call, 'leave', participants)]);
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Who may acknowledge, accept or decline: a seat holder of the far side who is the counterpart
 * wanted, or a duty officer or deputy (they answer for the counterpart, and escalation alerts
 * them). When the request names no counterpart, any seat holder of the far side may answer.
 */
function mayAnswer(call: Call, actor: SeatActor): Refusal | null {
  if (actor.side !== farSide(call)) {
    return refuse('CALL_NOT_FAR_SIDE', `only the ${farSide(call)} side, which was called, may answer this request`);
  }
  if (call.to === null || actor.handle === call.to || actor.role === 'duty_officer' || actor.role === 'deputy') return null;
  return refuse('CALL_NOT_ANSWERER', `this request is for ${call.to}; only they, a duty officer or a deputy may answer it`);
}

/** A request can still be answered or cancelled: not decided, not expired (even if the scheduler is late saying so). */
function openForAnswer(call: Call, at: number, policy: CallPolicy): Refusal | null {
  if (call.state === 'expired') return refuse('CALL_EXPIRED', `call ${call.callId} expired at ${call.reached.expired?.at}`);
  if (!OPEN_FOR_ANSWER.includes(call.state)) {
    return refuse(
      'CALL_ALREADY_DECIDED',
      `call ${call.callId} is ${call.state} already (by ${describe(call.reached[call.state] ?? null)})`,
    );
  }
  const { expiresAt } = callDeadlines(call, policy);
  if (at >= expiresAt) return refuse('CALL_EXPIRED', `call ${call.callId} expired at ${expiresAt}`);
  return null;
}

function mustParticipate(call: Call, actor: SeatActor): Refusal | null {
  if (isParticipant(call, actor)) return null;
  return refuse('CALL_NOT_PARTICIPANT', `${actor.handle} (${actor.side}) is not in call ${call.callId}`);
}

/**
 * May this member take part in the call's media: send or receive SDP offers and answers and
 * ICE candidates? Only seated participants of a call that is accepted, ringing or connected.
 * Clients check it on every signalling message they receive (the stations cannot read them).
 */
export function mayParticipate(call: Call, actor: SeatActor): boolean {
  return actor.seated && LIVE.includes(call.state) && isParticipant(call, actor);
}

function isParticipant(call: Call, who: { side: Side; handle: string }): boolean {
  return call.participants.some((p) => sameSeat(p, who));
}

function sameSeat(a: { side: Side; handle: string }, b: { side: Side; handle: string }): boolean {
  return a.side === b.side && a.handle === b.handle;
}

function moved(call: Call, state: CallState, stamp: Stamp, changes: Partial<Call>, effects: CallEffect[]): StepResult {
  return { ok: true, call: { ...call, ...changes, state, reached: { ...call.reached, [state]: stamp }, lastAt: stamp.at }, effects };
}

function touched(call: Call, at: number, changes: Partial<Call>, effects: CallEffect[]): StepResult {
  return { ok: true, call: { ...call, ...changes, lastAt: at }, effects };
}

function notify(call: Call, reason: CallAction, audience: Audience, alarm = false): CallEffect {
  return { kind: 'notify', callId: call.callId, reason, urgency: call.urgency, audience, alarm };
}

function invalid(call: Call, action: CallAction): Refusal {
  return refuse('CALL_INVALID_TRANSITION', `cannot ${action} call ${call.callId}: it is ${call.state}`);
}

function notDue(what: string, due: number): Refusal {
  return refuse('CALL_NOT_DUE', `too early to ${what}: due at ${due}`);
}

function describe(stamp: Stamp | null): string {
  if (!stamp) return 'nobody';
  return isStationBy(stamp.by) ? `the ${stamp.by.side} station at ${stamp.at}` : `${stamp.by.handle} (${stamp.by.side}) at ${stamp.at}`;
}

/** A series of calls on one topic. Contact means a call connected. */
export interface Talk {
  readonly talkId: string;
  readonly callIds: readonly string[];
  readonly firstRequestAt: number;
  readonly lastEventAt: number;
  readonly firstContactAt: number | null;
  readonly lastContactAt: number | null;
  /** Calls not yet declined, cancelled, expired or ended. */
  readonly openCalls: number;
}

/** The book's calls grouped into talks, in the order each talk was first requested. */
export function talks(calls: CallBook): Talk[] {
  const byId = new Map<string, Talk>();
  for (const call of calls.calls.values()) {
    const prev = byId.get(call.talkId);
    const connected = call.reached.connected?.at ?? null;
    const contactEnd = connected === null ? null : (call.reached.ended?.at ?? connected);
    byId.set(call.talkId, {
      talkId: call.talkId,
      callIds: [...(prev?.callIds ?? []), call.callId],
      firstRequestAt: Math.min(prev?.firstRequestAt ?? Number.POSITIVE_INFINITY, call.reached.requested.at),
      lastEventAt: Math.max(prev?.lastEventAt ?? 0, call.lastAt),
      firstContactAt: minOrNull(prev?.firstContactAt ?? null, connected),
      lastContactAt: maxOrNull(prev?.lastContactAt ?? null, contactEnd),
      openCalls: (prev?.openCalls ?? 0) + (isOpen(call) ? 1 : 0),
    });
  }
  return [...byId.values()];
}

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

// Each state's possible predecessors; 'requested' has none.
const PREDECESSORS: Readonly<Record<CallState, readonly CallState[]>> = {
  requested: [],
  acknowledged: ['requested'],
  accepted: ['requested', 'acknowledged'],
  declined: ['requested', 'acknowledged'],
  cancelled: ['requested', 'acknowledged'],
  expired: ['requested', 'acknowledged'],
  ringing: ['accepted'],
  connected: ['ringing'],
  ended: ['accepted', 'ringing', 'connected'],
};

/**
 * What is wrong with a call, as sentences; empty for a possible call. For tests and for a
 * station that loads a book from storage and wants to know it is sane.
 */
export function callInvariantViolations(call: Call, policy: CallPolicy): string[] {
  const bad: string[] = [];
  const far = farSide(call);
  const d = callDeadlines(call, policy);
  const reached = CALL_STATES.filter((s) => call.reached[s] !== undefined);
  // The reached states, in order of time, form one path through the graph ending in `state`.
  const path = [...reached].sort((a, b) => call.reached[a]!.at - call.reached[b]!.at || rank(a) - rank(b));
  if (path[0] !== 'requested') bad.push('the first state is not requested');
  if (path[path.length - 1] !== call.state) bad.push(`the last state reached is not the current state ${call.state}`);
  for (let i = 1; i < path.length; i++) {
    if (!PREDECESSORS[path[i]!].includes(path[i - 1]!)) bad.push(`${path[i]} reached from ${path[i - 1]}`);
  }
  const r = call.reached;
  if (isStationBy(r.requested.by) || !sameSeat(r.requested.by, call.requester)) bad.push('requested by someone other than the requester');
  for (const s of ['acknowledged', 'accepted', 'declined'] as const) {
    const st = r[s];
    if (st && (isStationBy(st.by) || st.by.side !== far)) bad.push(`${s} by someone not on the far side`);
    if (st && (!call.answer || call.answer.at > st.at)) bad.push(`${s} without an earlier answer`);
  }
  if (call.answer && !r.acknowledged && !r.accepted && !r.declined) bad.push('an answer without acknowledgement, acceptance or decline');
  if (r.cancelled && (isStationBy(r.cancelled.by) || r.cancelled.by.side !== call.requester.side)) bad.push('cancelled by the far side');
  if (r.expired && r.expired.at < d.expiresAt) bad.push('expired early');
  for (const s of ['accepted', 'declined', 'acknowledged', 'cancelled'] as const) {
    const st = r[s];
    if (st && st.at >= d.expiresAt) bad.push(`${s} after the expiry`);
  }
  if (call.unansweredAt !== null) {
    if (call.unansweredAt < d.ackBy) bad.push('marked unanswered before the deadline');
    if (call.answer && call.answer.at < call.unansweredAt) bad.push('marked unanswered after an answer');
  }
  const { duty_officer: toDuty, deputy: toDeputy } = call.escalated;
  if (toDuty !== undefined && toDuty < d.ackBy) bad.push('duty officers alerted before the deadline');
  if (toDeputy !== undefined && (toDuty === undefined || toDeputy < toDuty || toDeputy < d.deputyBy))
    bad.push('deputies alerted out of turn');
  for (const t of [toDuty, toDeputy]) if (t !== undefined && call.answer && call.answer.at < t) bad.push('escalated after an answer');
  if (call.participants.length > MAX_PARTICIPANTS) bad.push(`${call.participants.length} participants`);
  const seats = new Set(call.participants.map((p) => `${p.side}/${p.handle}`));
  if (seats.size !== call.participants.length) bad.push('a participant twice');
  if (!r.accepted && (call.participants.length !== 1 || !sameSeat(call.participants[0]!, call.requester))) {
    bad.push('participants other than the requester before acceptance');
  }
  const times = [...reached.map((s) => r[s]!.at), call.unansweredAt ?? 0, toDuty ?? 0, toDeputy ?? 0];
  if (times.some((t) => t > call.lastAt)) bad.push('a stamp after the last event');
  return bad;
}

function rank(s: CallState): number {
  return { requested: 0, acknowledged: 1, accepted: 2, declined: 2, cancelled: 2, expired: 2, ringing: 3, connected: 4, ended: 5 }[s];
}

import { toBase64url } from '@parley/protocol/bytes';
import { Handle, Timestamp } from '@parley/protocol';
import Type, { type Static, type TSchema } from 'typebox';
import type { Refusal } from './errors.js';
import { checkWith } from './schema-check.js';

// Station-visible metadata of call events. Each call event travels as one line item with two
// parts: this metadata (validated by both stations, ordered by the hub, kept in the joint
// record) and an end-to-end encrypted body (call-body.ts, signalling.ts) the stations never
// read. What is here is what both stations, and the record, may know: who asked for which
// call, how urgently, whom they wanted, and when each step happened. Topics, reasons, proposed
// times and media parameters are in the body.

const closed = { additionalProperties: false } as const;

/** The two stations of a line. The inviter is the hub: it orders MLS commits and call events. */
export const Side = Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')]);
export type Side = Static<typeof Side>;
export const SIDES = ['inviter', 'acceptor'] as const;

export function otherSide(side: Side): Side {
  return side === 'inviter' ? 'acceptor' : 'inviter';
}

export const Urgency = Type.Union([Type.Literal('routine'), Type.Literal('priority'), Type.Literal('immediate'), Type.Literal('flash')]);
export type Urgency = Static<typeof Urgency>;
export const URGENCIES = ['routine', 'priority', 'immediate', 'flash'] as const;

/**
 * Call and talk ids: random base64url, 16 to 43 characters (12 to 32 random bytes). Fixed to
 * base64url so an id is safe in a URL, a log line and a file name.
 */
export const CallId = Type.String({ pattern: '^[A-Za-z0-9_-]{16,43}$' });
export const TalkId = CallId;

/** A seat holder acting: the station checks that this is the session's member and side. */
export const SeatBy = Type.Object({ side: Side, handle: Handle }, closed);
export type SeatBy = Static<typeof SeatBy>;
/**
 * A station's scheduler acting (expiry, escalation, test messages). Kept apart from seat
 * holders in the schema so that no member, whatever their handle, can pass for a scheduler.
 */
export const StationBy = Type.Object({ side: Side, station: Type.Literal(true) }, closed);
export type StationBy = Static<typeof StationBy>;
export type EventBy = SeatBy | StationBy;

export function isStationBy(by: EventBy): by is StationBy {
  return 'station' in by;
}

export const EscalationLevel = Type.Union([Type.Literal('duty_officer'), Type.Literal('deputy')]);
export type EscalationLevel = Static<typeof EscalationLevel>;

function event<A extends string, B extends typeof SeatBy | typeof StationBy, X extends Record<string, TSchema>>(
  action: A,
  by: B,
  extra: X,
) {
  return Type.Object({ callId: CallId, talkId: TalkId, action: Type.Literal(action), by, at: Timestamp, ...extra }, closed);
}

export const CallRequestEvent = event('request', SeatBy, {
  urgency: Urgency,
  /**
   * The counterpart seat wanted, public on purpose: the far station must know whom to alert
   * and who may acknowledge, and both seat lists are already known to both stations.
   */
  to: Type.Optional(Handle),
});
export const CallAcknowledgeEvent = event('acknowledge', SeatBy, {});
export const CallAcceptEvent = event('accept', SeatBy, {
  /** When the call will take place, if not now. Optional: clients may keep it in the body only. */
  scheduledFor: Type.Optional(Timestamp),
});
export const CallDeclineEvent = event('decline', SeatBy, {});
export const CallCancelEvent = event('cancel', SeatBy, {});
export const CallExpireEvent = event('expire', StationBy, {});
export const CallUnansweredEvent = event('unanswered', StationBy, {});
export const CallEscalateEvent = event('escalate', StationBy, { level: EscalationLevel });
export const CallRingEvent = event('ring', SeatBy, {});
export const CallConnectEvent = event('connect', SeatBy, {});
export const CallEndEvent = event('end', SeatBy, {});
export const CallJoinEvent = event('join', SeatBy, {});
export const CallLeaveEvent = event('leave', SeatBy, {});

export const CallEvent = Type.Union([
  CallRequestEvent,
  CallAcknowledgeEvent,
  CallAcceptEvent,
  CallDeclineEvent,
  CallCancelEvent,
  CallExpireEvent,
  CallUnansweredEvent,
  CallEscalateEvent,
  CallRingEvent,
  CallConnectEvent,
  CallEndEvent,
  CallJoinEvent,
  CallLeaveEvent,
]);
export type CallEvent = Static<typeof CallEvent>;
export type CallAction = CallEvent['action'];
export type CallEventOf<A extends CallAction> = Extract<CallEvent, { action: A }>;

export const CALL_ACTIONS = [
  'request',
  'acknowledge',
  'accept',
  'decline',
  'cancel',
  'expire',
  'unanswered',
  'escalate',
  'ring',
  'connect',
  'end',
  'join',
  'leave',
] as const satisfies readonly CallAction[];
/** Actions only the hub's scheduler emits. */
export const SCHEDULER_ACTIONS = ['expire', 'unanswered', 'escalate'] as const satisfies readonly CallAction[];

/** Check an untrusted value (a client's send, a peer's item) against the closed event schema. */
export function checkCallEvent(value: unknown): { ok: true; value: CallEvent } | Refusal {
  return checkWith(CallEvent, value, 'call event');
}

/**
 * A fresh call or talk id: 16 random bytes as 22 base64url characters. `random` is for tests;
 * by default the Web Crypto generator, present in browsers and in Node 20 as a global.
 */
export function newCallId(random: (bytes: Uint8Array) => Uint8Array = (b) => globalThis.crypto.getRandomValues(b)): string {
  return toBase64url(random(new Uint8Array(16)));
}

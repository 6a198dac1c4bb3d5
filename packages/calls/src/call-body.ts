import { Timestamp } from '@parley/protocol';
import Type, { type Static } from 'typebox';
import type { CallEvent } from './call-event.js';
import { CallId } from './call-event.js';
import { type Refusal, refuse } from './errors.js';
import { checkWith } from './schema-check.js';

// The end-to-end encrypted half of a call event: what the two stations never see. It rides
// inside the line's MLS group in the same item as the event's metadata. Each body names its
// call and action, and a client checks that they match the metadata beside it
// (`checkBodyMatchesEvent`): a station could otherwise pair one call's body with another
// call's metadata.

const closed = { additionalProperties: false } as const;
const Note = Type.String({ minLength: 1, maxLength: 2000 });

export const CallRequestBody = Type.Object(
  {
    kind: Type.Literal('request'),
    callId: CallId,
    /** What the call is about; several topics make one agenda. */
    topics: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 10 }),
    /** How the requester names the person wanted, beyond the seat in the metadata ("the Minister or her first deputy"). */
    counterpart: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** A proposed time for the call; absent for "now". */
    proposedFor: Type.Optional(Timestamp),
    note: Type.Optional(Note),
  },
  closed,
);
export const CallAcceptBody = Type.Object(
  { kind: Type.Literal('accept'), callId: CallId, scheduledFor: Type.Optional(Timestamp), note: Type.Optional(Note) },
  closed,
);
export const CallDeclineBody = Type.Object({ kind: Type.Literal('decline'), callId: CallId, reason: Note }, closed);
export const CallCancelBody = Type.Object({ kind: Type.Literal('cancel'), callId: CallId, reason: Type.Optional(Note) }, closed);
export const CallEndBody = Type.Object({ kind: Type.Literal('end'), callId: CallId, note: Type.Optional(Note) }, closed);

export const CallBody = Type.Union([CallRequestBody, CallAcceptBody, CallDeclineBody, CallCancelBody, CallEndBody]);
export type CallBody = Static<typeof CallBody>;

export function checkCallBody(value: unknown): { ok: true; value: CallBody } | Refusal {
  return checkWith(CallBody, value, 'call body');
}

/**
 * Does this decrypted body belong with this metadata? Same call, same action, and for an
 * acceptance the same scheduled time when the metadata shows one.
 */
export function checkBodyMatchesEvent(event: CallEvent, body: CallBody): Refusal | null {
  if (body.callId !== event.callId)
    return refuse('CALL_MALFORMED', `the encrypted body is for call ${body.callId}, the event for ${event.callId}`);
  if (body.kind !== event.action) return refuse('CALL_MALFORMED', `the encrypted body is a ${body.kind}, the event a ${event.action}`);
  if (event.action === 'accept' && body.kind === 'accept' && event.scheduledFor !== undefined && body.scheduledFor !== event.scheduledFor) {
    return refuse('CALL_MALFORMED', 'the encrypted body and the event name different times for the call');
  }
  return null;
}

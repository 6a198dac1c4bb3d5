// A line between two stations, its seat holders, and a fake clock.
import assert from 'node:assert/strict';
import type { Role } from '@parley/protocol/roles';
import {
  type ApplyResult,
  applyCallEvent,
  type CallBook,
  type CallContext,
  type CallEvent,
  type CallPolicy,
  type CallErrorCode,
  DEFAULT_CALL_POLICY,
  type SeatActor,
  type SeatBy,
  type Side,
  type StationActor,
} from '../src/index.js';

/** Noon UTC on a Wednesday: hour-aligned, so test slots are easy to read. */
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export function seat(side: Side, handle: string, role: Role, seated = true): SeatActor {
  return { kind: 'seat', side, handle, role, seated };
}

// The inviter (hub) is Moscow, the acceptor Washington.
export const premier = seat('inviter', 'premier', 'principal');
export const mDesk = seat('inviter', 'm_desk', 'duty_officer');
export const mDeputy = seat('inviter', 'm_deputy', 'deputy');
export const mInterpreter = seat('inviter', 'm_interp', 'interpreter');
export const president = seat('acceptor', 'president', 'principal');
export const wDesk = seat('acceptor', 'w_desk', 'duty_officer');
export const wDeputy = seat('acceptor', 'w_deputy', 'deputy');
export const wInterpreter = seat('acceptor', 'w_interp', 'interpreter');
export const wPress = seat('acceptor', 'w_press', 'press_officer');
export const hub: StationActor = { kind: 'station', side: 'inviter' };
export const acceptorStation: StationActor = { kind: 'station', side: 'acceptor' };

export const CALL = 'call0000000000000001';
export const TALK = 'talk0000000000000001';

export function by(actor: SeatActor): SeatBy {
  return { side: actor.side, handle: actor.handle };
}

export function ctx(actor: SeatActor | StationActor, now: number, policy: CallPolicy = DEFAULT_CALL_POLICY): CallContext {
  return { actor, now, policy };
}

/** Apply and insist it worked; returns the new book. */
export function mustApply(
  book: CallBook,
  event: CallEvent,
  actor: SeatActor | StationActor,
  now = event.at,
  policy?: CallPolicy,
): CallBook {
  const result = applyCallEvent(book, event, ctx(actor, now, policy));
  if (!result.ok) assert.fail(`${event.action} refused: ${result.error.code} ${result.error.message}`);
  return result.calls;
}

/** Apply a sequence of [event, actor] pairs from an empty or given book. */
export function applyAll(book: CallBook, steps: [CallEvent, SeatActor | StationActor][]): CallBook {
  return steps.reduce((b, [e, a]) => mustApply(b, e, a), book);
}

/** A serialisation of a book that shows any change, however deep. */
export function snapshot(book: CallBook): string {
  return JSON.stringify([...book.calls.entries()]);
}

/**
 * Apply, insist on a refusal with `code`, and check that the input book is untouched (the
 * caller keeps it; nothing returned to replace it).
 */
export function mustRefuse(book: CallBook, event: CallEvent, actor: SeatActor | StationActor, code: CallErrorCode, now = event.at): void {
  const before = snapshot(book);
  const result: ApplyResult = applyCallEvent(book, event, ctx(actor, now));
  assert.equal(result.ok, false, `${event.action} by ${'handle' in actor ? actor.handle : 'station'} should be refused with ${code}`);
  if (!result.ok) {
    assert.equal(result.error.code, code, result.error.message);
    assert.ok(result.error.message.length > 10, 'the error explains itself');
    assert.ok(!('calls' in result), 'a refusal carries no book');
  }
  assert.equal(snapshot(book), before, 'the book is unchanged');
}

export function requestEvent(
  actor: SeatActor,
  at: number,
  extra: { urgency?: 'routine' | 'priority' | 'immediate' | 'flash'; to?: string; callId?: string; talkId?: string } = {},
): CallEvent {
  return {
    callId: extra.callId ?? CALL,
    talkId: extra.talkId ?? TALK,
    action: 'request',
    by: by(actor),
    at,
    urgency: extra.urgency ?? 'flash',
    ...(extra.to ? { to: extra.to } : {}),
  };
}

type SimpleAction = 'acknowledge' | 'decline' | 'cancel' | 'ring' | 'connect' | 'end' | 'join' | 'leave';
export function act(action: SimpleAction, actor: SeatActor, at: number, callId = CALL, talkId = TALK): CallEvent {
  return { callId, talkId, action, by: by(actor), at };
}

export function accept(actor: SeatActor, at: number, scheduledFor?: number, callId = CALL): CallEvent {
  return { callId, talkId: TALK, action: 'accept', by: by(actor), at, ...(scheduledFor !== undefined ? { scheduledFor } : {}) };
}

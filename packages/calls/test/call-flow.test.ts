// A call as the people on the line live it, and every way of getting it wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyCallEvent,
  type CallBook,
  type CallEvent,
  callInvariantViolations,
  DEFAULT_CALL_POLICY,
  emptyCallBook,
  HUB,
  MAX_PARTICIPANTS,
  mayParticipate,
  talks,
} from '../src/index.js';
import {
  accept,
  acceptorStation,
  act,
  applyAll,
  by,
  CALL,
  ctx,
  HOUR,
  hub,
  MINUTE,
  mDesk,
  mDeputy,
  mInterpreter,
  mustApply,
  mustRefuse,
  premier,
  president,
  requestEvent,
  SECOND,
  seat,
  T0,
  TALK,
  wDesk,
  wDeputy,
  wInterpreter,
  wPress,
} from './helpers.js';

const empty = emptyCallBook();

/** The president asks for a flash call with the premier; Moscow's duty officer acknowledges. */
function requested(to: string | null = 'premier'): CallBook {
  return mustApply(empty, requestEvent(president, T0, { urgency: 'flash', ...(to ? { to } : {}) }), president);
}

test('request, acknowledgement by a duty officer, acceptance, ringing, connection and end, each with its time and author', () => {
  const first = applyCallEvent(empty, requestEvent(president, T0, { to: 'premier' }), ctx(president, T0));
  assert.ok(first.ok);
  // The far side is told: the counterpart wanted, then its duty officers.
  assert.deepEqual(
    first.effects.map((e) => (e.kind === 'notify' ? [e.reason, e.audience] : e.kind)),
    [
      ['request', { kind: 'seat', side: 'inviter', handle: 'premier' }],
      ['request', { kind: 'role', side: 'inviter', role: 'duty_officer' }],
    ],
  );
  let book = first.calls;
  book = mustApply(book, act('acknowledge', mDesk, T0 + 20 * SECOND), mDesk);
  assert.equal(book.calls.get(CALL)?.state, 'acknowledged');
  book = mustApply(book, accept(premier, T0 + 40 * SECOND), premier);
  book = mustApply(book, act('ring', president, T0 + 45 * SECOND), president);
  book = mustApply(book, act('connect', premier, T0 + 50 * SECOND), premier);
  book = mustApply(book, act('end', president, T0 + 12 * MINUTE), president);

  const call = book.calls.get(CALL)!;
  assert.equal(call.state, 'ended');
  assert.equal(call.urgency, 'flash');
  assert.equal(call.to, 'premier');
  assert.deepEqual(call.requester, by(president));
  assert.deepEqual(
    Object.fromEntries(Object.entries(call.reached).map(([state, s]) => [state, [s.at - T0, 'handle' in s.by ? s.by.handle : 'station']])),
    {
      requested: [0, 'president'],
      acknowledged: [20 * SECOND, 'm_desk'],
      accepted: [40 * SECOND, 'premier'],
      ringing: [45 * SECOND, 'president'],
      connected: [50 * SECOND, 'premier'],
      ended: [12 * MINUTE, 'president'],
    },
  );
  // The far side's first response is what the acknowledgement deadline waited for.
  assert.deepEqual(call.answer, { at: T0 + 20 * SECOND, by: by(mDesk) });
  assert.deepEqual(call.participants, [by(president), by(premier)]);
  assert.equal(call.unansweredAt, null);
  assert.deepEqual(callInvariantViolations(call, DEFAULT_CALL_POLICY), []);
  assert.deepEqual(talks(book), [
    {
      talkId: TALK,
      callIds: [CALL],
      firstRequestAt: T0,
      lastEventAt: T0 + 12 * MINUTE,
      firstContactAt: T0 + 50 * SECOND,
      lastContactAt: T0 + 12 * MINUTE,
      openCalls: 0,
    },
  ]);
});

test('accepting also acknowledges; a call can be accepted for a later time', () => {
  const at = T0 + 30 * SECOND;
  const book = mustApply(requested(), accept(premier, at, T0 + 3 * HOUR), premier);
  const call = book.calls.get(CALL)!;
  assert.equal(call.state, 'accepted');
  assert.equal(call.scheduledFor, T0 + 3 * HOUR);
  assert.deepEqual(call.answer, { at, by: by(premier) });
  assert.equal(call.reached.acknowledged, undefined, 'acknowledged was skipped, not invented');
});

test('calls on one topic form a talk with first and last contact', () => {
  const second = 'call0000000000000002';
  const other = 'call0000000000000003';
  const book = applyAll(empty, [
    [requestEvent(president, T0, { to: 'premier' }), president],
    [accept(premier, T0 + MINUTE), premier],
    [act('ring', premier, T0 + 2 * MINUTE), premier],
    [act('connect', president, T0 + 3 * MINUTE), president],
    [act('end', president, T0 + 20 * MINUTE), president],
    [requestEvent(premier, T0 + 2 * HOUR, { urgency: 'routine', callId: other, talkId: 'talk0000000000000002' }), premier],
    [requestEvent(premier, T0 + 24 * HOUR, { urgency: 'priority', callId: second }), premier],
    [accept(president, T0 + 25 * HOUR, undefined, second), president],
    [act('ring', premier, T0 + 25 * HOUR, second), premier],
    [act('connect', president, T0 + 25 * HOUR + MINUTE, second), president],
  ]);
  const [talk, otherTalk] = talks(book);
  assert.deepEqual(talk?.callIds, [CALL, second]);
  assert.equal(talk?.firstRequestAt, T0);
  assert.equal(talk?.firstContactAt, T0 + 3 * MINUTE);
  // The second call is still connected: its contact runs to its connection so far.
  assert.equal(talk?.lastContactAt, T0 + 25 * HOUR + MINUTE);
  assert.equal(talk?.openCalls, 1);
  assert.deepEqual(otherTalk?.callIds, [other]);
  assert.equal(otherTalk?.firstContactAt, null);
});

test('who may answer: the counterpart, a duty officer or a deputy of the far side; anyone there when nobody is named', () => {
  mustRefuse(requested(), act('acknowledge', mInterpreter, T0 + SECOND), mInterpreter, 'CALL_NOT_ANSWERER');
  mustRefuse(requested(), accept(mInterpreter, T0 + SECOND), mInterpreter, 'CALL_NOT_ANSWERER');
  mustApply(requested(), act('acknowledge', premier, T0 + SECOND), premier);
  mustApply(requested(), act('acknowledge', mDeputy, T0 + SECOND), mDeputy);
  mustApply(requested(), accept(mDesk, T0 + SECOND), mDesk);
  mustApply(requested(null), act('acknowledge', mInterpreter, T0 + SECOND), mInterpreter);
  // The calling side cannot answer its own request, whatever its role.
  for (const near of [wDesk, wDeputy, president]) {
    mustRefuse(requested(), act('acknowledge', near, T0 + SECOND), near, 'CALL_NOT_FAR_SIDE');
    mustRefuse(requested(), accept(near, T0 + SECOND), near, 'CALL_NOT_FAR_SIDE');
    mustRefuse(requested(), act('decline', near, T0 + SECOND), near, 'CALL_NOT_FAR_SIDE');
  }
});

test("acting without a seat, or in someone else's name, is refused", () => {
  const unseated = seat('inviter', 'm_desk', 'duty_officer', false);
  mustRefuse(requested(), act('acknowledge', mDesk, T0 + SECOND), unseated, 'NOT_SEATED');
  mustRefuse(empty, requestEvent(president, T0), seat('acceptor', 'president', 'principal', false), 'NOT_SEATED');
  // The event claims to be the premier's but the session is the interpreter's.
  mustRefuse(requested(), accept(premier, T0 + SECOND), mInterpreter, 'CALL_ACTOR_MISMATCH');
  // Same handle, other side.
  mustRefuse(requested(), act('acknowledge', mDesk, T0 + SECOND), seat('acceptor', 'm_desk', 'duty_officer'), 'CALL_ACTOR_MISMATCH');
  // A station cannot act as a member, nor a member (or the acceptor station) as the hub's scheduler.
  mustRefuse(requested(), act('acknowledge', mDesk, T0 + SECOND), hub, 'CALL_ACTOR_MISMATCH');
  const expire: CallEvent = { callId: CALL, talkId: TALK, action: 'expire', by: HUB, at: T0 + 25 * HOUR };
  mustRefuse(requested(), expire, mDesk, 'CALL_NOT_STATION');
  mustRefuse(requested(), expire, acceptorStation, 'CALL_NOT_STATION');
  mustRefuse(requested(), { ...expire, by: { side: 'acceptor', station: true } }, acceptorStation, 'CALL_NOT_STATION');
});

test('accepting twice, or after a decline or cancellation, is refused: already decided', () => {
  const accepted = mustApply(requested(), accept(premier, T0 + SECOND), premier);
  mustRefuse(accepted, accept(premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_DECIDED');
  mustRefuse(accepted, accept(mDesk, T0 + 2 * SECOND), mDesk, 'CALL_ALREADY_DECIDED');
  mustRefuse(accepted, act('decline', premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_DECIDED');
  mustRefuse(accepted, act('acknowledge', premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_DECIDED');
  mustRefuse(accepted, act('cancel', president, T0 + 2 * SECOND), president, 'CALL_ALREADY_DECIDED');
  const declined = mustApply(requested(), act('decline', premier, T0 + SECOND), premier);
  assert.equal(declined.calls.get(CALL)?.state, 'declined');
  mustRefuse(declined, accept(premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_DECIDED');
  const cancelled = mustApply(requested(), act('cancel', president, T0 + SECOND), president);
  mustRefuse(cancelled, accept(premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_DECIDED');
});

test('a second acknowledgement is refused and names the first', () => {
  const acked = mustApply(requested(), act('acknowledge', mDesk, T0 + SECOND), mDesk);
  mustRefuse(acked, act('acknowledge', premier, T0 + 2 * SECOND), premier, 'CALL_INVALID_TRANSITION');
  const r = applyCallEvent(acked, act('acknowledge', premier, T0 + 2 * SECOND), ctx(premier, T0 + 2 * SECOND));
  assert.ok(!r.ok && r.error.message.includes('m_desk'));
});

test('accepting an expired request is refused, whether or not the scheduler has said so yet', () => {
  const expiry = T0 + DEFAULT_CALL_POLICY.requestTtlMs;
  // Past the expiry, before the hub's expire event.
  mustRefuse(requested(), accept(premier, expiry), premier, 'CALL_EXPIRED');
  mustRefuse(requested(), act('acknowledge', premier, expiry), premier, 'CALL_EXPIRED');
  mustRefuse(requested(), act('cancel', president, expiry), president, 'CALL_EXPIRED');
  // One millisecond earlier it still counts.
  mustApply(requested(), accept(premier, expiry - 1), premier);
  // Marked unanswered and expired by the hub.
  const expired = applyAll(requested(), [
    [{ callId: CALL, talkId: TALK, action: 'unanswered', by: HUB, at: expiry }, hub],
    [{ callId: CALL, talkId: TALK, action: 'expire', by: HUB, at: expiry }, hub],
  ]);
  const call = expired.calls.get(CALL)!;
  assert.equal(call.state, 'expired');
  assert.equal(call.unansweredAt, expiry);
  mustRefuse(expired, accept(premier, expiry + SECOND), premier, 'CALL_EXPIRED');
  mustRefuse(expired, act('decline', mDesk, expiry + SECOND), mDesk, 'CALL_EXPIRED');
});

test('only the requester, or a duty officer of their side, cancels a request', () => {
  mustRefuse(requested(), act('cancel', premier, T0 + SECOND), premier, 'CALL_NOT_REQUESTER');
  mustRefuse(requested(), act('cancel', wInterpreter, T0 + SECOND), wInterpreter, 'CALL_NOT_REQUESTER');
  const byDesk = mustApply(requested(), act('cancel', wDesk, T0 + SECOND), wDesk);
  assert.equal(byDesk.calls.get(CALL)?.state, 'cancelled');
  assert.deepEqual(byDesk.calls.get(CALL)?.reached.cancelled, { at: T0 + SECOND, by: by(wDesk) });
});

test('ringing, connecting and ending only by participants and in order', () => {
  mustRefuse(requested(), act('ring', president, T0 + SECOND), president, 'CALL_INVALID_TRANSITION');
  const accepted = mustApply(requested(), accept(premier, T0 + SECOND), premier);
  mustRefuse(accepted, act('ring', mDesk, T0 + 2 * SECOND), mDesk, 'CALL_NOT_PARTICIPANT');
  mustRefuse(accepted, act('ring', wDesk, T0 + 2 * SECOND), wDesk, 'CALL_NOT_PARTICIPANT');
  mustRefuse(accepted, act('connect', premier, T0 + 2 * SECOND), premier, 'CALL_INVALID_TRANSITION');
  const ringing = mustApply(accepted, act('ring', premier, T0 + 2 * SECOND), premier);
  mustRefuse(ringing, act('ring', president, T0 + 3 * SECOND), president, 'CALL_INVALID_TRANSITION');
  mustRefuse(ringing, act('end', wPress, T0 + 3 * SECOND), wPress, 'CALL_NOT_PARTICIPANT');
  const ended = mustApply(ringing, act('end', president, T0 + 3 * SECOND), president);
  mustRefuse(ended, act('connect', premier, T0 + 4 * SECOND), premier, 'CALL_INVALID_TRANSITION');
  mustRefuse(ended, act('end', premier, T0 + 4 * SECOND), premier, 'CALL_INVALID_TRANSITION');
  mustRefuse(ended, act('join', wInterpreter, T0 + 4 * SECOND), wInterpreter, 'CALL_INVALID_TRANSITION');
});

test('at most six participants; joining twice and leaving without being in are refused', () => {
  let book = mustApply(requested(), accept(premier, T0 + SECOND), premier);
  mustRefuse(book, act('join', premier, T0 + 2 * SECOND), premier, 'CALL_ALREADY_PARTICIPANT');
  mustRefuse(book, act('leave', wInterpreter, T0 + 2 * SECOND), wInterpreter, 'CALL_NOT_PARTICIPANT');
  for (const who of [mInterpreter, wInterpreter, mDesk, wDesk]) book = mustApply(book, act('join', who, T0 + 2 * SECOND), who);
  assert.equal(book.calls.get(CALL)?.participants.length, MAX_PARTICIPANTS);
  mustRefuse(book, act('join', wDeputy, T0 + 3 * SECOND), wDeputy, 'CALL_FULL');
  book = mustApply(book, act('leave', mDesk, T0 + 3 * SECOND), mDesk);
  // The one who left no longer rings or ends the call; someone else can take the place.
  mustRefuse(book, act('ring', mDesk, T0 + 4 * SECOND), mDesk, 'CALL_NOT_PARTICIPANT');
  book = mustApply(book, act('join', wDeputy, T0 + 4 * SECOND), wDeputy);
  book = mustApply(book, act('ring', wDeputy, T0 + 5 * SECOND), wDeputy);
  assert.equal(book.calls.get(CALL)?.state, 'ringing');
});

test('unknown calls, taken ids, the wrong talk and impossible times are refused', () => {
  mustRefuse(empty, act('acknowledge', mDesk, T0), mDesk, 'CALL_NOT_FOUND');
  mustRefuse(requested(), requestEvent(premier, T0 + SECOND), premier, 'CALL_EXISTS');
  mustRefuse(requested(), act('acknowledge', mDesk, T0 + SECOND, CALL, 'talk0000000000000009'), mDesk, 'CALL_TALK_MISMATCH');
  // Dated in the future beyond the allowed skew (5 min), or before the call's last event.
  mustRefuse(empty, requestEvent(president, T0 + 6 * MINUTE), president, 'CALL_BAD_TIME', T0);
  mustApply(empty, requestEvent(president, T0 + 4 * MINUTE), president, T0);
  mustRefuse(requested(), act('acknowledge', mDesk, T0 - 1), mDesk, 'CALL_BAD_TIME');
  // Accepted for a time already past.
  mustRefuse(requested(), accept(premier, T0 + MINUTE, T0), premier, 'CALL_BAD_TIME');
});

test('mayParticipate: seated participants of a live call only', () => {
  const accepted = mustApply(requested(), accept(premier, T0 + SECOND), premier);
  const call = accepted.calls.get(CALL)!;
  assert.equal(mayParticipate(call, premier), true);
  assert.equal(mayParticipate(call, president), true);
  assert.equal(mayParticipate(call, mDesk), false);
  assert.equal(mayParticipate(call, seat('acceptor', 'president', 'principal', false)), false, 'lost the seat');
  assert.equal(mayParticipate(requested().calls.get(CALL)!, president), false, 'not accepted yet');
  const ended = mustApply(accepted, act('end', premier, T0 + 2 * SECOND), premier);
  assert.equal(mayParticipate(ended.calls.get(CALL)!, premier), false, 'ended');
});

test('effects: escalations are alarms for the far side; unanswered marks the line', () => {
  const at = T0 + MINUTE;
  const r1 = applyCallEvent(
    requested(),
    { callId: CALL, talkId: TALK, action: 'escalate', level: 'duty_officer', by: HUB, at },
    ctx(hub, at),
  );
  assert.ok(r1.ok);
  assert.deepEqual(r1.effects, [
    {
      kind: 'notify',
      callId: CALL,
      reason: 'escalate',
      urgency: 'flash',
      audience: { kind: 'role', side: 'inviter', role: 'duty_officer' },
      alarm: true,
    },
  ]);
  const r2 = applyCallEvent(r1.calls, { callId: CALL, talkId: TALK, action: 'unanswered', by: HUB, at }, ctx(hub, at));
  assert.ok(r2.ok);
  assert.deepEqual(r2.effects[0], { kind: 'line_unanswered', callId: CALL, since: at });
});

test('a malformed event handed straight to the reducer is refused, not trusted for its type', () => {
  const forged = { ...requestEvent(president, T0), by: { side: 'inviter', station: true, handle: 'premier' } } as unknown as CallEvent;
  mustRefuse(empty, forged, hub, 'CALL_MALFORMED');
  mustRefuse(requested(), { ...accept(premier, T0 + SECOND), note: 'hello' } as unknown as CallEvent, premier, 'CALL_MALFORMED');
});

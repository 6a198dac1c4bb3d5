// Escalation with a fake clock: what the hub's scheduler emits, and when it wakes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyCallEvent,
  type CallBook,
  type CallEvent,
  type CallPolicy,
  DEFAULT_CALL_POLICY,
  dueActions,
  emptyCallBook,
  HUB,
  nextWakeAt,
  resolveCallPolicy,
} from '../src/index.js';
import {
  accept,
  act,
  CALL,
  ctx,
  HOUR,
  hub,
  MINUTE,
  mDesk,
  mDeputy,
  mustApply,
  premier,
  president,
  requestEvent,
  T0,
  TALK,
} from './helpers.js';

const policy = DEFAULT_CALL_POLICY;

/** The scheduler's loop, once: emit what is due, as the hub. */
function tick(book: CallBook, now: number, p: CallPolicy = policy): { book: CallBook; emitted: string[] } {
  const emitted: string[] = [];
  for (const event of dueActions(book, p, now)) {
    book = mustApply(book, event, hub, now, p);
    emitted.push(event.action === 'escalate' ? `escalate:${event.level}` : event.action);
  }
  return { book, emitted };
}

test('the defaults: flash 1 min, immediate 5 min, priority 30 min, routine 4 h; deputies one more such period later; expiry after 24 h', () => {
  assert.deepEqual({ ...policy.ackDeadlineMs }, { flash: MINUTE, immediate: 5 * MINUTE, priority: 30 * MINUTE, routine: 4 * HOUR });
  assert.deepEqual({ ...policy.deputyAfterMs }, { ...policy.ackDeadlineMs });
  assert.equal(policy.requestTtlMs, 24 * HOUR);
  for (const [urgency, deadline] of Object.entries(policy.ackDeadlineMs)) {
    const book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: urgency as 'flash' }), president);
    assert.equal(nextWakeAt(book, policy, T0), T0 + deadline, urgency);
    assert.deepEqual(dueActions(book, policy, T0 + deadline - 1), [], `${urgency}: nothing a millisecond early`);
    assert.equal(dueActions(book, policy, T0 + deadline).length, 2, `${urgency}: due at the deadline`);
  }
});

test('an unanswered flash request: duty officers at 1 min and marked unanswered, deputies at 2 min, expired at 24 h', () => {
  let book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'flash', to: 'premier' }), president);
  assert.equal(nextWakeAt(book, policy, T0), T0 + MINUTE);

  let step = tick(book, T0 + 59_999);
  assert.deepEqual(step.emitted, []);
  step = tick(book, T0 + MINUTE);
  assert.deepEqual(step.emitted, ['escalate:duty_officer', 'unanswered']);
  book = step.book;
  const call = book.calls.get(CALL)!;
  assert.equal(call.escalated.duty_officer, T0 + MINUTE);
  assert.equal(call.unansweredAt, T0 + MINUTE);
  assert.equal(call.state, 'requested', 'unanswered is a mark, not an end: a late answer is still possible');
  // Asked again at the same moment, or a little later: nothing twice.
  assert.deepEqual(tick(book, T0 + MINUTE).emitted, []);
  assert.deepEqual(tick(book, T0 + 90_000).emitted, []);
  assert.equal(nextWakeAt(book, policy, T0 + MINUTE), T0 + 2 * MINUTE);

  step = tick(book, T0 + 2 * MINUTE);
  assert.deepEqual(step.emitted, ['escalate:deputy']);
  book = step.book;
  assert.equal(nextWakeAt(book, policy, T0 + 2 * MINUTE), T0 + 24 * HOUR);
  assert.deepEqual(tick(book, T0 + 24 * HOUR - 1).emitted, []);
  step = tick(book, T0 + 24 * HOUR);
  assert.deepEqual(step.emitted, ['expire']);
  book = step.book;
  assert.equal(book.calls.get(CALL)?.state, 'expired');
  assert.equal(nextWakeAt(book, policy, T0 + 24 * HOUR), null, 'nothing left to wait for');
});

test('an acknowledgement in time stops the escalation; only the expiry is left', () => {
  let book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'immediate' }), president);
  book = mustApply(book, act('acknowledge', mDesk, T0 + 4 * MINUTE), mDesk);
  assert.deepEqual(tick(book, T0 + 5 * MINUTE).emitted, []);
  assert.deepEqual(tick(book, T0 + HOUR).emitted, []);
  assert.equal(nextWakeAt(book, policy, T0 + 5 * MINUTE), T0 + 24 * HOUR);
  assert.deepEqual(tick(book, T0 + 24 * HOUR).emitted, ['expire'], 'acknowledged but never accepted: expires');
  const accepted = mustApply(book, accept(premier, T0 + 2 * HOUR), premier);
  assert.equal(nextWakeAt(accepted, policy, T0 + 2 * HOUR), null, 'an accepted call waits on no deadline');
  assert.deepEqual(dueActions(accepted, policy, T0 + 48 * HOUR), []);
});

test('a late acknowledgement is taken; the request keeps its unanswered mark and the deputies are not called', () => {
  let book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'priority' }), president);
  book = tick(book, T0 + 30 * MINUTE).book;
  book = mustApply(book, act('acknowledge', mDeputy, T0 + 45 * MINUTE), mDeputy);
  const call = book.calls.get(CALL)!;
  assert.equal(call.state, 'acknowledged');
  assert.equal(call.unansweredAt, T0 + 30 * MINUTE);
  assert.deepEqual(tick(book, T0 + HOUR).emitted, [], 'no deputy escalation after the answer');
});

test('a hub that was down past the expiry marks the request unanswered and expires it, without stale alerts', () => {
  const book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'routine' }), president);
  assert.equal(nextWakeAt(book, policy, T0 + 30 * HOUR), T0 + 30 * HOUR, 'overdue: wake now');
  const step = tick(book, T0 + 30 * HOUR);
  assert.deepEqual(step.emitted, ['unanswered', 'expire']);
  assert.deepEqual(dueActions(step.book, policy, T0 + 30 * HOUR), []);
});

test('the acceptor checks the hub: early or out-of-turn scheduler events are refused', () => {
  const book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'flash' }), president);
  const base = { callId: CALL, talkId: TALK, by: HUB };
  const early: CallEvent[] = [
    { ...base, action: 'unanswered', at: T0 + MINUTE - 1 },
    { ...base, action: 'escalate', level: 'duty_officer', at: T0 + MINUTE - 1 },
    { ...base, action: 'expire', at: T0 + 24 * HOUR - 1 },
  ];
  for (const e of early) {
    const r = applyCallEvent(book, e, ctx(hub, e.at));
    assert.ok(!r.ok && r.error.code === 'CALL_NOT_DUE', e.action);
  }
  const deputyFirst = applyCallEvent(
    book,
    { ...base, action: 'escalate', level: 'deputy', at: T0 + 3 * MINUTE },
    ctx(hub, T0 + 3 * MINUTE),
  );
  assert.ok(!deputyFirst.ok && deputyFirst.error.code === 'CALL_INVALID_TRANSITION');
  const acked = mustApply(book, act('acknowledge', mDesk, T0 + 10_000), mDesk);
  const afterAck = applyCallEvent(acked, { ...base, action: 'unanswered', at: T0 + MINUTE }, ctx(hub, T0 + MINUTE));
  assert.ok(!afterAck.ok && afterAck.error.code === 'CALL_INVALID_TRANSITION', 'answered in time: never unanswered');
});

test('a line can set its own deadlines; contradictory or unknown settings are refused', () => {
  const custom = resolveCallPolicy({ ackDeadlineMs: { routine: 2 * HOUR, flash: 30_000 }, requestTtlMs: 12 * HOUR });
  assert.ok(custom.ok);
  assert.equal(custom.policy.ackDeadlineMs.routine, 2 * HOUR);
  assert.equal(custom.policy.ackDeadlineMs.flash, 30_000);
  assert.equal(custom.policy.ackDeadlineMs.priority, 30 * MINUTE, 'defaults fill the rest');
  const book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'flash' }), president, T0, custom.policy);
  assert.equal(nextWakeAt(book, custom.policy, T0), T0 + 30_000);
  assert.deepEqual(tick(book, T0 + 30_000, custom.policy).emitted, ['escalate:duty_officer', 'unanswered']);

  const tooLate = resolveCallPolicy({ ackDeadlineMs: { routine: 20 * HOUR } });
  assert.ok(!tooLate.ok && tooLate.error.code === 'CALL_POLICY_INVALID' && tooLate.error.message.includes('routine'));
  for (const bad of [{ ackDeadline: 1000 }, { requestTtlMs: -1 }, { ackDeadlineMs: { flash: '1m' } }, null]) {
    const r = resolveCallPolicy(bad);
    assert.ok(!r.ok && r.error.code === 'CALL_POLICY_INVALID', JSON.stringify(bad));
  }
  assert.deepEqual(resolveCallPolicy(), { ok: true, policy: { ...DEFAULT_CALL_POLICY } });
});

test('several requests: the scheduler wakes for the earliest deadline of any', () => {
  let book = mustApply(emptyCallBook(), requestEvent(president, T0, { urgency: 'routine', callId: 'routine0000000000001' }), president);
  book = mustApply(book, requestEvent(premier, T0 + MINUTE, { urgency: 'immediate', callId: 'immediate00000000001' }), premier);
  assert.equal(nextWakeAt(book, policy, T0 + MINUTE), T0 + 6 * MINUTE);
  const step = tick(book, T0 + 6 * MINUTE);
  assert.deepEqual(step.emitted, ['escalate:duty_officer', 'unanswered']);
  assert.equal(nextWakeAt(step.book, policy, T0 + 6 * MINUTE), T0 + 11 * MINUTE);
});

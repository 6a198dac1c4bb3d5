// Hourly test messages between the duty desks, and the figures a line's dashboard shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyTestEvent,
  type CallBook,
  DEFAULT_CALL_POLICY,
  DEFAULT_TEST_POLICY,
  dueTests,
  emptyCallBook,
  emptyTestBook,
  HUB,
  lineStats,
  nextTestWakeAt,
  resolveTestPolicy,
  type SeatActor,
  type StationActor,
  type TestBook,
  type TestEvent,
  type TestPolicy,
  type CallErrorCode,
} from '../src/index.js';
import {
  acceptorStation,
  act,
  by,
  HOUR,
  hub,
  MINUTE,
  mDesk,
  mustApply,
  premier,
  president,
  requestEvent,
  SECOND,
  seat,
  T0,
  wDesk,
  wInterpreter,
} from './helpers.js';

const policy = DEFAULT_TEST_POLICY;
const stationOf = (side: 'inviter' | 'acceptor'): StationActor => (side === 'inviter' ? hub : acceptorStation);

function apply(book: TestBook, event: TestEvent, actor: SeatActor | StationActor, now = event.at, p: TestPolicy = policy): TestBook {
  const r = applyTestEvent(book, event, { actor, now, policy: p });
  if (!r.ok) assert.fail(`${event.action} refused: ${r.error.code} ${r.error.message}`);
  return r.tests;
}

function refused(book: TestBook, event: TestEvent, actor: SeatActor | StationActor, code: CallErrorCode, now = event.at): void {
  const before = JSON.stringify([...book.tests]);
  const r = applyTestEvent(book, event, { actor, now, policy });
  assert.ok(!r.ok, `${event.action} should be refused with ${code}`);
  assert.equal(r.error.code, code, r.error.message);
  assert.equal(JSON.stringify([...book.tests]), before);
}

/** Each station emits its own side's due events; the hub emits the verdicts. */
function tick(book: TestBook, now: number, p: TestPolicy = policy): { book: TestBook; emitted: TestEvent[] } {
  const emitted = dueTests(book, p, now);
  for (const e of emitted) book = apply(book, e, stationOf(e.by.side), now, p);
  return { book, emitted };
}

const ack = (testId: string, who: SeatActor, at: number): TestEvent => ({ testId, action: 'test_acknowledged', by: by(who), at });

test('each side sends a test every hour, the inviter on the hour and the acceptor at half past; the far desk acknowledges', () => {
  let step = tick(emptyTestBook(), T0);
  assert.deepEqual(
    step.emitted.map((e) => [e.action, e.by.side, e.testId]),
    [
      ['test_sent', 'inviter', `test-i-${T0 / HOUR}`],
      ['test_sent', 'acceptor', `test-a-${T0 / HOUR - 1}`],
    ],
  );
  let book = step.book;
  assert.deepEqual(dueTests(book, policy, T0 + MINUTE), [], 'sent once per slot');
  assert.equal(nextTestWakeAt(book, policy, T0), T0 + 5 * MINUTE, 'next: the acknowledgement deadline');
  const fromMoscow = `test-i-${T0 / HOUR}`;
  const fromWashington = `test-a-${T0 / HOUR - 1}`;
  book = apply(book, ack(fromMoscow, wDesk, T0 + 2 * MINUTE), wDesk);
  assert.deepEqual(book.tests.get(fromMoscow)?.acknowledged, { at: T0 + 2 * MINUTE, by: by(wDesk) });

  // Moscow's desk never answers Washington's test: unanswered at the deadline, and only then.
  assert.deepEqual(dueTests(book, policy, T0 + 5 * MINUTE - 1), []);
  step = tick(book, T0 + 5 * MINUTE);
  assert.deepEqual(
    step.emitted.map((e) => [e.action, e.testId, e.by]),
    [['test_unanswered', fromWashington, HUB]],
  );
  book = step.book;
  assert.equal(book.tests.get(fromWashington)?.unansweredAt, T0 + 5 * MINUTE);
  assert.deepEqual(dueTests(book, policy, T0 + 5 * MINUTE), [], 'no verdict twice');
  assert.equal(nextTestWakeAt(book, policy, T0 + 5 * MINUTE), T0 + 30 * MINUTE, "next: the acceptor's slot");
  step = tick(book, T0 + 30 * MINUTE);
  assert.deepEqual(
    step.emitted.map((e) => [e.action, e.by.side]),
    [['test_sent', 'acceptor']],
  );
  assert.equal(nextTestWakeAt(step.book, policy, T0 + 30 * MINUTE), T0 + 35 * MINUTE);

  const calls = emptyCallBook();
  const policies = { tests: policy, calls: DEFAULT_CALL_POLICY };
  const moscowDesk = lineStats({ tests: book, calls }, policies, T0 + 10 * MINUTE, { answeringSide: 'inviter' });
  assert.equal(moscowDesk.unanswered, true);
  assert.equal(moscowDesk.unansweredSince, T0 + 5 * MINUTE);
  assert.equal(moscowDesk.availability, 0);
  const washingtonDesk = lineStats({ tests: book, calls }, policies, T0 + 10 * MINUTE, { answeringSide: 'acceptor' });
  assert.equal(washingtonDesk.unanswered, false);
  assert.equal(washingtonDesk.availability, 1);
  assert.equal(washingtonDesk.tests.ackP50Ms, 2 * MINUTE);
});

test('after an outage a station sends one test for the current slot, not one per missed hour; a lagging resend is refused', () => {
  const onlyMoscow = { ...policy, senders: ['inviter' as const] };
  const first = tick(emptyTestBook(), T0, onlyMoscow).book;
  const later = tick(first, T0 + 5 * HOUR + 10 * MINUTE, onlyMoscow);
  assert.deepEqual(
    later.emitted.filter((e) => e.action === 'test_sent').map((e) => e.testId),
    [`test-i-${T0 / HOUR + 5}`],
  );
  // A second process deciding the same thing produces the same id: refused, nothing doubled.
  refused(
    later.book,
    { testId: `test-i-${T0 / HOUR + 5}`, action: 'test_sent', by: { side: 'inviter', station: true }, at: T0 + 5 * HOUR + 11 * MINUTE },
    hub,
    'TEST_EXISTS',
  );
});

test('who may acknowledge a test: a seated duty officer of the side it was sent to, once', () => {
  const sent = tick(emptyTestBook(), T0, { ...policy, senders: ['inviter'] }).book;
  const id = `test-i-${T0 / HOUR}`;
  refused(sent, ack(id, mDesk, T0 + MINUTE), mDesk, 'TEST_NOT_FAR_SIDE');
  refused(sent, ack(id, wInterpreter, T0 + MINUTE), wInterpreter, 'TEST_NOT_DUTY_OFFICER');
  refused(sent, ack(id, wDesk, T0 + MINUTE), seat('acceptor', 'w_desk', 'duty_officer', false), 'NOT_SEATED');
  refused(sent, ack(id, wDesk, T0 + MINUTE), wInterpreter, 'CALL_ACTOR_MISMATCH');
  refused(sent, ack('test-i-00000000', wDesk, T0 + MINUTE), wDesk, 'TEST_NOT_FOUND');
  refused(sent, ack(id, wDesk, T0 + 6 * MINUTE), wDesk, 'CALL_BAD_TIME', T0);
  const acked = apply(sent, ack(id, wDesk, T0 + MINUTE), wDesk);
  refused(acked, ack(id, wDesk, T0 + 2 * MINUTE), wDesk, 'TEST_ALREADY_ACKNOWLEDGED');
  refused(acked, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 6 * MINUTE }, hub, 'TEST_ALREADY_ACKNOWLEDGED');
  // The verdict: only the hub, only after the deadline, only once.
  refused(sent, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 5 * MINUTE - 1 }, hub, 'TEST_NOT_DUE');
  refused(sent, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 5 * MINUTE }, acceptorStation, 'CALL_NOT_STATION');
  refused(sent, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 5 * MINUTE }, wDesk, 'CALL_NOT_STATION');
  const marked = apply(sent, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 5 * MINUTE }, hub);
  refused(marked, { testId: id, action: 'test_unanswered', by: HUB, at: T0 + 6 * MINUTE }, hub, 'TEST_INVALID_TRANSITION');
  // A station sends only its own side's tests.
  refused(
    emptyTestBook(),
    { testId: 'test-a-12345678', action: 'test_sent', by: { side: 'acceptor', station: true }, at: T0 },
    hub,
    'CALL_NOT_STATION',
  );
  // A late acknowledgement is taken and recorded as such.
  const late = apply(marked, ack(id, wDesk, T0 + 20 * MINUTE), wDesk);
  assert.equal(late.tests.get(id)?.acknowledged?.at, T0 + 20 * MINUTE);
  assert.equal(late.tests.get(id)?.unansweredAt, T0 + 5 * MINUTE);
});

test('a day of tests: availability, acknowledgement times, unanswered count, and the line unanswered now', () => {
  const moscowOnly = { ...policy, senders: ['inviter' as const] };
  // Washington's desk answers Moscow's hourly tests after these delays (null: never).
  const delays = [60, 120, 180, 600, null, 30, 240, 299].map((s) => (s === null ? null : s * SECOND));
  let book = emptyTestBook();
  for (const [hour, delay] of delays.entries()) {
    const sentAt = T0 + hour * HOUR;
    book = tick(book, sentAt, moscowOnly).book;
    if (delay !== null) book = apply(book, ack(`test-i-${sentAt / HOUR}`, wDesk, sentAt + delay), wDesk, sentAt + delay, moscowOnly);
  }
  const policies = { tests: moscowOnly, calls: DEFAULT_CALL_POLICY };
  let calls: CallBook = emptyCallBook();
  let now = T0 + 8 * HOUR - 1;
  let stats = lineStats({ tests: book, calls }, policies, now);
  assert.equal(stats.tests.due, 8);
  assert.equal(stats.tests.inTime, 6, '299 s is in time, 600 s is not');
  assert.equal(stats.tests.late, 1);
  assert.equal(stats.tests.unanswered, 2, 'the late one and the missed one');
  assert.equal(stats.availability, 0.75);
  assert.equal(stats.tests.ackP50Ms, 180 * SECOND);
  assert.equal(stats.tests.ackMaxMs, 600 * SECOND);
  assert.equal(stats.unansweredCount, 2);
  assert.equal(stats.unanswered, false, 'the latest test was answered');
  // A one-hour window sees only the last test.
  const recent = lineStats({ tests: book, calls }, policies, now, { windowMs: HOUR });
  assert.equal(recent.tests.due, 1);
  assert.equal(recent.availability, 1);

  // The 20:00 test goes unanswered: the line is unanswered from its deadline, even before the
  // scheduler has marked it, until someone answers, even late.
  book = tick(book, T0 + 8 * HOUR, moscowOnly).book;
  now = T0 + 8 * HOUR + 6 * MINUTE;
  stats = lineStats({ tests: book, calls }, policies, now);
  assert.equal(stats.unanswered, true);
  assert.equal(stats.unansweredSince, T0 + 8 * HOUR + 5 * MINUTE);
  book = apply(book, ack(`test-i-${T0 / HOUR + 8}`, wDesk, T0 + 8 * HOUR + 20 * MINUTE), wDesk, undefined, moscowOnly);
  stats = lineStats({ tests: book, calls }, policies, T0 + 8 * HOUR + 21 * MINUTE);
  assert.equal(stats.unanswered, false, 'a late answer shows the desk is manned again');
  assert.equal(stats.tests.late, 2);

  // A flash request from Moscow that Washington does not acknowledge in a minute.
  const asked = T0 + 8 * HOUR + 30 * MINUTE;
  calls = mustApply(calls, requestEvent(premier, asked, { urgency: 'flash', callId: 'flash000000000000001' }), premier);
  stats = lineStats({ tests: book, calls }, policies, asked + 59 * SECOND);
  assert.equal(stats.unanswered, false, 'not yet due');
  stats = lineStats({ tests: book, calls }, policies, asked + 90 * SECOND, { answeringSide: 'acceptor' });
  assert.equal(stats.unanswered, true);
  assert.equal(stats.unansweredSince, asked + MINUTE);
  assert.equal(stats.calls.unanswered, 1);
  assert.equal(stats.unansweredCount, stats.tests.unanswered + 1);
  // Moscow's own desk is not to blame for Washington's silence.
  assert.equal(lineStats({ tests: book, calls }, policies, asked + 90 * SECOND, { answeringSide: 'inviter' }).unanswered, false);
  calls = mustApply(calls, act('acknowledge', wDesk, asked + 2 * MINUTE, 'flash000000000000001'), wDesk);
  stats = lineStats({ tests: book, calls }, policies, asked + 3 * MINUTE);
  assert.equal(stats.unanswered, false);
  assert.equal(stats.calls.late, 1);
  assert.equal(stats.calls.ackP50Ms, 2 * MINUTE);
  // A request answered in time counts in time; one withdrawn before its deadline does not count.
  calls = mustApply(
    calls,
    requestEvent(president, asked + 4 * MINUTE, { urgency: 'immediate', callId: 'immediate00000000001' }),
    president,
  );
  calls = mustApply(calls, act('acknowledge', mDesk, asked + 5 * MINUTE, 'immediate00000000001'), mDesk);
  calls = mustApply(
    calls,
    requestEvent(president, asked + 6 * MINUTE, { urgency: 'immediate', callId: 'withdrawn00000000001' }),
    president,
  );
  calls = mustApply(calls, act('cancel', president, asked + 7 * MINUTE, 'withdrawn00000000001'), president);
  stats = lineStats({ tests: book, calls }, policies, asked + HOUR);
  assert.deepEqual([stats.calls.due, stats.calls.inTime, stats.calls.late, stats.calls.unanswered], [2, 1, 1, 1]);
});

test('a line can change its test schedule; a deadline longer than the interval is refused', () => {
  const r = resolveTestPolicy({ intervalMs: 4 * HOUR, ackDeadlineMs: 15 * MINUTE, senders: ['acceptor'] });
  assert.ok(r.ok);
  assert.equal(r.policy.intervalMs, 4 * HOUR);
  assert.deepEqual(
    dueTests(emptyTestBook(), r.policy, T0).map((e) => e.by.side),
    ['acceptor'],
  );
  assert.deepEqual(
    resolveTestPolicy({ senders: [] }).ok &&
      dueTests(emptyTestBook(), (resolveTestPolicy({ senders: [] }) as { policy: TestPolicy }).policy, T0),
    [],
  );
  for (const bad of [{ ackDeadlineMs: 2 * HOUR }, { intervalMs: 1 }, { senders: ['inviter', 'inviter'] }, { every: 1 }]) {
    const res = resolveTestPolicy(bad);
    assert.ok(!res.ok && res.error.code === 'CALL_POLICY_INVALID', JSON.stringify(bad));
  }
});

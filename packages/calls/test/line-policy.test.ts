// A line's own deadlines and test schedule: `policy_set` events folded with the line's calls and
// tests. Who may set them, what is refused (state unchanged), and that the books' deadlines are
// what the scheduler and the checks of both stations use from that point in the stream on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyLineEvent,
  applyPolicyConfig,
  type CallActor,
  type CallErrorCode,
  checkLineEvent,
  DEFAULT_LINE_POLICIES,
  describeCallEvent,
  dueActions,
  dueTests,
  emptyLineBooks,
  formatDuration,
  HUB,
  type LineBooks,
  type LineEvent,
  lineStats,
  nextWakeAt,
  parseDuration,
  type PolicySetEvent,
  resolveCallPolicy,
  resolveTestPolicy,
  summarizePolicy,
} from '../src/index.js';
import { by, CALL, hub, HOUR, MINUTE, mDesk, premier, president, requestEvent, SECOND, seat, T0, wDesk } from './helpers.js';

const wAdmin = seat('acceptor', 'w_admin', 'admin');

function setPolicy(actor: { side: 'inviter' | 'acceptor'; handle: string }, at: number, policy: PolicySetEvent['policy']): PolicySetEvent {
  return { action: 'policy_set', by: { side: actor.side, handle: actor.handle }, at, policy };
}

function apply(books: LineBooks, ev: LineEvent, actor: CallActor, now = ev.at): LineBooks {
  const r = applyLineEvent(books, ev, { actor, now });
  if (!r.ok) assert.fail(`${ev.action} refused: ${r.error.code} ${r.error.message}`);
  return r.books;
}

function snapshot(b: LineBooks): string {
  return JSON.stringify([[...b.calls.calls.entries()], [...b.tests.tests.entries()], b.policy]);
}

function refused(books: LineBooks, ev: unknown, actor: CallActor, code: CallErrorCode, now = T0): void {
  const before = snapshot(books);
  const r = applyLineEvent(books, ev as LineEvent, { actor, now });
  assert.equal(r.ok, false, `should be refused with ${code}: ${JSON.stringify(ev)}`);
  if (!r.ok) {
    assert.equal(r.error.code, code, r.error.message);
    assert.ok(r.error.message.length > 10, 'the error explains itself');
  }
  assert.equal(snapshot(books), before, 'the books are unchanged');
}

test('a line starts with the station\u2019s base policy: the defaults, or what it is given', () => {
  assert.deepEqual(emptyLineBooks().policy, DEFAULT_LINE_POLICIES);
  assert.equal(emptyLineBooks().policy.calls.ackDeadlineMs.flash, MINUTE);
  assert.equal(emptyLineBooks().policy.tests.intervalMs, HOUR);
  const base = { calls: { ...DEFAULT_LINE_POLICIES.calls, clockSkewMs: 0 }, tests: DEFAULT_LINE_POLICIES.tests };
  assert.equal(emptyLineBooks(base).policy, base);
});

test('a principal of either side, or an administrator, changes the deadlines; the rest stay', () => {
  let books = emptyLineBooks();
  books = apply(books, setPolicy(premier, T0, { calls: { ackDeadlineMs: { flash: 10 * SECOND } } }), premier);
  assert.equal(books.policy.calls.ackDeadlineMs.flash, 10 * SECOND);
  assert.equal(books.policy.calls.ackDeadlineMs.immediate, 5 * MINUTE, 'other urgencies keep theirs');
  assert.deepEqual(books.policy.tests, DEFAULT_LINE_POLICIES.tests);
  books = apply(books, setPolicy(president, T0 + 1, { tests: { intervalMs: 30 * MINUTE, ackDeadlineMs: 2 * MINUTE } }), president);
  assert.equal(books.policy.tests.intervalMs, 30 * MINUTE);
  assert.equal(books.policy.calls.ackDeadlineMs.flash, 10 * SECOND, 'a later change keeps the earlier ones it does not touch');
  books = apply(books, setPolicy(wAdmin, T0 + 2, { calls: { ackDeadlineMs: { routine: 2 * HOUR } } }), wAdmin);
  assert.equal(books.policy.calls.ackDeadlineMs.routine, 2 * HOUR);
  assert.deepEqual(summarizePolicy(books.policy).ackDeadlineMs, {
    flash: 10 * SECOND,
    immediate: 5 * MINUTE,
    priority: 30 * MINUTE,
    routine: 2 * HOUR,
  });
  assert.equal(summarizePolicy(books.policy).testIntervalMs, 30 * MINUTE);
});

test('refuses a change by someone else, by a scheduler, or with bad values, and changes nothing', () => {
  const books = emptyLineBooks();
  const ok = { calls: { ackDeadlineMs: { flash: 10 * SECOND } } };
  refused(books, setPolicy(wDesk, T0, ok), wDesk, 'CALL_POLICY_FORBIDDEN');
  refused(books, setPolicy(mDesk, T0, ok), mDesk, 'CALL_POLICY_FORBIDDEN');
  refused(books, setPolicy(premier, T0, ok), hub, 'CALL_ACTOR_MISMATCH');
  refused(books, setPolicy(premier, T0, ok), president, 'CALL_ACTOR_MISMATCH');
  refused(books, setPolicy(premier, T0, ok), seat('inviter', 'premier', 'principal', false), 'NOT_SEATED');
  refused(books, setPolicy(premier, T0 + HOUR, ok), premier, 'CALL_BAD_TIME');
  // Bad values: zero or negative, below a second, the test deadline not before the next test,
  // deputies after expiry, unknown settings, nothing at all.
  const bad: unknown[] = [
    { calls: { ackDeadlineMs: { flash: 0 } } },
    { calls: { ackDeadlineMs: { flash: -60_000 } } },
    { calls: { ackDeadlineMs: { flash: 500 } } },
    { calls: { ackDeadlineMs: { flash: 1.5 } } },
    { calls: { ackDeadlineMs: { urgent: 60_000 } } },
    { calls: { ackDeadlineMs: { routine: 23 * HOUR } } },
    { tests: { intervalMs: 10 * MINUTE, ackDeadlineMs: 20 * MINUTE } },
    { tests: { ackDeadlineMs: HOUR } },
    { tests: { intervalMs: 0 } },
    { colour: 'red' },
    {},
    { calls: {} },
  ];
  for (const policy of bad) refused(books, { action: 'policy_set', by: by(premier), at: T0, policy }, premier, 'CALL_POLICY_INVALID');
  // The test deadline is checked against the interval the line has, not the default one.
  const halfHourly = apply(books, setPolicy(premier, T0, { tests: { intervalMs: 30 * MINUTE } }), premier);
  refused(halfHourly, setPolicy(premier, T0 + 1, { tests: { ackDeadlineMs: 45 * MINUTE } }), premier, 'CALL_POLICY_INVALID');
});

test('the event\u2019s shape is checked like any line event', () => {
  assert.ok(checkLineEvent(setPolicy(premier, T0, { calls: { ackDeadlineMs: { flash: 2000 } } })).ok);
  for (const bad of [
    { action: 'policy_set', by: { side: 'inviter', station: true }, at: T0, policy: { calls: { ackDeadlineMs: { flash: 2000 } } } },
    { action: 'policy_set', by: by(premier), at: T0 },
    { action: 'policy_set', by: by(premier), at: T0, policy: { calls: { ackDeadlineMs: { flash: 2000 } } }, extra: 1 },
  ]) {
    const r = checkLineEvent(bad);
    assert.ok(!r.ok && r.error.code === 'CALL_MALFORMED', JSON.stringify(bad));
  }
});

test('a shortened flash deadline makes the hub escalate sooner, and the far side\u2019s check agrees', () => {
  let books = emptyLineBooks();
  books = apply(books, setPolicy(president, T0, { calls: { ackDeadlineMs: { flash: 5 * SECOND } } }), president);
  const request = requestEvent(premier, T0 + SECOND, { urgency: 'flash' });
  books = apply(books, request, premier);
  assert.equal(nextWakeAt(books.calls, books.policy.calls, T0 + 2 * SECOND), T0 + 6 * SECOND);
  assert.deepEqual(dueActions(books.calls, books.policy.calls, T0 + 5 * SECOND), [], 'not before its deadline');
  const due = dueActions(books.calls, books.policy.calls, T0 + 6 * SECOND);
  assert.deepEqual(
    due.map((e) => [e.action, 'level' in e ? e.level : undefined]),
    [
      ['escalate', 'duty_officer'],
      ['unanswered', undefined],
    ],
  );
  // Both stations fold the same stream: the mark at the line's deadline is taken…
  let folded = books;
  for (const ev of due) folded = apply(folded, ev, hub);
  assert.equal(folded.calls.calls.get(CALL)?.unansweredAt, T0 + 6 * SECOND);
  // …and one earlier is refused, as it would be on a line with the default minute.
  refused(
    books,
    { callId: CALL, talkId: request.talkId, action: 'unanswered', by: HUB, at: T0 + 3 * SECOND },
    hub,
    'CALL_NOT_DUE',
    T0 + 3 * SECOND,
  );
  const stats = lineStats(folded, folded.policy, T0 + 7 * SECOND);
  assert.equal(stats.unanswered, true);
  assert.equal(stats.unansweredSince, T0 + 6 * SECOND);
  // On the default policy the same request is not yet due.
  const plain = apply(emptyLineBooks(), request, premier);
  assert.deepEqual(dueActions(plain.calls, plain.policy.calls, T0 + 6 * SECOND), []);
});

test('a changed test schedule sets the next test and its deadline', () => {
  let books = emptyLineBooks();
  books = apply(books, setPolicy(premier, T0, { tests: { intervalMs: 10 * MINUTE, ackDeadlineMs: 30 * SECOND } }), premier);
  const first = dueTests(books.tests, books.policy.tests, T0).find((t) => t.by.side === 'inviter');
  assert.ok(first);
  books = apply(books, first, hub);
  assert.deepEqual(
    dueTests(books.tests, books.policy.tests, T0 + 29 * SECOND).filter((t) => t.action === 'test_unanswered'),
    [],
  );
  const verdict = dueTests(books.tests, books.policy.tests, T0 + 30 * SECOND).filter((t) => t.action === 'test_unanswered');
  assert.equal(verdict.length, 1, 'unanswered 30 s after it was sent, not 5 min');
  books = apply(books, verdict[0] as LineEvent, hub);
  assert.notEqual(books.tests.tests.get(first.testId)?.unansweredAt, null);
});

test('resolving overrides keeps the base for what is not given', () => {
  const base = resolveCallPolicy({ ackDeadlineMs: { flash: 3000 } });
  assert.ok(base.ok);
  const next = resolveCallPolicy({ ackDeadlineMs: { immediate: 60_000 } }, base.policy);
  assert.ok(next.ok && next.policy.ackDeadlineMs.flash === 3000 && next.policy.ackDeadlineMs.immediate === 60_000);
  const tests = resolveTestPolicy({ ackDeadlineMs: 10_000 }, { ...DEFAULT_LINE_POLICIES.tests, intervalMs: 60_000 });
  assert.ok(tests.ok && tests.policy.intervalMs === 60_000);
  const r = applyPolicyConfig(DEFAULT_LINE_POLICIES, { tests: { ackDeadlineMs: 2 * HOUR } });
  assert.ok(!r.ok && r.error.code === 'CALL_POLICY_INVALID' && /shorter than the interval/.test(r.error.message));
});

test('durations as people write and read them', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('0s'), 0, 'parsed, then refused by the policy check');
  for (const bad of ['-5m', '5', 'five minutes', '', '1w', 'm']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(formatDuration(60_000), '1m');
  assert.equal(formatDuration(4 * HOUR), '4h');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(2000), '2s');
});

test('a policy change reads in the timeline', () => {
  const text = describeCallEvent(
    setPolicy(president, T0, { calls: { ackDeadlineMs: { flash: 30_000 } }, tests: { intervalMs: 30 * MINUTE } }),
    'washington',
    'moscow',
  );
  assert.equal(text, "washington/president set the line's deadlines: flash 30s, test every 30m");
});

import { Id, Timestamp } from '@parley/protocol';
import Type, { type Static } from 'typebox';
import { otherSide, SeatBy, type Side, SIDES, StationBy } from './call-event.js';
import { type CallBook, farSide, type SeatActor, type StationActor, type Stamp } from './call-state.js';
import { type Refusal, refuse } from './errors.js';
import { type CallPolicy, callDeadlines, HUB } from './escalation.js';
import { checkWith } from './schema-check.js';

// Duty-officer test messages, as on the Moscow–Washington line: every hour each station sends
// a test, and the far side's duty officer must acknowledge it within minutes. A test nobody
// acknowledged in time marks the line unanswered. The test's text travels in the encrypted
// body; the stations see and record only what is here.
//
// Who emits what: each station emits the `test_sent` of its own side; the hub (the inviter)
// emits `test_unanswered`, like every scheduler verdict, so the total order settles whether an
// acknowledgement came in time. `dueTests` returns all of them; a station emits those whose
// `by.side` is its own.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const closed = { additionalProperties: false } as const;

export interface TestPolicy {
  /** One test per side per interval. The inviter sends at the start of each interval, the acceptor half-way. */
  readonly intervalMs: number;
  /** The far side's duty officer has this long to acknowledge a test. */
  readonly ackDeadlineMs: number;
  /** The sides that send tests; empty turns tests off on the line. */
  readonly senders: readonly Side[];
  readonly clockSkewMs: number;
}

export const DEFAULT_TEST_POLICY: TestPolicy = Object.freeze({
  intervalMs: HOUR,
  ackDeadlineMs: 5 * MINUTE,
  senders: Object.freeze(['inviter', 'acceptor'] as const),
  clockSkewMs: 5 * MINUTE,
});

export const TestPolicyConfig = Type.Object(
  {
    intervalMs: Type.Optional(Type.Integer({ minimum: MINUTE, maximum: 7 * DAY })),
    ackDeadlineMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: DAY })),
    senders: Type.Optional(Type.Array(Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')]), { maxItems: 2, uniqueItems: true })),
    clockSkewMs: Type.Optional(Type.Integer({ minimum: 0, maximum: HOUR })),
  },
  closed,
);
export type TestPolicyConfig = Static<typeof TestPolicyConfig>;

/** `base` (the defaults unless given) with a line's overrides; the deadline must fall before the next test. */
export function resolveTestPolicy(
  config: unknown = {},
  base: TestPolicy = DEFAULT_TEST_POLICY,
): { ok: true; policy: TestPolicy } | Refusal {
  const checked = checkWith(TestPolicyConfig, config, 'test policy', 'CALL_POLICY_INVALID');
  if (!checked.ok) return checked;
  const policy: TestPolicy = { ...base, ...checked.value };
  if (policy.ackDeadlineMs >= policy.intervalMs) {
    return refuse(
      'CALL_POLICY_INVALID',
      `the acknowledgement deadline of a test (${policy.ackDeadlineMs} ms) must be shorter than the interval between tests (${policy.intervalMs} ms)`,
    );
  }
  return { ok: true, policy };
}

export const TestSentEvent = Type.Object({ testId: Id, action: Type.Literal('test_sent'), by: StationBy, at: Timestamp }, closed);
export const TestAcknowledgedEvent = Type.Object(
  { testId: Id, action: Type.Literal('test_acknowledged'), by: SeatBy, at: Timestamp },
  closed,
);
export const TestUnansweredEvent = Type.Object(
  { testId: Id, action: Type.Literal('test_unanswered'), by: StationBy, at: Timestamp },
  closed,
);
export const TestEvent = Type.Union([TestSentEvent, TestAcknowledgedEvent, TestUnansweredEvent]);
export type TestEvent = Static<typeof TestEvent>;

export function checkTestEvent(value: unknown): { ok: true; value: TestEvent } | Refusal {
  return checkWith(TestEvent, value, 'test event');
}

export interface TestRecord {
  readonly testId: string;
  /** The side that sent the test; the other side's duty officers answer it. */
  readonly from: Side;
  readonly sentAt: number;
  readonly acknowledged: Stamp | null;
  readonly unansweredAt: number | null;
}

export interface TestBook {
  readonly tests: ReadonlyMap<string, TestRecord>;
}

export function emptyTestBook(): TestBook {
  return { tests: new Map() };
}

export interface TestContext {
  readonly actor: SeatActor | StationActor;
  readonly now: number;
  readonly policy: TestPolicy;
}

export type TestEffect =
  | {
      readonly kind: 'notify';
      readonly testId: string;
      readonly reason: TestEvent['action'];
      readonly side: Side;
      readonly role: 'duty_officer';
    }
  | { readonly kind: 'line_unanswered'; readonly testId: string; readonly since: number };

export type TestApplyResult = { ok: true; tests: TestBook; effects: TestEffect[] } | Refusal;

export function testDeadline(test: TestRecord, policy: TestPolicy): number {
  return test.sentAt + policy.ackDeadlineMs;
}

export function applyTestEvent(book: TestBook, event: TestEvent, ctx: TestContext): TestApplyResult {
  const shape = checkTestEvent(event);
  if (!shape.ok) return shape;
  const { actor } = ctx;
  if (event.at > ctx.now + ctx.policy.clockSkewMs)
    return refuse('CALL_BAD_TIME', `the event is dated ${event.at - ctx.now} ms in the future`);
  const existing = book.tests.get(event.testId);
  let record: TestRecord;
  let effects: TestEffect[];
  switch (event.action) {
    case 'test_sent': {
      if (actor.kind !== 'station' || actor.side !== event.by.side) {
        return refuse('CALL_NOT_STATION', `only the ${event.by.side} station sends its test messages`);
      }
      if (existing) return refuse('TEST_EXISTS', `test ${event.testId} was sent already`);
      record = { testId: event.testId, from: event.by.side, sentAt: event.at, acknowledged: null, unansweredAt: null };
      effects = [{ kind: 'notify', testId: event.testId, reason: 'test_sent', side: otherSide(event.by.side), role: 'duty_officer' }];
      break;
    }
    case 'test_acknowledged': {
      if (actor.kind !== 'seat') return refuse('CALL_ACTOR_MISMATCH', 'a test is acknowledged by a duty officer, not a station');
      if (!actor.seated) return refuse('NOT_SEATED', `${actor.handle} holds no seat on this line`);
      if (actor.side !== event.by.side || actor.handle !== event.by.handle) {
        return refuse(
          'CALL_ACTOR_MISMATCH',
          `the event says it is by ${event.by.handle} (${event.by.side}) but comes from ${actor.handle}`,
        );
      }
      if (!existing) return refuse('TEST_NOT_FOUND', `no test ${event.testId} on this line`);
      if (actor.side === existing.from) return refuse('TEST_NOT_FAR_SIDE', 'a test is acknowledged by the side it was sent to');
      if (actor.role !== 'duty_officer') return refuse('TEST_NOT_DUTY_OFFICER', 'only a duty officer acknowledges test messages');
      if (existing.acknowledged) {
        return refuse(
          'TEST_ALREADY_ACKNOWLEDGED',
          `test ${event.testId} was acknowledged by ${existing.acknowledged.by.side} at ${existing.acknowledged.at}`,
        );
      }
      if (event.at < existing.sentAt) return refuse('CALL_BAD_TIME', 'acknowledged before it was sent');
      // A late acknowledgement is kept: it shows the desk is manned again, and stats count it late.
      record = { ...existing, acknowledged: { at: event.at, by: event.by } };
      effects = [];
      break;
    }
    case 'test_unanswered': {
      if (actor.kind !== 'station' || actor.side !== 'inviter' || event.by.side !== 'inviter') {
        return refuse('CALL_NOT_STATION', "only the hub's scheduler marks a test unanswered");
      }
      if (!existing) return refuse('TEST_NOT_FOUND', `no test ${event.testId} on this line`);
      if (existing.acknowledged) return refuse('TEST_ALREADY_ACKNOWLEDGED', `test ${event.testId} was acknowledged`);
      if (existing.unansweredAt !== null) return refuse('TEST_INVALID_TRANSITION', `test ${event.testId} is marked unanswered already`);
      const due = testDeadline(existing, ctx.policy);
      if (event.at < due) return refuse('TEST_NOT_DUE', `too early to mark test ${event.testId} unanswered: due at ${due}`);
      record = { ...existing, unansweredAt: event.at };
      effects = [{ kind: 'line_unanswered', testId: event.testId, since: event.at }];
      break;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
  const tests = new Map(book.tests);
  tests.set(event.testId, record);
  return { ok: true, tests: { tests }, effects };
}

function slotOffset(side: Side, policy: TestPolicy): number {
  return side === 'inviter' ? 0 : Math.floor(policy.intervalMs / 2);
}

/**
 * The id of a side's scheduled test in the slot that holds `at`. Derived, not random, so two
 * processes (or a station retrying) that both decide to send it produce one test: the second
 * is refused TEST_EXISTS.
 */
export function scheduledTestId(side: Side, at: number, policy: TestPolicy): string {
  const slot = Math.floor((at - slotOffset(side, policy)) / policy.intervalMs);
  return `test-${side === 'inviter' ? 'i' : 'a'}-${slot}`;
}

/**
 * The test events due now: each sending side's test for the current slot if not yet sent
 * (after an outage, one test, not one per missed slot), and the verdict on tests past their
 * deadline without an acknowledgement. Idempotent like `dueActions`.
 */
export function dueTests(state: TestBook, policy: TestPolicy, now: number): TestEvent[] {
  const out: TestEvent[] = [];
  for (const side of SIDES) {
    if (!policy.senders.includes(side)) continue;
    const testId = scheduledTestId(side, now, policy);
    if (!state.tests.has(testId)) out.push({ testId, action: 'test_sent', by: { side, station: true }, at: now });
  }
  for (const test of state.tests.values()) {
    if (test.acknowledged || test.unansweredAt !== null || test.sentAt > now) continue;
    if (now >= testDeadline(test, policy)) out.push({ testId: test.testId, action: 'test_unanswered', by: HUB, at: now });
  }
  return out;
}

/** When to call `dueTests` next: the next slot of a sending side or the next test deadline. */
export function nextTestWakeAt(state: TestBook, policy: TestPolicy, now: number): number | null {
  let next: number | null = null;
  const consider = (t: number) => {
    if (next === null || t < next) next = t;
  };
  for (const side of SIDES) {
    if (!policy.senders.includes(side)) continue;
    if (!state.tests.has(scheduledTestId(side, now, policy))) consider(now);
    const offset = slotOffset(side, policy);
    consider((Math.floor((now - offset) / policy.intervalMs) + 1) * policy.intervalMs + offset);
  }
  for (const test of state.tests.values()) {
    if (!test.acknowledged && test.unansweredAt === null) consider(testDeadline(test, policy));
  }
  return next === null ? null : Math.max(next, now);
}

export const DEFAULT_STATS_WINDOW_MS = 7 * DAY;

export interface LineStatsOptions {
  /** How far back to look; default seven days. */
  readonly windowMs?: number;
  /** Only how this side answers (tests sent to it, requests made of it); default both sides. */
  readonly answeringSide?: Side;
}

export interface AckFigures {
  /** Tests or requests whose acknowledgement deadline has passed within the window. */
  readonly due: number;
  readonly inTime: number;
  /** Acknowledged, but after the deadline. */
  readonly late: number;
  /** Not acknowledged in time (late or never): what was, or is, marked unanswered. */
  readonly unanswered: number;
  /** Time from sending to acknowledgement, over everything acknowledged in the window. */
  readonly ackP50Ms: number | null;
  readonly ackMaxMs: number | null;
}

export interface LineStats {
  readonly from: number;
  readonly to: number;
  /** Share of due tests acknowledged in time, 0..1; null when no test fell due in the window. */
  readonly availability: number | null;
  readonly tests: AckFigures;
  readonly calls: AckFigures;
  /** Tests and call requests not acknowledged in time, within the window. */
  readonly unansweredCount: number;
  /**
   * The line is unanswered now: the latest test past its deadline has no acknowledgement, or a
   * request marked (or due to be marked) unanswered is still waiting for an answer.
   */
  readonly unanswered: boolean;
  readonly unansweredSince: number | null;
}

/**
 * Figures for a line's dashboard, computed from the deadlines rather than the scheduler's
 * marks so that they are right even while the scheduler is late. A deadline is met by an
 * acknowledgement strictly before it; at the deadline itself the request is late.
 */
export function lineStats(
  state: { tests: TestBook; calls: CallBook },
  policy: { tests: TestPolicy; calls: CallPolicy },
  now: number,
  options: LineStatsOptions = {},
): LineStats {
  const from = now - (options.windowMs ?? DEFAULT_STATS_WINDOW_MS);
  const answering = (side: Side) => options.answeringSide === undefined || options.answeringSide === side;

  const testSamples: Sample[] = [];
  let latestDueTest: { deadline: number; acknowledged: boolean } | null = null;
  for (const test of state.tests.tests.values()) {
    if (!answering(otherSide(test.from))) continue;
    const deadline = testDeadline(test, policy.tests);
    const ackAt = test.acknowledged?.at ?? null;
    if (deadline <= now && (latestDueTest === null || deadline > latestDueTest.deadline)) {
      latestDueTest = { deadline, acknowledged: ackAt !== null && ackAt <= now };
    }
    if (test.sentAt >= from && test.sentAt <= now) testSamples.push({ startedAt: test.sentAt, deadline, ackAt });
  }

  const callSamples: Sample[] = [];
  let waitingSince: number | null = null;
  for (const call of state.calls.calls.values()) {
    if (!answering(farSide(call))) continue;
    const { ackBy } = callDeadlines(call, policy.calls);
    const requestedAt = call.reached.requested.at;
    // A request the requester withdrew before the deadline was never waiting on anyone.
    const closedEarly = call.reached.cancelled !== undefined && call.reached.cancelled.at < ackBy;
    if (call.state === 'requested' && ackBy <= now) waitingSince = Math.min(waitingSince ?? ackBy, ackBy);
    if (requestedAt >= from && requestedAt <= now && !closedEarly)
      callSamples.push({ startedAt: requestedAt, deadline: ackBy, ackAt: call.answer?.at ?? null });
  }

  const tests = figures(testSamples, now);
  const calls = figures(callSamples, now);
  const testUnansweredSince = latestDueTest && !latestDueTest.acknowledged ? latestDueTest.deadline : null;
  const candidates = [testUnansweredSince, waitingSince].filter((t): t is number => t !== null);
  return {
    from,
    to: now,
    availability: tests.due === 0 ? null : tests.inTime / tests.due,
    tests,
    calls,
    unansweredCount: tests.unanswered + calls.unanswered,
    unanswered: candidates.length > 0,
    unansweredSince: candidates.length > 0 ? Math.min(...candidates) : null,
  };
}

interface Sample {
  startedAt: number;
  deadline: number;
  ackAt: number | null;
}

function figures(samples: Sample[], now: number): AckFigures {
  let due = 0;
  let inTime = 0;
  let late = 0;
  const delays: number[] = [];
  for (const s of samples) {
    const ackAt = s.ackAt !== null && s.ackAt <= now ? s.ackAt : null;
    if (ackAt !== null) delays.push(ackAt - s.startedAt);
    if (s.deadline > now) continue;
    due++;
    if (ackAt !== null && ackAt < s.deadline) inTime++;
    else if (ackAt !== null) late++;
  }
  delays.sort((a, b) => a - b);
  return {
    due,
    inTime,
    late,
    unanswered: due - inTime,
    ackP50Ms: delays.length === 0 ? null : delays[Math.ceil(delays.length / 2) - 1]!,
    ackMaxMs: delays.length === 0 ? null : delays[delays.length - 1]!,
  };
}

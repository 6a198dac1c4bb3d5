// Whatever members do, in whatever order, with whatever clock, the book holds only possible
// calls, a refusal changes nothing, and the scheduler converges: no step twice, none refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyCallEvent,
  type CallBook,
  type CallEvent,
  type CallPolicy,
  callInvariantViolations,
  DEFAULT_CALL_POLICY,
  dueActions,
  emptyCallBook,
  HUB,
  nextWakeAt,
  resolveCallPolicy,
  type SeatActor,
  type StationActor,
  URGENCIES,
} from '../src/index.js';
import {
  acceptorStation,
  by,
  HOUR,
  hub,
  MINUTE,
  mDesk,
  mDeputy,
  mInterpreter,
  premier,
  president,
  seat,
  snapshot,
  T0,
  wDesk,
  wDeputy,
  wInterpreter,
  wPress,
} from './helpers.js';

const seats: SeatActor[] = [
  premier,
  mDesk,
  mDeputy,
  mInterpreter,
  president,
  wDesk,
  wDeputy,
  wInterpreter,
  wPress,
  seat('inviter', 'm_press', 'press_officer'),
  seat('acceptor', 'w_gone', 'principal', false),
];
const CALL_IDS = ['callAAAAAAAAAAAAAAAA', 'callBBBBBBBBBBBBBBBB', 'callCCCCCCCCCCCCCCCC'];
const TALK_IDS = ['talkAAAAAAAAAAAAAAAA', 'talkBBBBBBBBBBBBBBBB'];
const MEMBER_ACTIONS = ['request', 'acknowledge', 'accept', 'decline', 'cancel', 'ring', 'connect', 'end', 'join', 'leave'] as const;

/** One step of a run: time moves (sometimes backwards), then someone acts or the scheduler ticks. */
const stepArb = fc.record({
  dt: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 2 * MINUTE }), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 8 * HOUR }), weight: 1 },
    { arbitrary: fc.integer({ min: -10 * MINUTE, max: 0 }), weight: 1 },
    { arbitrary: fc.constantFrom(MINUTE, 2 * MINUTE, 5 * MINUTE, 30 * MINUTE, 4 * HOUR, 24 * HOUR), weight: 1 },
  ),
  // The event's own date against the clock: usually now, sometimes in the past or the future.
  skew: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -HOUR, max: 10 * MINUTE })),
  kind: fc.oneof(
    { arbitrary: fc.constant<'tick'>('tick'), weight: 2 },
    { arbitrary: fc.constant<'forged'>('forged'), weight: 1 },
    { arbitrary: fc.constant<'advance'>('advance'), weight: 5 },
    { arbitrary: fc.constant<'request'>('request'), weight: 2 },
    { arbitrary: fc.constantFrom(...MEMBER_ACTIONS), weight: 8 },
  ),
  // Mostly the two principals (so calls get far), often anyone.
  actor: fc.oneof({ arbitrary: fc.constantFrom(0, 4), weight: 2 }, { arbitrary: fc.nat(seats.length - 1), weight: 1 }),
  // Sometimes the event claims to be by someone other than the sender.
  claimed: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.nat(seats.length - 1), weight: 1 }),
  call: fc.nat(CALL_IDS.length - 1),
  // Usually the call's own talk (calls 0 and 2 share one), now and then the other.
  wrongTalk: fc.oneof({ arbitrary: fc.constant(false), weight: 15 }, { arbitrary: fc.constant(true), weight: 1 }),
  urgency: fc.constantFrom(...URGENCIES),
  to: fc.option(fc.constantFrom('premier', 'president', 'm_interp', 'w_interp', 'nobody'), { freq: 2 }),
  scheduledIn: fc.option(fc.integer({ min: -HOUR, max: 48 * HOUR }), { freq: 2 }),
  level: fc.constantFrom('duty_officer' as const, 'deputy' as const),
  forgedAction: fc.constantFrom('expire' as const, 'unanswered' as const, 'escalate' as const),
  forgedBy: fc.constantFrom<SeatActor | StationActor>(hub, acceptorStation, mDesk),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function talkOf(s: Step): string {
  return TALK_IDS[(s.call + (s.wrongTalk ? 1 : 0)) % 2]!;
}

function memberEvent(s: Step, now: number): { event: CallEvent; actor: SeatActor } {
  const actor = seats[s.actor]!;
  const claimed = seats[s.claimed ?? s.actor]!;
  const base = { callId: CALL_IDS[s.call]!, talkId: talkOf(s), by: by(claimed), at: now + s.skew };
  const kind = s.kind as (typeof MEMBER_ACTIONS)[number];
  switch (kind) {
    case 'request':
      return { event: { ...base, action: 'request', urgency: s.urgency, ...(s.to ? { to: s.to } : {}) }, actor };
    case 'accept':
      return {
        event: { ...base, action: 'accept', ...(s.scheduledIn !== null ? { scheduledFor: Math.max(0, now + s.scheduledIn) } : {}) },
        actor,
      };
    default:
      return { event: { ...base, action: kind }, actor };
  }
}

/**
 * The next natural step for the chosen call, by someone entitled to take it: without these, a
 * random walk seldom gets a call as far as connected. Still checked by the reducer like any other.
 */
function advanceEvent(book: CallBook, s: Step, now: number): { event: CallEvent; actor: SeatActor } {
  const call = book.calls.get(CALL_IDS[s.call]!);
  const seatOf = (p: { side: string; handle: string }) => seats.find((x) => x.side === p.side && x.handle === p.handle)!;
  const base = { callId: CALL_IDS[s.call]!, talkId: talkOf(s), at: now };
  const pick = <T>(xs: readonly T[]): T => xs[s.actor % xs.length]!;
  if (!call) return memberEvent({ ...s, kind: 'request', claimed: null }, now);
  const far = seats.filter((x) => x.side !== call.requester.side && (x.handle === call.to || x.role === 'duty_officer'));
  switch (call.state) {
    case 'requested':
    case 'acknowledged': {
      const action = pick(['acknowledge', 'accept', 'accept', 'decline', 'cancel'] as const);
      const actor = action === 'cancel' ? seatOf(call.requester) : pick(far);
      return { event: { ...base, action, by: by(actor) }, actor };
    }
    case 'accepted':
    case 'ringing':
    case 'connected': {
      const next =
        call.state === 'accepted' ? 'ring' : call.state === 'ringing' ? 'connect' : pick(['end', 'join', 'join', 'leave'] as const);
      const actor =
        next === 'join' || call.participants.length === 0 ? seats[(s.actor * 7) % seats.length]! : seatOf(pick(call.participants));
      return { event: { ...base, action: next, by: by(actor) }, actor };
    }
    default:
      return memberEvent({ ...s, kind: 'request', claimed: null }, now);
  }
}

function forgedEvent(s: Step, now: number): { event: CallEvent; actor: SeatActor | StationActor } {
  const base = { callId: CALL_IDS[s.call]!, talkId: talkOf(s), by: HUB, at: now + s.skew };
  const event: CallEvent =
    s.forgedAction === 'escalate' ? { ...base, action: 'escalate', level: s.level } : { ...base, action: s.forgedAction };
  return { event, actor: s.forgedBy };
}

function assertPossible(book: CallBook, policy: CallPolicy): void {
  for (const call of book.calls.values()) {
    assert.deepEqual(callInvariantViolations(call, policy), [], `impossible call: ${JSON.stringify(call)}`);
  }
}

/** Run the scheduler to a fixed point at `now`; every due event must be accepted, none twice. */
function tick(book: CallBook, policy: CallPolicy, now: number, done: Set<string>): CallBook {
  const due = dueActions(book, policy, now);
  for (const event of due) {
    const key = `${event.callId}:${event.action}:${event.action === 'escalate' ? event.level : ''}`;
    assert.ok(!done.has(key), `${key} emitted twice`);
    done.add(key);
    const r = applyCallEvent(book, event, { actor: hub, now, policy });
    if (!r.ok) assert.fail(`the scheduler's own ${event.action} was refused: ${r.error.code} ${r.error.message}`);
    book = r.calls;
  }
  assert.deepEqual(dueActions(book, policy, now), [], 'converged: nothing more due at the same moment');
  // Nothing falls due before the announced wake-up time.
  const wake = nextWakeAt(book, policy, now);
  if (wake !== null) {
    assert.ok(wake > now, 'after a tick, the next wake is in the future');
    assert.deepEqual(dueActions(book, policy, wake - 1), [], 'nothing due before the wake-up');
    assert.ok(dueActions(book, policy, wake).length > 0, 'something due at the wake-up');
  } else {
    assert.deepEqual(dueActions(book, policy, now + 1000 * HOUR), [], 'no wake-up: nothing will ever be due');
  }
  return book;
}

const policies: CallPolicy[] = [
  DEFAULT_CALL_POLICY,
  (() => {
    const r = resolveCallPolicy({
      ackDeadlineMs: { routine: 10 * MINUTE, flash: 5000 },
      deputyAfterMs: { flash: 5000, routine: 10 * MINUTE },
      requestTtlMs: 2 * HOUR,
    });
    assert.ok(r.ok);
    return r.policy;
  })(),
];

test('any sequence of events and clock keeps every call possible; refusals change nothing; the scheduler converges', () => {
  // What the runs reached, so that the property cannot pass by never getting anywhere.
  const seen = new Set<string>();
  fc.assert(
    fc.property(fc.constantFrom(...policies), fc.array(stepArb, { minLength: 1, maxLength: 80, size: 'max' }), (policy, steps) => {
      let book = emptyCallBook();
      let now = T0;
      const done = new Set<string>();
      for (const s of steps) {
        now += s.dt;
        if (s.kind === 'tick') {
          book = tick(book, policy, now, done);
          assertPossible(book, policy);
          continue;
        }
        const { event, actor } =
          s.kind === 'forged' ? forgedEvent(s, now) : s.kind === 'advance' ? advanceEvent(book, s, now) : memberEvent(s, now);
        const before = snapshot(book);
        const r = applyCallEvent(book, event, { actor, now, policy });
        assert.equal(snapshot(book), before, 'the input book is never modified');
        if (r.ok) {
          book = r.calls;
          assertPossible(book, policy);
          seen.add(book.calls.get(event.callId)!.state);
          if (event.action === 'join') seen.add('join');
          // A scheduler event that got through (forged by the hub at the right time) counts as done.
          if (event.action === 'expire' || event.action === 'unanswered' || event.action === 'escalate') {
            done.add(`${event.callId}:${event.action}:${event.action === 'escalate' ? event.level : ''}`);
          }
        } else {
          assert.match(r.error.code, /^(CALL_|NOT_SEATED)/);
          seen.add(r.error.code);
        }
      }
      // And at the end of time, every request is settled.
      book = tick(book, policy, now + 1000 * HOUR, done);
      for (const call of book.calls.values()) {
        assert.ok(!['requested', 'acknowledged'].includes(call.state), `${call.callId} still ${call.state}`);
        if (call.unansweredAt !== null) seen.add('unanswered');
        if (call.escalated.deputy !== undefined) seen.add('deputy');
      }
    }),
    { numRuns: 400 },
  );
  const wanted = [
    ...['acknowledged', 'accepted', 'declined', 'cancelled', 'ringing', 'connected', 'ended', 'join', 'unanswered', 'deputy'],
    ...['NOT_SEATED', 'CALL_ACTOR_MISMATCH', 'CALL_NOT_STATION', 'CALL_BAD_TIME', 'CALL_NOT_FOUND', 'CALL_EXISTS', 'CALL_TALK_MISMATCH'],
    ...['CALL_INVALID_TRANSITION', 'CALL_ALREADY_DECIDED', 'CALL_EXPIRED', 'CALL_NOT_FAR_SIDE', 'CALL_NOT_ANSWERER', 'CALL_NOT_REQUESTER'],
    ...['CALL_NOT_PARTICIPANT', 'CALL_ALREADY_PARTICIPANT', 'CALL_NOT_DUE'],
  ];
  assert.deepEqual(
    wanted.filter((w) => !seen.has(w)),
    [],
    'states and refusals the runs never reached',
  );
});

test("both stations applying the same events in the hub's order hold the same book", () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }), (steps) => {
      // The hub validates and sequences; the acceptor validates what the hub sends.
      let hubBook = emptyCallBook();
      let acceptorBook = emptyCallBook();
      let now = T0;
      const log: { event: CallEvent; actor: SeatActor | StationActor; now: number }[] = [];
      for (const s of steps) {
        now += Math.max(0, s.dt);
        const batch =
          s.kind === 'tick'
            ? dueActions(hubBook, DEFAULT_CALL_POLICY, now).map((event) => ({ event, actor: hub as SeatActor | StationActor }))
            : [s.kind === 'forged' ? forgedEvent(s, now) : s.kind === 'advance' ? advanceEvent(hubBook, s, now) : memberEvent(s, now)];
        for (const { event: sent, actor } of batch) {
          // The hub dates every event it sequences with its own clock.
          const event = { ...sent, at: now };
          const r = applyCallEvent(hubBook, event, { actor, now, policy: DEFAULT_CALL_POLICY });
          if (r.ok) {
            hubBook = r.calls;
            log.push({ event, actor, now });
          }
        }
      }
      // The acceptor receives later, its clock a little behind or ahead.
      for (const { event, actor, now: sentAt } of log) {
        const r = applyCallEvent(acceptorBook, event, {
          actor,
          now: sentAt + (sentAt % 2 === 0 ? -MINUTE : MINUTE),
          policy: DEFAULT_CALL_POLICY,
        });
        if (!r.ok) assert.fail(`the acceptor refused what the hub accepted: ${r.error.code} ${r.error.message}`);
        acceptorBook = r.calls;
      }
      assert.equal(snapshot(acceptorBook), snapshot(hubBook));
    }),
    { numRuns: 200 },
  );
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Call } from '@parley/calls';
import {
  allowedActions,
  callAlerts,
  callErrorText,
  callHistory,
  callMarks,
  isUnanswered,
  type Me,
  pendingTests,
  testAlerts,
} from '../src/calls.js';

const T = 1_700_000_000_000;

function call(over: Partial<Call> = {}): Call {
  return {
    callId: 'call-0000000000000001',
    talkId: 'talk-0000000000000001',
    urgency: 'flash',
    requester: { side: 'acceptor', handle: 'chief' },
    to: 'chief',
    state: 'requested',
    reached: { requested: { at: T, by: { side: 'acceptor', handle: 'chief' } } },
    answer: null,
    scheduledFor: null,
    escalated: {},
    unansweredAt: null,
    participants: [{ side: 'acceptor', handle: 'chief' }],
    lastAt: T,
    ...over,
  };
}

const chiefW: Me = { side: 'inviter', handle: 'chief', role: 'principal' };
const dutyW: Me = { side: 'inviter', handle: 'duty', role: 'duty_officer' };
const pressW: Me = { side: 'inviter', handle: 'press', role: 'press_officer' };
const chiefM: Me = { side: 'acceptor', handle: 'chief', role: 'principal' };
const dutyM: Me = { side: 'acceptor', handle: 'duty', role: 'duty_officer' };

describe('what an officer may do with a call', () => {
  it('lets the counterpart, duty officers and deputies of the far side answer; the requester side cancel', () => {
    assert.deepEqual(allowedActions(call(), chiefW), ['acknowledge', 'accept', 'decline']);
    assert.deepEqual(allowedActions(call(), dutyW), ['acknowledge', 'accept', 'decline']);
    assert.deepEqual(allowedActions(call(), pressW), [], 'the request is for chief');
    assert.deepEqual(allowedActions(call({ to: null }), pressW), ['acknowledge', 'accept', 'decline'], 'a request naming nobody');
    assert.deepEqual(allowedActions(call(), chiefM), ['cancel']);
    assert.deepEqual(allowedActions(call(), dutyM), ['cancel'], 'a duty officer of the requester’s side');
    assert.deepEqual(allowedActions(call({ state: 'acknowledged' }), chiefW), ['accept', 'decline']);
  });

  it('lets participants ring, connect and end a live call, and others join', () => {
    const accepted = call({
      state: 'accepted',
      participants: [
        { side: 'acceptor', handle: 'chief' },
        { side: 'inviter', handle: 'duty' },
      ],
    });
    assert.deepEqual(allowedActions(accepted, dutyW), ['ring', 'end', 'leave']);
    assert.deepEqual(allowedActions({ ...accepted, state: 'ringing' }, chiefM), ['connect', 'end', 'leave']);
    assert.deepEqual(allowedActions({ ...accepted, state: 'connected' }, chiefW), ['join']);
    assert.deepEqual(allowedActions({ ...accepted, state: 'ended' }, chiefW), []);
  });
});

describe('alerts and marks', () => {
  it('tells the officer of an incoming request, and sounds the alarm once it is unanswered or escalated to their role', () => {
    assert.deepEqual(
      callAlerts([call()], chiefW, 'moscow').map((a) => [a.level, a.text]),
      [['notice', 'Incoming flash call request from moscow/chief for chief: please acknowledge']],
    );
    assert.deepEqual(callAlerts([call()], chiefM, 'washington'), [], 'not for the side that asked');
    const late = call({ unansweredAt: T + 60_000, escalated: { duty_officer: T + 60_000 } });
    assert.deepEqual(
      callAlerts([late], dutyW, 'moscow').map((a) => [a.level, a.text]),
      [['alarm', 'UNANSWERED flash call request from moscow/chief — duty officers alerted: acknowledge it now']],
    );
    assert.equal(
      callAlerts([call({ state: 'acknowledged', answer: { at: T, by: { side: 'inviter', handle: 'duty' } } })], dutyW, 'moscow').length,
      0,
    );
    assert.equal(isUnanswered(late), true);
    assert.equal(
      isUnanswered({ ...late, state: 'acknowledged', answer: { at: T + 70_000, by: { side: 'inviter', handle: 'duty' } } }),
      false,
    );
    assert.deepEqual(callMarks(late, 'washington'), ['UNANSWERED', 'duty officers of washington alerted']);
  });

  it('lists the states reached in time order with who brought each about', () => {
    const c = call({
      state: 'accepted',
      reached: {
        requested: { at: T, by: { side: 'acceptor', handle: 'chief' } },
        accepted: { at: T + 20_000, by: { side: 'inviter', handle: 'duty' } },
        acknowledged: { at: T + 10_000, by: { side: 'inviter', handle: 'duty' } },
      },
    });
    assert.deepEqual(
      callHistory(c, { inviter: 'washington', acceptor: 'moscow' }).map((h) => `${h.state} ${h.by}`),
      ['requested moscow/chief', 'acknowledged washington/duty', 'accepted washington/duty'],
    );
  });

  it('says refusals in plain words with the code, and passes unknown ones on as the station said them', () => {
    assert.match(callErrorText('CALL_ALREADY_DECIDED', 'x'), /already been accepted, declined or cancelled.*\(CALL_ALREADY_DECIDED\)$/);
    assert.equal(callErrorText('VALIDATION_FAILED', 'nobody holds no seat'), 'nobody holds no seat (VALIDATION_FAILED)');
  });
});

describe('test messages', () => {
  it('asks the duty officers of the other side, and only them, to acknowledge a test message still open', () => {
    const tests = [
      { testId: 'test-a-1', from: 'acceptor' as const, sentAt: T, acknowledged: null, unansweredAt: null },
      { testId: 'test-i-1', from: 'inviter' as const, sentAt: T, acknowledged: null, unansweredAt: null },
      {
        testId: 'test-a-0',
        from: 'acceptor' as const,
        sentAt: T,
        acknowledged: { at: T, by: { side: 'inviter' as const, handle: 'duty' } },
        unansweredAt: null,
      },
      { testId: 'test-a-2', from: 'acceptor' as const, sentAt: T, acknowledged: null, unansweredAt: T + 300_000 },
    ];
    assert.deepEqual(
      pendingTests(tests, dutyW).map((t) => t.testId),
      ['test-a-1'],
    );
    assert.deepEqual(pendingTests(tests, chiefW), []);
    assert.deepEqual(
      pendingTests(tests, dutyM).map((t) => t.testId),
      ['test-i-1'],
    );
    assert.match(testAlerts(tests, dutyW, 'moscow')[0]?.text ?? '', /^Test message test-a-1 from moscow awaits/);
  });
});

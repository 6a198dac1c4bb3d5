// The line's deadlines as the calls panel words them (GET /api/v1/lines/:line/calls `policy`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicySummary } from '@parley/calls';
import { durationWords, policyText, urgencyHelp } from '../src/calls.js';

const DEFAULTS: PolicySummary = {
  ackDeadlineMs: { flash: 60_000, immediate: 300_000, priority: 1_800_000, routine: 14_400_000 },
  deputyAfterMs: { flash: 60_000, immediate: 300_000, priority: 1_800_000, routine: 14_400_000 },
  requestTtlMs: 86_400_000,
  testIntervalMs: 3_600_000,
  testAckDeadlineMs: 300_000,
  testSenders: ['inviter', 'acceptor'],
};

describe('a line\u2019s deadlines in words', () => {
  it('words durations', () => {
    assert.equal(durationWords(60_000), '1 minute');
    assert.equal(durationWords(90_000), '1 minute 30 seconds');
    assert.equal(durationWords(2000), '2 seconds');
    assert.equal(durationWords(1000), '1 second');
    assert.equal(durationWords(4 * 3_600_000), '4 hours');
  });

  it('tells the requester the line\u2019s own deadline, or the default one', () => {
    assert.equal(
      urgencyHelp('flash', { ...DEFAULTS, ackDeadlineMs: { ...DEFAULTS.ackDeadlineMs, flash: 2000 } }),
      'acknowledge within 2 seconds',
    );
    assert.equal(urgencyHelp('routine', DEFAULTS), 'acknowledge within 4 hours');
    assert.equal(urgencyHelp('flash', null), 'acknowledge within 1 minute');
  });

  it('sums up the policy', () => {
    assert.equal(
      policyText(DEFAULTS),
      'Requests must be acknowledged within: flash 1 minute, immediate 5 minutes, priority 30 minutes, routine 4 hours. A test message every 1 hour, to be acknowledged within 5 minutes.',
    );
    assert.match(policyText({ ...DEFAULTS, testSenders: [] }), /No test messages\.$/);
  });
});

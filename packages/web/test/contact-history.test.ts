import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Call } from '../src/calls.js';
import { callContacts, contactHistory, formatDuration, WEEK_MS, weekStartOf } from '../src/contact-history.js';

const DAY = 24 * 3600_000;
const at = (iso: string) => Date.parse(iso);

describe('contact history', () => {
  it('weeks start on Monday 00:00 UTC', () => {
    assert.equal(new Date(weekStartOf(at('2026-11-25T17:31:30Z'))).toISOString(), '2026-11-23T00:00:00.000Z');
    assert.equal(new Date(weekStartOf(at('2026-11-23T00:00:00Z'))).toISOString(), '2026-11-23T00:00:00.000Z');
    assert.equal(new Date(weekStartOf(at('2026-11-22T23:59:59Z'))).toISOString(), '2026-11-16T00:00:00.000Z');
    assert.equal(new Date(weekStartOf(0)).toISOString(), '1969-12-29T00:00:00.000Z');
  });

  it('counts messages per week both ways, including silent weeks, up to the current week', () => {
    const now = at('2026-11-25T12:00:00Z');
    const h = contactHistory(
      [
        { dir: 'out', storedAt: at('2026-11-03T10:00:00Z') },
        { dir: 'in', storedAt: at('2026-11-03T10:05:00Z') },
        { dir: 'in', storedAt: at('2026-11-24T09:00:00Z') },
      ],
      now,
    );
    assert.deepEqual(
      h.weeks.map((w) => [new Date(w.weekStart).toISOString().slice(0, 10), w.sent, w.received]),
      [
        ['2026-11-02', 1, 1],
        ['2026-11-09', 0, 0],
        ['2026-11-16', 0, 0],
        ['2026-11-23', 0, 1],
      ],
    );
    assert.equal(h.total, 3);
    assert.equal(h.sent, 1);
    assert.equal(h.received, 2);
  });

  it('finds the longest silence and the one the latest message broke ("first contact since …")', () => {
    const t0 = at('2026-01-05T08:00:00Z');
    const h = contactHistory(
      [
        { dir: 'out', storedAt: t0 },
        { dir: 'in', storedAt: t0 + 30 * DAY },
        { dir: 'out', storedAt: t0 + 31 * DAY },
        { dir: 'in', storedAt: t0 + 41 * DAY },
      ],
      t0 + 42 * DAY,
    );
    assert.deepEqual(h.longestGap, { from: t0, to: t0 + 30 * DAY, ms: 30 * DAY });
    assert.deepEqual(h.latestGap, { from: t0 + 31 * DAY, to: t0 + 41 * DAY, ms: 10 * DAY });
    assert.equal(h.firstAt, t0);
    assert.equal(h.lastAt, t0 + 41 * DAY);
  });

  it('an empty line has no gaps and only the current week', () => {
    const h = contactHistory([], at('2026-11-25T12:00:00Z'));
    assert.equal(h.longestGap, null);
    assert.equal(h.latestGap, null);
    assert.equal(h.weeks.length, 1);
    assert.equal(h.lastAt, null);
  });

  it('shows at most maxWeeks weeks, ending with the current one', () => {
    const now = at('2026-11-25T12:00:00Z');
    const h = contactHistory([{ dir: 'in', storedAt: now - 52 * WEEK_MS }], now, 12);
    assert.equal(h.weeks.length, 12);
    assert.equal(h.weeks.at(-1)?.weekStart, weekStartOf(now));
    assert.equal(
      h.weeks.reduce((n, w) => n + w.sent + w.received, 0),
      0,
    );
  });

  it('counts call requests and connected calls as contacts, by the side that asked, per week and in the gaps', () => {
    const t0 = at('2026-11-02T08:00:00Z');
    const stamp = (t: number, side: 'inviter' | 'acceptor') => ({ at: t, by: { side, handle: 'chief' } });
    const call = (id: string, side: 'inviter' | 'acceptor', requested: number, connected?: number): Call =>
      ({
        callId: id,
        requester: { side, handle: 'chief' },
        reached:
          connected === undefined
            ? { requested: stamp(requested, side) }
            : { requested: stamp(requested, side), connected: stamp(connected, side) },
      }) as unknown as Call; // only the fields callContacts reads
    const calls = [call('c1', 'acceptor', t0 + 20 * DAY, t0 + 20 * DAY + 60_000), call('c2', 'inviter', t0 + 22 * DAY)];
    // We are the inviter: c1 was asked for by the other side, c2 by ours.
    assert.deepEqual(callContacts(calls, 'inviter'), [
      { dir: 'in', storedAt: t0 + 20 * DAY, kind: 'call-request' },
      { dir: 'in', storedAt: t0 + 20 * DAY + 60_000, kind: 'call' },
      { dir: 'out', storedAt: t0 + 22 * DAY, kind: 'call-request' },
    ]);
    const h = contactHistory([{ dir: 'out', storedAt: t0 }, ...callContacts(calls, 'inviter')], t0 + 23 * DAY);
    assert.equal(h.total, 4);
    assert.deepEqual([h.messages, h.callRequests, h.calls], [1, 2, 1]);
    assert.deepEqual(
      h.weeks.map((w) => [new Date(w.weekStart).toISOString().slice(0, 10), w.messages, w.callRequests, w.calls]),
      [
        ['2026-11-02', 1, 0, 0],
        ['2026-11-09', 0, 0, 0],
        ['2026-11-16', 0, 1, 1],
        ['2026-11-23', 0, 1, 0],
      ],
    );
    // The call request after 20 silent days is "the first contact since" the message.
    assert.deepEqual(h.longestGap, { from: t0, to: t0 + 20 * DAY, ms: 20 * DAY });
    assert.equal(h.lastAt, t0 + 22 * DAY);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(40_000), '40 s');
    assert.equal(formatDuration(5 * 60_000), '5 min');
    assert.equal(formatDuration(3 * 3600_000), '3 h');
    assert.equal(formatDuration(5 * 3600_000 + 20 * 60_000), '5 h 20 min');
    assert.equal(formatDuration(3 * DAY), '3 days');
  });
});

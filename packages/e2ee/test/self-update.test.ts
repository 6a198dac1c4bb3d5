import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSelfUpdateDue, offerSelfUpdateWithRetry, SELF_UPDATE_SCHEDULE, type SelfUpdateOutcome } from '../src/index.js';

const DAY = 24 * 3600_000;

test('a self-update is due after so many sends or once the last one is a day old, never while one is pending', () => {
  const now = 10 * DAY;
  const fresh = { sendsSinceUpdate: 0, lastUpdateAt: now - 1000, pending: false };
  assert.equal(isSelfUpdateDue(fresh, now), false);
  assert.equal(isSelfUpdateDue({ ...fresh, sendsSinceUpdate: SELF_UPDATE_SCHEDULE.every - 1 }, now), false);
  assert.equal(isSelfUpdateDue({ ...fresh, sendsSinceUpdate: SELF_UPDATE_SCHEDULE.every }, now), true);
  assert.equal(isSelfUpdateDue({ ...fresh, lastUpdateAt: now - DAY - 1 }, now), true);
  assert.equal(isSelfUpdateDue({ ...fresh, lastUpdateAt: null }, now), true);
  assert.equal(isSelfUpdateDue({ ...fresh, lastUpdateAt: null, pending: true }, now), false);
  assert.equal(isSelfUpdateDue({ ...fresh, sendsSinceUpdate: 3 }, now, { every: 3, maxAgeMs: DAY }), true);
});

test('a stale self-update is offered again once the commit that won has been processed', async () => {
  let epoch = 4;
  const offered: number[] = [];
  let catchUps = 0;
  const r = await offerSelfUpdateWithRetry(
    {
      offer: async (): Promise<SelfUpdateOutcome> => {
        offered.push(epoch);
        return offered.length === 1 ? { ok: false, reason: 'WRONG_EPOCH' } : { ok: true, epoch: epoch + 1 };
      },
      epoch: () => epoch,
      catchUp: async () => {
        // The commit that won reaches the device on the second look.
        if (++catchUps === 2) epoch = 5;
      },
    },
    { pauseMs: 1 },
  );
  assert.deepEqual(r, { ok: true, epoch: 6 });
  assert.deepEqual(offered, [4, 5], 'offered at the old epoch, then once more at the new one');
  assert.equal(catchUps, 2);
});

test('losing twice is reported, not retried forever', async () => {
  let offers = 0;
  const r = await offerSelfUpdateWithRetry(
    {
      offer: async () => {
        offers++;
        return { ok: false, reason: 'WRONG_EPOCH' };
      },
      epoch: () => 1,
      catchUp: async () => {},
    },
    { rounds: 3, pauseMs: 1 },
  );
  assert.deepEqual(r, { ok: false, reason: 'WRONG_EPOCH' });
  assert.equal(offers, 2);
});

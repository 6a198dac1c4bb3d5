import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RosterDevice } from '../src/e2ee/line-engine.js';
import { compareRosters, deviceKey, seenKeys } from '../src/e2ee/roster-view.js';

const dev = (leafIndex: number, station: string, handle: string, deviceId: string, issuedAt = 1): RosterDevice => ({
  leafIndex,
  station,
  handle,
  deviceId,
  signatureKeyFingerprint: `fp-${deviceId}`,
  issuedAt,
});

const recW = dev(0, 'washington', 'recorder', 'rec-w');
const recM = dev(1, 'moscow', 'recorder', 'rec-m');
const me = dev(2, 'washington', 'chief', 'web-1');
const boris = dev(3, 'moscow', 'chief', 'cli-1');
const opts = { seen: null, thisDeviceId: 'web-1' };

describe('roster comparison', () => {
  it('agrees when both views hold the same devices at the same epoch', () => {
    const all = [recW, recM, me, boris];
    const c = compareRosters({ epoch: 4, devices: all }, { epoch: 4, devices: [...all].reverse() }, opts);
    assert.equal(c.status, 'match');
    assert.deepEqual(
      c.rows.map((r) => r.deviceId),
      ['rec-w', 'rec-m', 'web-1', 'cli-1'],
    );
    assert.deepEqual(
      c.rows.filter((r) => r.isThisDevice).map((r) => r.deviceId),
      ['web-1'],
    );
  });

  it('flags a device only the station shows, or only the device, at the same epoch', () => {
    const hidden = dev(4, 'moscow', 'chief', 'ghost-1');
    const c = compareRosters({ epoch: 5, devices: [recW, recM, me, boris, hidden] }, { epoch: 5, devices: [recW, recM, me, boris] }, opts);
    assert.equal(c.status, 'mismatch');
    const ghost = c.rows.find((r) => r.deviceId === 'ghost-1');
    assert.deepEqual([ghost?.inDevice, ghost?.inStation], [true, false]);
    const moved = compareRosters(
      { epoch: 5, devices: [recW, recM, me, boris] },
      { epoch: 5, devices: [recW, recM, me, { ...boris, leafIndex: 7 }] },
      opts,
    );
    assert.equal(moved.status, 'mismatch');
    assert.equal(moved.rows.find((r) => r.deviceId === 'cli-1')?.differs, true);
  });

  it('does not call views at different epochs a mismatch', () => {
    const c = compareRosters({ epoch: 5, devices: [recW, recM, me] }, { epoch: 6, devices: [recW, recM, me, boris] }, opts);
    assert.equal(c.status, 'catching-up');
    assert.equal(compareRosters(null, { epoch: 6, devices: [recW] }, opts).status, 'no-device-view');
    assert.equal(compareRosters({ epoch: 6, devices: [recW] }, null, opts).status, 'no-station-view');
  });

  it('highlights devices added since the officer last looked, and lists those removed', () => {
    const seen = [recW, recM, me, boris].map(deviceKey);
    const newcomer = dev(4, 'moscow', 'interpreter', 'cli-2');
    const c = compareRosters(
      { epoch: 7, devices: [recW, recM, me, newcomer] },
      { epoch: 7, devices: [recW, recM, me, newcomer] },
      { ...opts, seen },
    );
    assert.deepEqual(
      c.rows.filter((r) => r.isNew).map((r) => r.deviceId),
      ['cli-2'],
    );
    assert.deepEqual(
      c.removedSinceSeen.map((r) => [r.station, r.handle, r.deviceId]),
      [['moscow', 'chief', 'cli-1']],
    );
    assert.deepEqual(seenKeys(c), [recW, recM, me, newcomer].map(deviceKey).sort());
    // Never looked before: nothing is "new", the first look is the baseline.
    assert.equal(
      compareRosters({ epoch: 7, devices: [recW, me] }, null, opts).rows.some((r) => r.isNew),
      false,
    );
  });
});

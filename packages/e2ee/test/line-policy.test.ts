import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addMembers,
  createGroup,
  currentSeats,
  joinFromWelcome,
  type LineSeats,
  linePolicyFrom,
  processMessage,
  RECORDER_HANDLE,
  rememberSeats,
  updateOwnKeys,
  validateKeyPackage,
} from '../src/index.js';
import { keyPackageOf, makeDevice, makeStation, rejectsWith } from './helpers.js';

const moscow = makeStation('moscow');
const washington = makeStation('washington');

function line(ours: string[], peer: string[], formerSeats?: LineSeats['formerSeats']): LineSeats {
  return {
    ours: { station: 'moscow', publicKey: moscow.publicKey, seats: ours.map((handle) => ({ handle })) },
    peer: { station: 'washington', publicKey: washington.publicKey, seats: peer.map((handle) => ({ handle, name: handle })) },
    ...(formerSeats ? { formerSeats } : {}),
  };
}

test('the policy pins both station keys and seats both sides and both recorders', () => {
  const policy = linePolicyFrom(line(['chief'], ['chairman', 'aide']));
  assert.deepEqual([...policy.stationKeys.keys()], ['moscow', 'washington']);
  assert.deepEqual(policy.stationKeys.get('washington'), washington.publicKey);
  assert.deepEqual(policy.seats, [
    { station: 'moscow', handle: 'chief' },
    { station: 'moscow', handle: RECORDER_HANDLE },
    { station: 'washington', handle: 'chairman' },
    { station: 'washington', handle: 'aide' },
    { station: 'washington', handle: RECORDER_HANDLE },
  ]);
  assert.deepEqual(policy.seats, currentSeats(line(['chief'], ['chairman', 'aide'])));
});

test('seats remembered from before stay in the policy, each once', () => {
  const known = rememberSeats([], line(['chief', 'deputy'], ['chairman']));
  // The deputy's seat is removed; what is remembered still holds it.
  const now = line(['chief'], ['chairman']);
  const remembered = rememberSeats(known, now);
  assert.deepEqual(remembered, known);
  const policy = linePolicyFrom({ ...now, formerSeats: remembered });
  assert.equal(policy.seats.length, 5);
  assert.ok(policy.seats.some((s) => s.station === 'moscow' && s.handle === 'deputy'));
  assert.ok(!linePolicyFrom(now).seats.some((s) => s.handle === 'deputy'));
});

test('a former seat keeps its member’s commits verifiable; only a current seat lets a device be added', async () => {
  const before = line(['chief', 'deputy'], ['chairman']);
  const after = line(['chief'], ['chairman']);
  const seatedThen = linePolicyFrom(before);
  const hubDevice = await makeDevice(moscow, RECORDER_HANDLE);
  const deputy = await makeDevice(moscow, 'deputy');
  const chairman = await makeDevice(washington, 'chairman');
  let hub = await createGroup(hubDevice, { groupId: 'line-x', policy: seatedThen });
  const kpDeputy = await keyPackageOf(deputy);
  const kpChairman = await keyPackageOf(chairman);
  const add = await addMembers(hub, [kpDeputy.keyPackage, kpChairman.keyPackage], seatedThen);
  hub = add.state;
  const deputyState = (await joinFromWelcome(deputy, add.welcome, [kpDeputy.secrets], seatedThen)).state;
  const chairmanState = (await joinFromWelcome(chairman, add.welcome, [kpChairman.secrets], seatedThen)).state;

  // The deputy refreshed its keys while seated; the chairman processes that commit after the
  // deputy's seat was removed.
  const update = await updateOwnKeys(deputyState);
  await rejectsWith(() => processMessage(chairmanState, update.commit, linePolicyFrom(after)), 'NOT_SEATED');
  const remembered = linePolicyFrom({ ...after, formerSeats: rememberSeats([], before) });
  const r = await processMessage(chairmanState, update.commit, remembered);
  assert.equal(r.kind, 'commit');

  // Deciding whom to add uses the seats held now.
  const another = await makeDevice(moscow, 'deputy');
  await rejectsWith(async () => validateKeyPackage((await keyPackageOf(another)).keyPackage, linePolicyFrom(after)), 'NOT_SEATED');
});

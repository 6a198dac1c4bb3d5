// Who may be in a line's group, and what happens to those who leave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMlsMessage, encodeMlsMessage } from 'ts-mls';
import {
  addMembers,
  attachBinding,
  createGroup,
  decodeBinding,
  decrypt,
  encodeBinding,
  encrypt,
  exportSecret,
  generateDevice,
  joinFromWelcome,
  processMessage,
  removeMembers,
  roster,
  serializeGroup,
  signBinding,
  updateOwnKeys,
  validateKeyPackage,
  verifyBinding,
} from '../src/index.js';
import { assertUnchanged, keyPackageOf, makeDevice, makePolicy, makeStation, rejectsWith, text, untext } from './helpers.js';

const moscow = makeStation('moscow');
const washington = makeStation('washington');
const seats = [
  { station: 'moscow', handle: 'recorder' },
  { station: 'moscow', handle: 'chief' },
  { station: 'washington', handle: 'recorder' },
  { station: 'washington', handle: 'chairman' },
];
const policy = makePolicy([moscow, washington], seats);

/** Hub (moscow recorder) plus the given devices, all joined. */
async function lineWith(...devices: Awaited<ReturnType<typeof makeDevice>>[]) {
  const hub = await makeDevice(moscow, 'recorder');
  let hubState = await createGroup(hub, { groupId: 'line-1', policy });
  const kps = await Promise.all(devices.map((d) => keyPackageOf(d)));
  const add = await addMembers(
    hubState,
    kps.map((k) => k.keyPackage),
    policy,
  );
  hubState = add.state;
  const states = await Promise.all(devices.map(async (d, i) => (await joinFromWelcome(d, add.welcome, [kps[i]!.secrets], policy)).state));
  return { hub, hubState, states };
}

test('bindings: signed by the named station verify; tampered or foreign ones do not', async () => {
  const device = await generateDevice({ station: 'washington', handle: 'chairman', deviceId: 'laptop-0001' });
  const fields = {
    station: 'washington',
    handle: 'chairman',
    deviceId: 'laptop-0001',
    signatureKey: device.signaturePublicKey,
    issuedAt: 1_700_000_000_000,
  };
  const good = await signBinding(fields, washington.sign);
  assert.equal(verifyBinding(good, washington.publicKey), true);
  assert.equal(verifyBinding(good, moscow.publicKey), false, 'signed by washington, not moscow');
  assert.equal(verifyBinding({ ...good, handle: 'chief' }, washington.publicKey), false);
  assert.equal(verifyBinding({ ...good, deviceId: 'laptop-0002' }, washington.publicKey), false);
  assert.equal(verifyBinding({ ...good, issuedAt: good.issuedAt + 1 }, washington.publicKey), false);
  const otherKey = (await generateDevice({ station: 'washington', handle: 'chairman', deviceId: 'laptop-0001' })).signaturePublicKey;
  assert.equal(verifyBinding({ ...good, signatureKey: otherKey }, washington.publicKey), false);
  const sig = good.stationSignature.slice();
  sig[0] = (sig[0] as number) ^ 1;
  assert.equal(verifyBinding({ ...good, stationSignature: sig }, washington.publicKey), false);

  // Bytes round trip, as the station hands the binding to its device.
  const decoded = decodeBinding(encodeBinding(good));
  assert.deepEqual({ ...decoded }, { ...good });
  await rejectsWith(async () => decodeBinding(encodeBinding(good).subarray(1)), 'MALFORMED');

  // The device accepts only its own binding, signed by its own station.
  const bound = attachBinding(device, good, washington.publicKey);
  assert.equal(bound.binding?.handle, 'chairman');
  await rejectsWith(async () => attachBinding(device, good, moscow.publicKey), 'BAD_BINDING');
  const forOther = await signBinding({ ...fields, signatureKey: otherKey }, washington.sign);
  await rejectsWith(async () => attachBinding(device, forOther, washington.publicKey), 'BAD_BINDING');
  // Names are checked before signing.
  await rejectsWith(() => signBinding({ ...fields, handle: 'Chairman' }, washington.sign), 'INVALID_ARGUMENT');
});

test('a device whose binding is forged or signed by the wrong station is refused', async () => {
  const { hubState, states } = await lineWith(await makeDevice(washington, 'chairman'));
  const chairmanState = states[0]!;
  // Moscow signs a binding that claims to be a washington device.
  const forged = await makeDevice(washington, 'chairman', { signer: moscow });
  const forgedKp = await keyPackageOf(forged);
  await rejectsWith(() => validateKeyPackage(forgedKp.keyPackage, policy), 'BAD_BINDING');

  // The hub refuses to add it, and its state is unchanged.
  const before = serializeGroup(hubState);
  await rejectsWith(() => addMembers(hubState, [forgedKp.keyPackage], policy), 'BAD_BINDING');
  assertUnchanged(hubState, before);

  // A station not on the line at all.
  const beijing = makeStation('beijing');
  const stranger = await makeDevice(beijing, 'chief');
  await rejectsWith(async () => validateKeyPackage((await keyPackageOf(stranger)).keyPackage, policy), 'BAD_BINDING');

  // A dishonest member whose policy trusts moscow's key for washington adds the forged device;
  // every honest member refuses the commit, and keeps its state.
  const dishonestPolicy = makePolicy([moscow, { ...washington, publicKey: moscow.publicKey }], seats);
  const bad = await addMembers(hubState, [forgedKp.keyPackage], dishonestPolicy);
  const chairmanBefore = serializeGroup(chairmanState);
  await rejectsWith(() => processMessage(chairmanState, bad.commit, policy), 'BAD_BINDING');
  assertUnchanged(chairmanState, chairmanBefore);
  // And the forged device itself cannot join with an honest policy either.
  await rejectsWith(() => joinFromWelcome(forged, bad.welcome, [forgedKp.secrets], policy), 'BAD_BINDING');
});

test('a device whose handle holds no seat is refused', async () => {
  const { hubState, states } = await lineWith(await makeDevice(washington, 'chairman'));
  const chairmanState = states[0]!;
  const intern = await makeDevice(washington, 'intern'); // validly bound, but not seated
  const kp = await keyPackageOf(intern);
  await rejectsWith(() => validateKeyPackage(kp.keyPackage, policy), 'NOT_SEATED');
  const before = serializeGroup(hubState);
  await rejectsWith(() => addMembers(hubState, [kp.keyPackage], policy), 'NOT_SEATED');
  assertUnchanged(hubState, before);

  // Added anyway by a member with a looser seat list: honest members refuse the commit.
  const loose = makePolicy([moscow, washington], [...seats, { station: 'washington', handle: 'intern' }]);
  const bad = await addMembers(hubState, [kp.keyPackage], loose);
  const chairmanBefore = serializeGroup(chairmanState);
  await rejectsWith(() => processMessage(chairmanState, bad.commit, policy), 'NOT_SEATED');
  assertUnchanged(chairmanState, chairmanBefore);
  // A seat held at the other station does not count: chairman@moscow is not chairman@washington.
  const impostor = await makeDevice(moscow, 'chairman');
  await rejectsWith(async () => validateKeyPackage((await keyPackageOf(impostor)).keyPackage, policy), 'NOT_SEATED');

  // A joining device checks the whole tree: it refuses a group containing an unseated device.
  const chief = await makeDevice(moscow, 'chief');
  const chiefKp = await keyPackageOf(chief);
  const withIntern = await addMembers(bad.state, [chiefKp.keyPackage], loose);
  await rejectsWith(() => joinFromWelcome(chief, withIntern.welcome, [chiefKp.secrets], policy), 'NOT_SEATED');

  // Once a seat is revoked, that device's messages are refused too.
  const sent = await encrypt(hubState, text('to the chairman'));
  const revoked = makePolicy(
    [moscow, washington],
    seats.filter((s) => !(s.station === 'moscow' && s.handle === 'recorder')),
  );
  await rejectsWith(() => decrypt(chairmanState, sent.message, revoked), 'NOT_SEATED');
  assert.equal(untext((await decrypt(chairmanState, sent.message, policy)).plaintext), 'to the chairman');
});

test('a removed device cannot decrypt anything sent after its removal', async () => {
  const chief = await makeDevice(moscow, 'chief');
  const chairman = await makeDevice(washington, 'chairman');
  const { hubState: hub0, states } = await lineWith(chief, chairman);
  let [chiefState, chairmanState] = states as [(typeof states)[0], (typeof states)[0]];
  const chiefLeaf = chiefState.ownLeafIndex;

  const removal = await removeMembers(hub0, [chiefLeaf]);
  let hubState = removal.state;
  assert.deepEqual(
    removal.removed.map((m) => m.handle),
    ['chief'],
  );
  const chiefBeforeRemoval = chiefState; // the removed device's last good state

  const atChairman = await processMessage(chairmanState, removal.commit, policy);
  assert.equal(atChairman.kind, 'commit');
  chairmanState = atChairman.state;
  assert.equal(atChairman.kind === 'commit' && atChairman.removed[0]?.handle, 'chief');

  const atChief = await processMessage(chiefState, removal.commit, policy);
  assert.ok(atChief.kind === 'commit' && atChief.removedSelf);
  chiefState = atChief.state;
  assert.equal(chiefState.active, false);
  await rejectsWith(() => encrypt(chiefState, text('still here?')), 'NOT_A_MEMBER');

  // Traffic after the removal, from both sides.
  const fromHub = await encrypt(hubState, text('after removal, from moscow'));
  hubState = fromHub.state;
  const fromChairman = await encrypt(chairmanState, text('after removal, from washington'));
  chairmanState = fromChairman.state;
  assert.equal(untext((await decrypt(chairmanState, fromHub.message, policy)).plaintext), 'after removal, from moscow');

  for (const m of [fromHub.message, fromChairman.message]) {
    await rejectsWith(() => decrypt(chiefState, m, policy), 'NOT_A_MEMBER');
    await rejectsWith(() => decrypt(chiefBeforeRemoval, m, policy), 'WRONG_EPOCH');
    // Not just bookkeeping: relabel the message with the epoch the removed device still has keys
    // for, and it still does not decrypt.
    const decoded = decodeMlsMessage(m, 0)![0];
    assert.equal(decoded.wireformat, 'mls_private_message');
    if (decoded.wireformat !== 'mls_private_message') return;
    const relabelled = encodeMlsMessage({
      ...decoded,
      privateMessage: { ...decoded.privateMessage, epoch: BigInt(chiefBeforeRemoval.epoch) },
    });
    await rejectsWith(() => decrypt(chiefBeforeRemoval, relabelled, policy), 'DECRYPT_FAILED');
  }
  // Nor can it follow later commits.
  const later = await updateOwnKeys(hubState);
  await rejectsWith(() => processMessage(chiefState, later.commit, policy), 'NOT_A_MEMBER');
  await rejectsWith(() => processMessage(chiefBeforeRemoval, later.commit, policy), 'WRONG_EPOCH');
  assert.equal(
    roster(later.state).some((m) => m.handle === 'chief'),
    false,
  );
});

test('updating own keys locks out a copy of the old state (post-compromise security)', async () => {
  const chairman = await makeDevice(washington, 'chairman');
  const { hubState: hub0, states } = await lineWith(chairman);
  let chairmanState = states[0]!;
  const stolen = chairmanState; // an attacker copied the chairman's state here

  const update = await updateOwnKeys(chairmanState);
  chairmanState = update.state;
  assert.equal(update.added.length + update.removed.length, 0);
  const atHub = await processMessage(hub0, update.commit, policy);
  assert.ok(atHub.kind === 'commit');
  assert.equal(atHub.committer.handle, 'chairman');
  const hubState = atHub.state;
  assert.equal(hubState.epoch, chairmanState.epoch);
  assert.deepEqual(
    await exportSecret(hubState, 'test', new Uint8Array(), 32),
    await exportSecret(chairmanState, 'test', new Uint8Array(), 32),
  );
  assert.notDeepEqual(
    await exportSecret(stolen, 'test', new Uint8Array(), 32),
    await exportSecret(chairmanState, 'test', new Uint8Array(), 32),
  );

  // The commit cannot be applied with the stolen state (its new path secrets are fresh).
  await rejectsWith(() => processMessage(stolen, update.commit, policy), 'OWN_MESSAGE');
  const m = await encrypt(hubState, text('after the update'));
  const decoded = decodeMlsMessage(m.message, 0)![0];
  if (decoded.wireformat !== 'mls_private_message') assert.fail('expected a private message');
  const relabelled = encodeMlsMessage({ ...decoded, privateMessage: { ...decoded.privateMessage, epoch: BigInt(stolen.epoch) } });
  await rejectsWith(() => decrypt(stolen, relabelled, policy), 'DECRYPT_FAILED');
  assert.equal(untext((await decrypt(chairmanState, m.message, policy)).plaintext), 'after the update');
});

test('adding a device twice, or removing oneself or nobody, is refused', async () => {
  const chairman = await makeDevice(washington, 'chairman');
  const { hubState } = await lineWith(chairman);
  await rejectsWith(async () => addMembers(hubState, [(await keyPackageOf(chairman)).keyPackage], policy), 'ALREADY_MEMBER');
  const chief = await makeDevice(moscow, 'chief');
  const kp = await keyPackageOf(chief);
  await rejectsWith(() => addMembers(hubState, [kp.keyPackage, kp.keyPackage], policy), 'ALREADY_MEMBER');
  await rejectsWith(() => removeMembers(hubState, [hubState.ownLeafIndex]), 'INVALID_ARGUMENT');
  await rejectsWith(() => removeMembers(hubState, [7]), 'UNKNOWN_MEMBER');
  await rejectsWith(() => addMembers(hubState, [], policy), 'INVALID_ARGUMENT');
});

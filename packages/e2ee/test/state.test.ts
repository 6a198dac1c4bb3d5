// States are values: operations never change their inputs, and states survive a round trip
// through bytes. Devices too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCommit, decodeGroupState, encodeMlsMessage, getCiphersuiteFromName, getCiphersuiteImpl } from 'ts-mls';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { credentialIdentity } from '../src/binding.js';
import {
  addMembers,
  createGroup,
  createKeyPackage,
  decrypt,
  deserializeGroup,
  encrypt,
  exportDevice,
  FALLBACK_CIPHERSUITE,
  generateDevice,
  importDevice,
  joinFromWelcome,
  PREFERRED_CIPHERSUITE,
  peekMessage,
  processMessage,
  removeMembers,
  roster,
  serializeGroup,
  signBinding,
  updateOwnKeys,
  validateKeyPackage,
} from '../src/index.js';
import { assertUnchanged, keyPackageOf, makeDevice, makePolicy, makeStation, rejectsWith, text, untext } from './helpers.js';

const moscow = makeStation('moscow');
const washington = makeStation('washington');
const seats = [
  { station: 'moscow', handle: 'recorder' },
  { station: 'moscow', handle: 'chief' },
  { station: 'washington', handle: 'chairman' },
  { station: 'washington', handle: 'interpreter' },
];
const policy = makePolicy([moscow, washington], seats);

test('operations never change the state they are given, even when they succeed', async () => {
  const hub = await makeDevice(moscow, 'recorder');
  const chairman = await makeDevice(washington, 'chairman');
  const chief = await makeDevice(moscow, 'chief');
  const h0 = await createGroup(hub, { groupId: 'line-values', policy });
  const b0 = serializeGroup(h0);
  const kp = await keyPackageOf(chairman);
  const add = await addMembers(h0, [kp.keyPackage], policy);
  assertUnchanged(h0, b0);
  const h1 = add.state;
  const c1 = (await joinFromWelcome(chairman, add.welcome, [kp.secrets], policy)).state;
  const b1 = serializeGroup(c1);
  const m = await encrypt(c1, text('hello'));
  assertUnchanged(c1, b1);
  const bh1 = serializeGroup(h1);
  const got = await decrypt(h1, m.message, policy);
  assertUnchanged(h1, bh1);
  // The same input state can decrypt the same message again: nothing was used up in it.
  assert.equal(untext((await decrypt(h1, m.message, policy)).plaintext), 'hello');
  const add2 = await addMembers(got.state, [(await keyPackageOf(chief)).keyPackage], policy);
  const bg = serializeGroup(got.state);
  await updateOwnKeys(got.state);
  await removeMembers(got.state, [c1.ownLeafIndex]);
  assertUnchanged(got.state, bg);
  const bm = serializeGroup(m.state);
  await processMessage(m.state, add2.commit, policy);
  assertUnchanged(m.state, bm);
  // States are frozen.
  assert.ok(Object.isFrozen(h1));
  assert.throws(() => {
    (h1 as { epoch: number }).epoch = 99;
  });
});

test('group state survives a round trip through bytes', async () => {
  const hub = await makeDevice(moscow, 'recorder');
  const chairman = await makeDevice(washington, 'chairman');
  const h0 = await createGroup(hub, { groupId: 'line-bytes', policy, pastEpochs: 3 });
  const kp = await keyPackageOf(chairman);
  const add = await addMembers(h0, [kp.keyPackage], policy);
  const c0 = (await joinFromWelcome(chairman, add.welcome, [kp.secrets], policy, { pastEpochs: 3 })).state;
  let hubState = deserializeGroup(serializeGroup(add.state));
  let chairmanState = deserializeGroup(serializeGroup(c0));
  assert.deepEqual(serializeGroup(hubState), serializeGroup(add.state));
  assert.equal(hubState.epoch, add.state.epoch);
  assert.equal(chairmanState.pastEpochs, 3);
  assert.deepEqual(roster(chairmanState), roster(c0));

  const m = await encrypt(chairmanState, text('after restore'));
  chairmanState = deserializeGroup(serializeGroup(m.state));
  const r = await decrypt(hubState, m.message, policy);
  assert.equal(untext(r.plaintext), 'after restore');
  hubState = deserializeGroup(serializeGroup(r.state));
  // The used key stays used after a round trip (no replay through a restore).
  await rejectsWith(() => decrypt(hubState, m.message, policy), 'REPLAYED_MESSAGE');
  const u = await updateOwnKeys(hubState);
  const late = await encrypt(chairmanState, text('one epoch late'));
  const after = deserializeGroup(serializeGroup(u.state));
  assert.equal(untext((await decrypt(after, late.message, policy)).plaintext), 'one epoch late'); // retention survived too

  const bytes = serializeGroup(hubState);
  await rejectsWith(async () => deserializeGroup(bytes.subarray(0, bytes.length - 1)), 'BAD_STATE');
  await rejectsWith(async () => deserializeGroup(new Uint8Array([...bytes, 0])), 'BAD_STATE');
  const wrongMagic = bytes.slice();
  wrongMagic[0] = 0;
  await rejectsWith(async () => deserializeGroup(wrongMagic), 'BAD_STATE');
  await rejectsWith(async () => roster({ ...hubState }), 'INVALID_ARGUMENT');
});

test('device identity: export and import; secrets never appear as properties', async () => {
  const device = await makeDevice(washington, 'chairman');
  const bytes = exportDevice(device);
  const again = importDevice(bytes);
  assert.deepEqual({ ...again }, { ...device });
  assert.deepEqual(exportDevice(again), bytes);
  // The imported device signs key packages that validate.
  const kp = await createKeyPackage(again);
  const valid = await validateKeyPackage(kp.keyPackage, policy);
  assert.equal(valid.device.handle, 'chairman');
  assert.equal(valid.ref, kp.ref);
  // The private key is not an enumerable (or any) property of the identity.
  const json = JSON.stringify(device);
  assert.ok(!Object.keys(device).some((k) => /priv|secret|seed/i.test(k)), json);
  await rejectsWith(async () => importDevice(bytes.subarray(0, 20)), 'BAD_STATE');
  const corrupt = bytes.slice();
  const keyOffset = bytes.length - 1 - 8 - 64 - 32 - 32; // flip a byte of the private key
  corrupt[keyOffset] = (corrupt[keyOffset] as number) ^ 1;
  await rejectsWith(async () => importDevice(corrupt), 'BAD_STATE');

  // Unbound devices can neither publish key packages nor create groups.
  const fresh = await generateDevice({ station: 'washington', handle: 'chairman', deviceId: 'phone-0001' });
  assert.equal(fresh.binding, undefined);
  assert.deepEqual(importDevice(exportDevice(fresh)).binding, undefined);
  await rejectsWith(() => createKeyPackage(fresh), 'DEVICE_NOT_BOUND');
  await rejectsWith(() => createGroup(fresh, { groupId: 'x', policy }), 'DEVICE_NOT_BOUND');
  await rejectsWith(() => generateDevice({ station: 'Washington', handle: 'chairman', deviceId: 'phone-0001' }), 'INVALID_ARGUMENT');
});

test('key packages: lifetime and ciphersuite are checked', async () => {
  const chairman = await makeDevice(washington, 'chairman');
  const now = Date.now();
  const kp = await createKeyPackage(chairman, { now, lifetimeMs: 3600_000 });
  assert.equal((await validateKeyPackage(kp.keyPackage, policy, { now })).device.deviceId, chairman.deviceId);
  await rejectsWith(() => validateKeyPackage(kp.keyPackage, policy, { now: now + 2 * 3600_000 }), 'KEY_PACKAGE_EXPIRED');
  await rejectsWith(() => validateKeyPackage(kp.keyPackage, policy, { now: now - 2 * 3600_000 }), 'KEY_PACKAGE_EXPIRED');
  await rejectsWith(() => validateKeyPackage(kp.keyPackage, policy, { ciphersuite: FALLBACK_CIPHERSUITE }), 'WRONG_CIPHERSUITE');
  const hub = await makeDevice(moscow, 'recorder');
  const state = await createGroup(hub, { groupId: 'line-kp', policy });
  await rejectsWith(() => addMembers(state, [kp.keyPackage], policy, { now: now + 2 * 3600_000 }), 'KEY_PACKAGE_EXPIRED');
  const tampered = kp.keyPackage.slice();
  tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 1;
  await rejectsWith(() => validateKeyPackage(tampered, policy), 'BAD_KEY_PACKAGE');
  await rejectsWith(() => validateKeyPackage(text('nope'), policy), 'MALFORMED');
  assert.equal(peekMessage(kp.keyPackage).kind, 'key_package');
});

test('the classical fallback suite works end to end, and suites do not mix', async () => {
  const hub = await makeDevice(moscow, 'recorder', { ciphersuite: FALLBACK_CIPHERSUITE });
  const chairman = await makeDevice(washington, 'chairman', { ciphersuite: FALLBACK_CIPHERSUITE });
  const pq = await makeDevice(washington, 'interpreter');
  assert.equal(pq.ciphersuite, PREFERRED_CIPHERSUITE);
  const h0 = await createGroup(hub, { groupId: 'line-classic', policy });
  assert.equal(h0.ciphersuite, FALLBACK_CIPHERSUITE);
  await rejectsWith(async () => addMembers(h0, [(await keyPackageOf(pq)).keyPackage], policy), 'WRONG_CIPHERSUITE');
  const kp = await keyPackageOf(chairman);
  const add = await addMembers(h0, [kp.keyPackage], policy);
  const info = peekMessage(add.welcome);
  assert.ok(info.kind === 'welcome' && info.ciphersuite === FALLBACK_CIPHERSUITE);
  await rejectsWith(() => joinFromWelcome(pq, add.welcome, [kp.secrets], policy), 'WRONG_CIPHERSUITE');
  const c = (await joinFromWelcome(chairman, add.welcome, [kp.secrets], policy)).state;
  const m = await encrypt(c, text('classic'));
  assert.equal(untext((await decrypt(add.state, m.message, policy)).plaintext), 'classic');
});

test('a Welcome needs one of the addressed key packages; the hub can route by peeking', async () => {
  const hub = await makeDevice(moscow, 'recorder');
  const chairman = await makeDevice(washington, 'chairman');
  const h0 = await createGroup(hub, { groupId: 'line-welcome', policy });
  const used = await keyPackageOf(chairman);
  const spare = await keyPackageOf(chairman);
  const add = await addMembers(h0, [used.keyPackage], policy);
  await rejectsWith(() => joinFromWelcome(chairman, add.welcome, [spare.secrets], policy), 'NO_MATCHING_KEY_PACKAGE');
  await rejectsWith(
    () => joinFromWelcome(chairman, add.welcome, [used.secrets], policy, { expectedGroupId: 'another-line' }),
    'WRONG_GROUP',
  );
  const joined = await joinFromWelcome(chairman, add.welcome, [spare.secrets, used.secrets], policy);
  assert.equal(joined.keyPackageRef, used.ref);
  assert.deepEqual(joined.roster, roster(add.state));
  await rejectsWith(() => processMessage(joined.state, add.welcome, policy), 'UNEXPECTED_MESSAGE');

  const commitInfo = peekMessage(add.commit);
  assert.ok(commitInfo.kind === 'handshake');
  assert.equal(commitInfo.contentType, 'commit');
  assert.equal(commitInfo.public, true);
  assert.equal(commitInfo.epoch, 0);
  assert.equal(commitInfo.senderLeafIndex, h0.ownLeafIndex);
  assert.deepEqual(commitInfo.groupId, h0.groupId);
  const m = await encrypt(joined.state, text('x'));
  const appInfo = peekMessage(m.message);
  assert.ok(appInfo.kind === 'application' && appInfo.epoch === 1);
});

test('a committer cannot turn its leaf into another device', async () => {
  const hub = await makeDevice(moscow, 'recorder');
  const chairman = await makeDevice(washington, 'chairman');
  const h0 = await createGroup(hub, { groupId: 'line-identity', policy });
  const kp = await keyPackageOf(chairman);
  const add = await addMembers(h0, [kp.keyPackage], policy);
  const c = (await joinFromWelcome(chairman, add.welcome, [kp.secrets], policy)).state;

  // Washington (the chairman's own station) even signs a valid binding of the chairman's key to
  // the interpreter's seat. The chairman's device rewrites its own leaf with it and commits.
  const asInterpreter = await signBinding(
    {
      station: 'washington',
      handle: 'interpreter',
      deviceId: chairman.deviceId,
      signatureKey: chairman.signaturePublicKey,
      issuedAt: Date.now(),
    },
    washington.sign,
  );
  const bytes = serializeGroup(c);
  const mls = decodeGroupState(bytes.subarray(15), 0)![0];
  const own = mls.ratchetTree[c.ownLeafIndex * 2];
  assert.ok(own?.nodeType === 'leaf');
  own.leaf = { ...own.leaf, credential: { credentialType: 'basic', identity: credentialIdentity(asInterpreter) } };
  const impl = await getCiphersuiteImpl(getCiphersuiteFromName(PREFERRED_CIPHERSUITE));
  const res = await createCommit(
    { state: { ...mls, clientConfig: defaultClientConfig }, cipherSuite: impl },
    { wireAsPublicMessage: true },
  );
  const before = serializeGroup(add.state);
  await rejectsWith(() => processMessage(add.state, encodeMlsMessage(res.commit), policy), 'IDENTITY_CHANGED');
  assertUnchanged(add.state, before);
});

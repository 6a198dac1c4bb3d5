// Commits arrive in the hub's order; anything else is refused with a clear code and changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMlsMessage, encodeMlsMessage } from 'ts-mls';
import {
  addMembers,
  createGroup,
  decrypt,
  encrypt,
  type GroupState,
  joinFromWelcome,
  processMessage,
  removeMembers,
  roster,
  serializeGroup,
  updateOwnKeys,
} from '../src/index.js';
import { assertUnchanged, keyPackageOf, makeDevice, makePolicy, makeStation, rejectsWith, text, untext } from './helpers.js';

const moscow = makeStation('moscow');
const washington = makeStation('washington');
const policy = makePolicy(
  [moscow, washington],
  [
    { station: 'moscow', handle: 'recorder' },
    { station: 'moscow', handle: 'chief' },
    { station: 'moscow', handle: 'duty' },
    { station: 'washington', handle: 'chairman' },
    { station: 'washington', handle: 'interpreter' },
  ],
);

async function threeMembers(pastEpochs = 0, groupId = 'line-epochs') {
  const hub = await makeDevice(moscow, 'recorder');
  const chief = await makeDevice(moscow, 'chief');
  const chairman = await makeDevice(washington, 'chairman');
  const hubState0 = await createGroup(hub, { groupId, policy, pastEpochs });
  const kps = [await keyPackageOf(chief), await keyPackageOf(chairman)];
  const add = await addMembers(
    hubState0,
    kps.map((k) => k.keyPackage),
    policy,
  );
  const chiefState = (await joinFromWelcome(chief, add.welcome, [kps[0]!.secrets], policy, { pastEpochs })).state;
  const chairmanState = (await joinFromWelcome(chairman, add.welcome, [kps[1]!.secrets], policy, { pastEpochs })).state;
  return { hubState: add.state, chiefState, chairmanState, firstCommit: add.commit };
}

test('an offline device catches up on 25 commits in order', async () => {
  let { hubState, chiefState, chairmanState } = await threeMembers();
  const offline = chairmanState; // the chairman's laptop is closed from here on
  const start = offline.epoch;
  const commits: Uint8Array[] = [];
  let duty: Awaited<ReturnType<typeof makeDevice>> | undefined;
  for (let i = 0; i < 25; i++) {
    // Mix of committers and kinds: key updates from both moscow devices, a device added and removed.
    let out: { state: GroupState; commit: Uint8Array };
    if (i === 5) {
      duty = await makeDevice(moscow, 'duty');
      out = await addMembers(hubState, [(await keyPackageOf(duty)).keyPackage], policy);
    } else if (i === 15) {
      const dutyLeaf = roster(hubState).find((m) => m.handle === 'duty')!.leafIndex;
      out = await removeMembers(hubState, [dutyLeaf]);
    } else if (i % 2 === 0) {
      out = await updateOwnKeys(hubState);
    } else {
      const c = await updateOwnKeys(chiefState);
      chiefState = c.state;
      const r = await processMessage(hubState, c.commit, policy);
      hubState = r.state;
      commits.push(c.commit);
      continue;
    }
    hubState = out.state;
    const r = await processMessage(chiefState, out.commit, policy);
    chiefState = r.state;
    commits.push(out.commit);
  }
  assert.equal(hubState.epoch, start + 25);
  assert.equal(chiefState.epoch, start + 25);

  let caughtUp = offline;
  for (const c of commits) {
    const r = await processMessage(caughtUp, c, policy);
    assert.equal(r.kind, 'commit');
    assert.equal(r.epoch, caughtUp.epoch + 1);
    caughtUp = r.state;
  }
  assert.equal(caughtUp.epoch, hubState.epoch);
  assert.deepEqual(roster(caughtUp), roster(hubState));
  // And it talks again, both ways.
  const hello = await encrypt(caughtUp, text('back online'));
  assert.equal(untext((await decrypt(hubState, hello.message, policy)).plaintext), 'back online');
  const reply = await encrypt(chiefState, text('welcome back'));
  assert.equal(untext((await decrypt(hello.state, reply.message, policy)).plaintext), 'welcome back');
});

test('a replayed or out-of-order commit is refused and leaves the state unchanged', async () => {
  const { hubState, chairmanState, firstCommit } = await threeMembers();
  const c1 = await updateOwnKeys(hubState);
  const c2 = await updateOwnKeys(c1.state);

  // Out of order: the commit for the next epoch but one.
  const before = serializeGroup(chairmanState);
  const skip = await rejectsWith(() => processMessage(chairmanState, c2.commit, policy), 'WRONG_EPOCH');
  assert.match(skip.message, /process the commits in between/);
  assertUnchanged(chairmanState, before);

  // In order it applies.
  const after1 = await processMessage(chairmanState, c1.commit, policy);
  const s1 = after1.state;
  // Replays: the commit just applied, and the one that added us.
  const before1 = serializeGroup(s1);
  await rejectsWith(() => processMessage(s1, c1.commit, policy), 'REPLAYED_HANDSHAKE');
  await rejectsWith(() => processMessage(s1, firstCommit, policy), 'REPLAYED_HANDSHAKE');
  assertUnchanged(s1, before1);
  const s2 = (await processMessage(s1, c2.commit, policy)).state;
  assert.equal(s2.epoch, c2.state.epoch);

  // Two members commit concurrently for the same epoch: the hub orders one; the other is refused.
  const a = await updateOwnKeys(s2);
  const b = await updateOwnKeys(c2.state);
  const atChairman = await processMessage(s2, b.commit, policy); // the hub ordered b first
  await rejectsWith(() => processMessage(atChairman.state, a.commit, policy), 'REPLAYED_HANDSHAKE');

  // Its own commit, echoed back by the hub, is not processed twice.
  await rejectsWith(() => processMessage(s2, a.commit, policy), 'OWN_MESSAGE');

  // A commit claiming a sender at a blank leaf, or a non-member sender, names nobody in the group.
  const decodedB = decodeMlsMessage(b.commit, 0)![0];
  if (decodedB.wireformat !== 'mls_public_message') assert.fail('commits are public messages');
  const pub = decodedB.publicMessage;
  const fromBlank = encodeMlsMessage({
    ...decodedB,
    publicMessage: { ...pub, content: { ...pub.content, sender: { senderType: 'member', leafIndex: 9 } } },
  });
  await rejectsWith(() => processMessage(s2, fromBlank, policy), 'UNKNOWN_SENDER');
  const fromOutside = encodeMlsMessage({
    ...decodedB,
    publicMessage: {
      content: { ...pub.content, sender: { senderType: 'new_member_commit' } },
      auth: pub.auth,
      senderType: 'new_member_commit',
    },
  });
  await rejectsWith(() => processMessage(s2, fromOutside, policy), 'UNKNOWN_SENDER');

  // A tampered commit does not verify.
  const tampered = b.commit.slice();
  tampered[tampered.length - 5] = (tampered[tampered.length - 5] as number) ^ 0xff;
  const beforeTamper = serializeGroup(s2);
  await rejectsWith(() => processMessage(s2, tampered, policy), 'BAD_COMMIT');
  assertUnchanged(s2, beforeTamper);
});

test('a message from an old epoch is refused; within a retention window it is accepted', async () => {
  {
    const { hubState, chairmanState } = await threeMembers();
    const old = await encrypt(chairmanState, text('sent at epoch 1'));
    const c = await updateOwnKeys(hubState);
    const e = await rejectsWith(() => decrypt(c.state, old.message, policy), 'WRONG_EPOCH');
    assert.match(e.message, /keeps 0 past epoch/);
    // A message from the future is refused too, until its commit is processed.
    const future = await encrypt(c.state, text('sent at epoch 2'));
    const before = serializeGroup(chairmanState);
    await rejectsWith(() => decrypt(chairmanState, future.message, policy), 'WRONG_EPOCH');
    assertUnchanged(chairmanState, before);
  }
  {
    const { hubState, chairmanState } = await threeMembers(2);
    const old = await encrypt(chairmanState, text('sent at epoch 1'));
    const older = await encrypt(old.state, text('also at epoch 1'));
    const c1 = await updateOwnKeys(hubState);
    const r = await decrypt(c1.state, old.message, policy); // one epoch late: accepted
    assert.equal(untext(r.plaintext), 'sent at epoch 1');
    assert.equal(r.epoch, 1);
    const c2 = await updateOwnKeys(r.state);
    const c3 = await updateOwnKeys(c2.state);
    await rejectsWith(() => decrypt(c3.state, older.message, policy), 'WRONG_EPOCH'); // three late: refused
  }
});

test('application messages: replays, tampering, other groups and our own echo are refused', async () => {
  const { hubState, chiefState, chairmanState } = await threeMembers();
  const m = await encrypt(chairmanState, text('once'));
  const first = await decrypt(hubState, m.message, policy);
  assert.equal(untext(first.plaintext), 'once');
  const before = serializeGroup(first.state);
  await rejectsWith(() => decrypt(first.state, m.message, policy), 'REPLAYED_MESSAGE');
  assertUnchanged(first.state, before);

  const tampered = m.message.slice();
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
  await rejectsWith(() => decrypt(chiefState, tampered, policy), 'DECRYPT_FAILED');
  // The untampered one still decrypts afterwards: the failure consumed nothing.
  assert.equal(untext((await decrypt(chiefState, m.message, policy)).plaintext), 'once');

  await rejectsWith(() => decrypt(m.state, m.message, policy), 'OWN_MESSAGE');
  await rejectsWith(() => decrypt(chiefState, text('not mls at all'), policy), 'MALFORMED');

  const other = await threeMembers(0, 'another-line');
  const foreign = await encrypt(other.chairmanState, text('other line'));
  await rejectsWith(() => decrypt(chiefState, foreign.message, policy), 'WRONG_GROUP');

  // Out of order within an epoch is fine (each sender's chain keeps a few skipped keys).
  const a = await encrypt(chiefState, text('a'));
  const b = await encrypt(a.state, text('b'));
  const gotB = await decrypt(chairmanState, b.message, policy);
  const gotA = await decrypt(gotB.state, a.message, policy);
  assert.deepEqual([untext(gotB.plaintext), untext(gotA.plaintext)], ['b', 'a']);

  // A commit passed to decrypt, a private message relabelled as a commit.
  const c = await updateOwnKeys(hubState);
  await rejectsWith(() => decrypt(chairmanState, c.commit, policy), 'UNEXPECTED_MESSAGE');
  const decoded = decodeMlsMessage(m.message, 0)![0];
  if (decoded.wireformat !== 'mls_private_message') assert.fail('expected a private message');
  const asCommit = encodeMlsMessage({ ...decoded, privateMessage: { ...decoded.privateMessage, contentType: 'commit' } });
  await rejectsWith(() => processMessage(chiefState, asCommit, policy), 'UNSUPPORTED_MESSAGE');
});

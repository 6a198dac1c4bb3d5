import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addMembers,
  createGroup,
  decrypt,
  diffRoster,
  encrypt,
  joinFromWelcome,
  peekMessage,
  processMessage,
  roster,
} from '../src/index.js';
import { keyPackageOf, makeDevice, makePolicy, makeStation, text, untext } from './helpers.js';

test('three devices on two stations exchange messages both ways', async () => {
  const moscow = makeStation('moscow');
  const washington = makeStation('washington');
  const policy = makePolicy(
    [moscow, washington],
    [
      { station: 'moscow', handle: 'recorder' },
      { station: 'moscow', handle: 'chief' },
      { station: 'washington', handle: 'chairman' },
    ],
  );
  // The inviting station's recorder is the hub: it creates the group and adds everyone.
  const hub = await makeDevice(moscow, 'recorder');
  const chief = await makeDevice(moscow, 'chief');
  const chairman = await makeDevice(washington, 'chairman');

  let hubState = await createGroup(hub, { groupId: 'line-chiefs-of-staff', policy });
  assert.equal(hubState.epoch, 0);
  const before = roster(hubState);

  const kpChief = await keyPackageOf(chief);
  const kpChairman = await keyPackageOf(chairman);
  const add = await addMembers(hubState, [kpChief.keyPackage, kpChairman.keyPackage], policy);
  hubState = add.state;
  assert.equal(hubState.epoch, 1);
  assert.deepEqual(
    add.added.map((m) => `${m.handle}@${m.station}`),
    ['chief@moscow', 'chairman@washington'],
  );
  const info = peekMessage(add.commit);
  assert.equal(info.kind, 'handshake');

  const j1 = await joinFromWelcome(chief, add.welcome, [kpChief.secrets], policy, { expectedGroupId: 'line-chiefs-of-staff' });
  const j2 = await joinFromWelcome(chairman, add.welcome, [kpChairman.secrets], policy);
  assert.equal(j1.keyPackageRef, kpChief.ref);
  assert.equal(j2.keyPackageRef, kpChairman.ref);
  let chiefState = j1.state;
  let chairmanState = j2.state;
  assert.equal(chiefState.epoch, 1);
  assert.equal(chairmanState.epoch, 1);

  // Everyone sees the same roster: every device of both sides.
  const r = roster(hubState);
  assert.deepEqual(roster(chiefState), r);
  assert.deepEqual(roster(chairmanState), r);
  assert.equal(r.length, 3);
  const diff = diffRoster(before, r);
  assert.equal(diff.added.length, 2);
  assert.equal(diff.removed.length, 0);

  // Washington → Moscow.
  const m1 = await encrypt(chairmanState, text('Proposal: a call on Thursday.'));
  chairmanState = m1.state;
  const atChief = await decrypt(chiefState, m1.message, policy);
  chiefState = atChief.state;
  assert.equal(untext(atChief.plaintext), 'Proposal: a call on Thursday.');
  assert.equal(atChief.sender.handle, 'chairman');
  assert.equal(atChief.sender.station, 'washington');
  assert.equal(atChief.sender.deviceId, chairman.deviceId);
  const atHub = await processMessage(hubState, m1.message, policy);
  assert.equal(atHub.kind, 'application');
  hubState = atHub.state;

  // Moscow → Washington.
  const m2 = await encrypt(chiefState, text('Accepted.'));
  chiefState = m2.state;
  const atChairman = await decrypt(chairmanState, m2.message, policy);
  chairmanState = atChairman.state;
  assert.equal(untext(atChairman.plaintext), 'Accepted.');
  assert.equal(atChairman.sender.handle, 'chief');
});

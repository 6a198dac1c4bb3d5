import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import {
  addMembers,
  attachBinding,
  createGroup,
  createKeyPackage,
  type DeviceIdentity,
  encrypt,
  type GroupState,
  generateDevice,
  joinFromWelcome,
  type LinePolicy,
  serializeGroup,
  signBinding,
} from '@parley/e2ee';
import pino from 'pino';
import type { Decrypted } from '../src/e2ee/recorder-batch.js';
import { RecorderDecryptor } from '../src/e2ee/recorder-decryptor.js';

// The recorders decrypt on a worker thread at the lowest CPU priority, or, when it cannot run,
// on the station's thread. Both must archive the same thing from the same timeline.

function station(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
  return { name, publicKey: raw, sign: (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };
}

async function device(st: ReturnType<typeof station>, handle: string, deviceId: string): Promise<DeviceIdentity> {
  const d = await generateDevice({ station: st.name, handle, deviceId });
  const binding = await signBinding({ station: st.name, handle, deviceId, signatureKey: d.signaturePublicKey, issuedAt: Date.now() }, (m) =>
    st.sign(m),
  );
  return attachBinding(d, binding, st.publicKey);
}

/** A recorder (the hub) and a member in one group, and three of the member's messages. */
async function timeline(): Promise<{ recorder: GroupState; policy: LinePolicy; messages: Uint8Array[] }> {
  const ours = station('washington');
  const policy: LinePolicy = {
    stationKeys: new Map([[ours.name, ours.publicKey]]),
    seats: [
      { station: ours.name, handle: 'recorder' },
      { station: ours.name, handle: 'alice' },
    ],
  };
  const hub = await device(ours, 'recorder', 'recorder-1');
  const alice = await device(ours, 'alice', 'alice-dev1');
  const kp = await createKeyPackage(alice);
  const added = await addMembers(await createGroup(hub, { groupId: 'line-decryptor-test', policy }), [kp.keyPackage], policy);
  let aliceState = (await joinFromWelcome(alice, added.welcome, [kp.secrets], policy)).state;
  const messages: Uint8Array[] = [];
  for (const text of ['one', 'two', 'three']) {
    const out = await encrypt(aliceState, new TextEncoder().encode(text));
    aliceState = out.state;
    messages.push(out.message);
  }
  return { recorder: added.state, policy, messages };
}

const said = (results: Decrypted[]) =>
  results.map((r) =>
    r.ok && r.kind === 'application' ? `${r.sender.handle}: ${new TextDecoder().decode(r.plaintext)}` : r.ok ? r.kind : r.code,
  );

test('the recorder thread and the station thread read a timeline alike, refusals included', async () => {
  const { recorder, policy, messages } = await timeline();
  const garbage = new Uint8Array([0, 1, 2, 3]);
  const run = [messages[0], garbage, messages[1], messages[2]] as Uint8Array[];
  const log = pino({ level: 'silent' });
  const threaded = new RecorderDecryptor(log, true);
  const inline = new RecorderDecryptor(log, false);
  try {
    const a = await threaded.run({ bytes: serializeGroup(recorder) }, run, policy);
    const b = await inline.run({ state: recorder }, run, policy);
    assert.deepEqual(said(a.results), ['alice: one', 'MALFORMED', 'alice: two', 'alice: three']);
    assert.deepEqual(said(b.results), said(a.results));
    assert.equal(a.epoch, b.epoch);
    assert.ok(a.next && 'bytes' in a.next, 'the thread answers with the state serialized');
    assert.ok(b.next && 'state' in b.next, 'the station thread keeps it decoded');
    // Both moved the group's state the same way: a message decrypts once, then never again.
    const again = await threaded.run(a.next, [messages[2] as Uint8Array], policy);
    const againInline = await inline.run(b.next, [messages[2] as Uint8Array], policy);
    assert.equal(again.results[0]?.ok, false);
    assert.deepEqual(said(againInline.results), said(again.results));
    // Nothing readable: the state is as it was.
    assert.equal((await threaded.run(a.next, [garbage], policy)).next, null);
  } finally {
    await threaded.stop();
  }
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachBinding, createKeyPackage, decodeBinding, generateDevice, signBinding, updateOwnKeys } from '@parley/e2ee';
import type { Item } from '@parley/protocol';
import { cliOk, linkStations, StationProcess } from '@parley/testkit';
import { TestDevice } from './support/e2ee-device.js';
import { waitFor } from './support/line-client.js';

const LINE = 'chiefs';

async function login(st: StationProcess, handle: string, password: string): Promise<string> {
  const res = await fetch(`${st.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle, password, session: 'bearer', device: 'test' }),
  });
  const body = (await res.json()) as { token: string };
  return body.token;
}

async function rosterOf(
  st: StationProcess,
  token: string,
): Promise<{ epoch: number; devices: { station: string; handle: string; deviceId: string }[] } | undefined> {
  const res = await fetch(`${st.url}/api/v1/lines/${LINE}/roster`, { headers: { authorization: `Bearer ${token}` } });
  return res.ok ? ((await res.json()) as { epoch: number; devices: { station: string; handle: string; deviceId: string }[] }) : undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('end-to-end encryption of a line (MLS)', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  const secretWords = ['ORCHID-TANGO-5521', 'ВОЛГА-КРЕМЕНЬ-9034', 'SAPPHIRE-LEDGER-7788'];
  /** Interpreters' translations (issue 9): end-to-end encrypted like messages, never at rest in clear. */
  const translatedWords = ['ОРХИДЕЯ-ТАНГО-5521-ПЕРЕВОД'];
  let alice1: TestDevice;
  let alice2: TestDevice;
  let boris: TestDevice;
  let carol: TestDevice;
  let all: TestDevice[];

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    const aliceToken = await wa.addEnrolledMember('alice', 'principal', 'alice-password');
    const borisToken = await mo.addEnrolledMember('boris', 'principal', 'boris-password');
    const carolToken = await mo.addEnrolledMember('carol', 'interpreter', 'carol-password');
    await linkStations(wa, mo, LINE, ['alice'], ['boris', 'carol']);
    alice1 = new TestDevice(wa.url, aliceToken, 'alice');
    alice2 = new TestDevice(wa.url, await login(wa, 'alice', 'alice-password'), 'alice');
    boris = new TestDevice(mo.url, borisToken, 'boris');
    carol = new TestDevice(mo.url, carolToken, 'carol');
    all = [alice1, alice2, boris, carol];
    for (const d of all) await d.register();
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('puts every vouched device of both sides and both recorders in one group, seen alike by both stations', async () => {
    const expected = [...all.map((d) => d.deviceId)];
    const view = await waitFor('the hub to add every device', async () => {
      const r = await rosterOf(wa, alice1.token);
      return r && expected.every((id) => r.devices.some((d) => d.deviceId === id)) && r.devices.length === 6 ? r : undefined;
    });
    assert.deepEqual(
      view.devices
        .filter((d) => d.handle === 'recorder')
        .map((d) => d.station)
        .sort(),
      ['moscow', 'washington'],
    );
    const theirs = await waitFor('moscow\u2019s recorder to join and agree', async () => {
      const r = await rosterOf(mo, boris.token);
      return r && r.epoch === view.epoch ? r : undefined;
    });
    assert.deepEqual(theirs.devices.map((d) => d.deviceId).sort(), view.devices.map((d) => d.deviceId).sort());
    for (const d of all) await d.sync(LINE);
    for (const d of all) assert.ok(d.group, `${d.handle}/${d.deviceId} joined`);
  });

  it('carries messages both ways that every other device decrypts, with the sender verified', async () => {
    await alice1.send(LINE, secretWords[0] as string);
    await boris.send(LINE, secretWords[1] as string);
    for (const d of all) {
      await waitFor(`${d.handle} to read both`, async () => {
        await d.sync(LINE);
        const texts = d.received.map((r) => r.text);
        const want = secretWords
          .slice(0, 2)
          .filter((w) => !(d === alice1 && w === secretWords[0]) && !(d === boris && w === secretWords[1]));
        return want.every((w) => texts.includes(w)) ? true : undefined;
      });
    }
    const fromAlice = boris.received.find((r) => r.text === secretWords[0]);
    assert.deepEqual(fromAlice && { station: fromAlice.station, handle: fromAlice.handle, deviceId: fromAlice.deviceId }, {
      station: 'washington',
      handle: 'alice',
      deviceId: alice1.deviceId,
    });
    assert.deepEqual(boris.refused, []);
  });

  let translatedOf: { side: 'inviter' | 'acceptor'; seq: number } | undefined;

  it('carries an interpreter\u2019s translation to the other station, both holding only ciphertext', async () => {
    // carol, moscow's interpreter, renders alice's message: it is on washington's (the inviter's) stream.
    const items = (await carol.call<{ items: Item[] }>('GET', `/api/v1/lines/${LINE}/items?after=0&limit=1000`)).items;
    const original = items.find((i) => i.kind === 'mls' && i.sender.handle === 'alice');
    assert.ok(original, 'alice\u2019s message is on moscow\u2019s timeline');
    await carol.sync(LINE);
    translatedOf = { side: 'inviter', seq: original.seq };
    await carol.translate(LINE, translatedOf, 'ru', translatedWords[0] as string);
    await waitFor('washington to hold the translation', async () => {
      const at = (await alice1.call<{ items: Item[] }>('GET', `/api/v1/lines/${LINE}/items?after=0&limit=1000`)).items;
      return at.some((i) => i.kind === 'translation' && i.sender.handle === 'carol') ? true : undefined;
    });
  });

  it('refuses a key package whose binding was not signed by the device\u2019s own station', async () => {
    const forger = new TestDevice(mo.url, await login(mo, 'boris', 'boris-password'), 'boris');
    const me = await forger.call<{ deviceId: string }>('GET', '/api/v1/me');
    const dev = await generateDevice({ station: 'moscow', handle: 'boris', deviceId: me.deviceId });
    const rogueKey = (await import('@noble/curves/ed25519.js')).ed25519.utils.randomSecretKey();
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const forged = await signBinding(
      { station: 'moscow', handle: 'boris', deviceId: me.deviceId, signatureKey: dev.signaturePublicKey, issuedAt: Date.now() },
      (bytes) => ed25519.sign(bytes, rogueKey),
    );
    const withForged = attachBinding(dev, forged, ed25519.getPublicKey(rogueKey));
    const kp = await createKeyPackage(withForged);
    await assert.rejects(
      forger.call('POST', '/api/v1/devices/key-packages', { keyPackages: [Buffer.from(kp.keyPackage).toString('base64url')] }),
      (e: { code?: string }) => e.code === 'VALIDATION_FAILED',
    );
    const r = await rosterOf(wa, alice1.token);
    assert.ok(!r?.devices.some((d) => d.deviceId === me.deviceId), 'the forged device never entered the group');
    assert.ok(decodeBinding);
  });

  it('removes the devices of a member whose seat is removed; they cannot read what follows', async () => {
    await cliOk(['line', 'seat', 'remove', '--data', mo.dir, '--line', LINE, '--handle', 'carol']);
    await waitFor('the hub to remove carol\u2019s device', async () => {
      const r = await rosterOf(wa, alice1.token);
      return r && !r.devices.some((d) => d.handle === 'carol') ? true : undefined;
    });
    const carolPolicy = await boris.policy(LINE);
    const lineId = (await boris.call<{ id: string }>('GET', `/api/v1/lines/${LINE}`)).id;
    await assert.rejects(carol.sync(LINE), /LINE_NOT_FOUND/, 'the station no longer serves the line to her');
    const before = carol.received.length;
    await alice2.sync(LINE);
    await alice2.send(LINE, secretWords[2] as string);
    await waitFor('boris to read the new message', async () => {
      await boris.sync(LINE);
      return boris.received.some((r) => r.text === secretWords[2]) ? true : undefined;
    });
    // Even handed every item (by a careless or hostile station), her device cannot read on.
    const everything = await boris.call<{ items: Item[] }>('GET', `/api/v1/lines/${LINE}/items?after=0&limit=1000`);
    await carol.process(everything.items, carolPolicy, lineId);
    assert.equal(carol.received.length, before, 'the removed device read nothing new');
    assert.ok(!carol.received.some((r) => r.text === secretWords[2]));
    assert.equal(carol.group?.active, false, 'her device saw its own removal');
  });

  it('lets a device that was offline through many epochs catch up', async () => {
    // boris stays offline while the roster changes ten times (devices added one by one).
    const extra: TestDevice[] = [];
    for (let i = 0; i < 5; i++) {
      const d = new TestDevice(wa.url, await login(wa, 'alice', 'alice-password'), 'alice');
      await d.register(1);
      extra.push(d);
      await waitFor('the hub to add it', async () => {
        const r = await rosterOf(wa, alice1.token);
        return r?.devices.some((x) => x.deviceId === d.deviceId) ? true : undefined;
      });
    }
    const epochBefore = boris.group?.epoch ?? 0;
    await alice1.sync(LINE);
    await alice1.send(LINE, 'after many epochs');
    await waitFor('boris to catch up and read it', async () => {
      await boris.sync(LINE);
      return boris.received.some((r) => r.text === 'after many epochs') ? true : undefined;
    });
    assert.ok((boris.group?.epoch ?? 0) >= epochBefore + 5, 'boris processed every commit he missed');
  });

  it('removes a device from the group when its session logs out', async () => {
    const leaving = new TestDevice(wa.url, await login(wa, 'alice', 'alice-password'), 'alice');
    await leaving.register(1);
    await waitFor('the hub to add it', async () => {
      const r = await rosterOf(wa, alice1.token);
      return r?.devices.some((d) => d.deviceId === leaving.deviceId) ? true : undefined;
    });
    await leaving.call('POST', '/api/v1/logout');
    await waitFor('the hub to remove it', async () => {
      const r = await rosterOf(wa, alice1.token);
      return r && !r.devices.some((d) => d.deviceId === leaving.deviceId) ? true : undefined;
    });
  });

  it('orders members\u2019 own key updates through the hub, from either side, and refuses stale ones', async () => {
    for (const d of [alice1, boris]) {
      await d.sync(LINE);
      const before = d.group?.epoch ?? 0;
      const out = await updateOwnKeys(d.group as NonNullable<typeof d.group>);
      const res = await d.call<{ epoch: number }>('POST', `/api/v1/lines/${LINE}/commits`, {
        commit: Buffer.from(out.commit).toString('base64url'),
      });
      assert.equal(res.epoch, before + 1);
      d.group = out.state;
      d.ownCommits.add(Buffer.from(out.commit).toString('base64url'));
      // The same commit again is for an epoch the group has left.
      await assert.rejects(
        d.call('POST', `/api/v1/lines/${LINE}/commits`, { commit: Buffer.from(out.commit).toString('base64url') }),
        (e: { code?: string }) => e.code === 'WRONG_EPOCH',
      );
    }
    await boris.sync(LINE);
    await boris.send(LINE, 'after the key updates');
    await waitFor('alice to read it under the new keys', async () => {
      await alice1.sync(LINE);
      return alice1.received.some((r) => r.text === 'after the key updates') ? true : undefined;
    });
    const timeline = await alice1.call<{ items: Item[] }>('GET', `/api/v1/lines/${LINE}/items?after=0&limit=1000`);
    const describe = alice1.refused.map((r) => {
      const it = timeline.items.find((i) => i.pos === r.pos);
      return `${r.code} at ${r.pos}: ${it?.kind} from ${it?.sender.handle}@${it?.sender.station} client ${it?.clientId}`;
    });
    assert.deepEqual(describe, []);
  });

  it('keeps its own side\u2019s history in the recorder, readable by members, sealed at rest', async () => {
    for (const [dev, station] of [
      [boris, 'moscow'],
      [alice1, 'washington'],
    ] as const) {
      await waitFor(`${station}\u2019s recorder to archive every message`, async () => {
        const res = await dev.call<{ entries: { text: string | null }[] }>('GET', `/api/v1/lines/${LINE}/history`);
        const texts = res.entries.map((e) => (e.text ? Buffer.from(e.text, 'base64url').toString('utf8') : null));
        return [...secretWords, 'after many epochs'].every((w) => texts.includes(w)) ? true : undefined;
      });
      // carol's translation too, with the message it renders, its language and who made it.
      const entry = await waitFor(`${station}\u2019s recorder to archive the translation`, async () => {
        const res = await dev.call<{
          entries: { text: string | null; sender: { station: string; handle: string }; translation?: unknown }[];
        }>('GET', `/api/v1/lines/${LINE}/history`);
        return res.entries.find((e) => e.translation !== undefined);
      });
      assert.deepEqual(entry.translation, { of: translatedOf, lang: 'ru' });
      assert.deepEqual([entry.sender.station, entry.sender.handle], ['moscow', 'carol']);
      assert.deepEqual(JSON.parse(Buffer.from(entry.text ?? '', 'base64url').toString('utf8')), { text: translatedWords[0], lang: 'ru' });
    }
  });

  it('leaves no plaintext anywhere in either station\u2019s data directory', async () => {
    await Promise.all([wa.stop(), mo.stop()]);
    for (const st of [wa, mo]) {
      for (const file of filesUnder(st.dir)) {
        const bytes = readFileSync(file);
        for (const w of [...secretWords, ...translatedWords, 'after many epochs']) {
          assert.equal(bytes.includes(Buffer.from(w, 'utf8')), false, `${w} found in ${file}`);
          assert.equal(bytes.includes(Buffer.from(Buffer.from(w).toString('base64url'))), false, `${w} (base64) found in ${file}`);
        }
      }
    }
    await Promise.all([wa.start(), mo.start()]);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { updateOwnKeys } from '@parley/e2ee';
import type { Item } from '@parley/protocol';
import { cliOk, linkStations, StationProcess, TcpProxy } from '@parley/testkit';
import { TestDevice } from './support/e2ee-device.js';
import { waitFor } from './support/line-client.js';

const LINE = 'chiefs';

interface RosterView {
  epoch: number;
  devices: { station: string; handle: string; deviceId: string }[];
}

/** A station's view of the line's group: its recorder's state (the hub's on the inviting side). */
async function rosterAt(device: TestDevice): Promise<RosterView | undefined> {
  const res = await fetch(`${device.url}/api/v1/lines/${LINE}/roster`, { headers: { authorization: `Bearer ${device.token}` } });
  return res.ok ? ((await res.json()) as RosterView) : undefined;
}

async function archivedAt(device: TestDevice): Promise<string[]> {
  const res = await device.call<{ entries: { text: string | null }[] }>('GET', `/api/v1/lines/${LINE}/history`);
  return res.entries.flatMap((e) => (e.text ? [Buffer.from(e.text, 'base64url').toString('utf8')] : []));
}

// A member whose seat is removed still signs what was ordered before the removal. Here carol's
// own key update is ordered by the hub while washington cannot reach moscow; her seat is removed
// at moscow before that commit arrives there. Moscow's recorder and boris's device (offline
// meanwhile) must still process it, then the hub's commit removing her device, and go on.
describe('end-to-end encryption of a line when a seat is removed', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  /** Washington reaches moscow through this. */
  let proxy: TcpProxy;
  let alice: TestDevice;
  let boris: TestDevice;
  let carol: TestDevice;

  before(async () => {
    proxy = await TcpProxy.start();
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({
      name: 'moscow',
      heartbeatMs: 500,
      advertise: (ports) => {
        proxy.setTarget(ports[0] as number);
        return [proxy.url];
      },
    });
    await Promise.all([wa.start(), mo.start()]);
    alice = new TestDevice(wa.url, await wa.addEnrolledMember('alice', 'principal', 'alice-password'), 'alice');
    boris = new TestDevice(mo.url, await mo.addEnrolledMember('boris', 'principal', 'boris-password'), 'boris');
    carol = new TestDevice(mo.url, await mo.addEnrolledMember('carol', 'interpreter', 'carol-password'), 'carol');
    await linkStations(wa, mo, LINE, ['alice'], ['boris', 'carol']);
    for (const d of [alice, boris, carol]) await d.register();
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
    await proxy.close();
  });

  it('processes the removal at both recorders and at a device that was offline, and the group goes on', async () => {
    const hubView = await waitFor('the hub to add every device, and moscow\u2019s recorder to agree', async () => {
      const hub = await rosterAt(alice);
      const theirs = await rosterAt(boris);
      return hub?.devices.length === 5 && theirs?.epoch === hub.epoch ? hub : undefined;
    });
    for (const d of [alice, boris, carol]) await d.sync(LINE);
    for (const d of [alice, boris, carol]) assert.equal(d.group?.epoch, hubView.epoch, `${d.handle} joined`);

    // Washington cannot reach moscow: carol's key update reaches the hub (moscow forwards it),
    // but the ordered commit does not come back to moscow yet.
    proxy.pause('refuse');
    proxy.cut();
    const update = await updateOwnKeys(carol.group as NonNullable<typeof carol.group>);
    const payload = Buffer.from(update.commit).toString('base64url');
    const ordered = await carol.call<{ epoch: number }>('POST', `/api/v1/lines/${LINE}/commits`, { commit: payload });
    assert.equal(ordered.epoch, hubView.epoch + 1);
    carol.group = update.state;
    carol.ownCommits.add(payload);

    // Her seat is removed at moscow; boris's device is offline all along.
    await cliOk(['line', 'seat', 'remove', '--data', mo.dir, '--line', LINE, '--handle', 'carol']);
    proxy.resume();

    const removed = await waitFor('the hub to remove carol\u2019s device', async () => {
      const r = await rosterAt(alice);
      return r && !r.devices.some((d) => d.handle === 'carol') ? r : undefined;
    });
    assert.ok(removed.epoch >= hubView.epoch + 2, 'her update, then her removal');
    await waitFor('moscow\u2019s recorder to process her update and her removal', async () => {
      const r = await rosterAt(boris);
      return r?.epoch === removed.epoch && !r.devices.some((d) => d.handle === 'carol') ? true : undefined;
    });

    // Both ways, read by the remaining devices and both recorders.
    await alice.sync(LINE);
    await alice.send(LINE, 'after the removal, from washington');
    await waitFor('boris, back online, to catch up and read it', async () => {
      await boris.sync(LINE);
      return boris.received.some((r) => r.text === 'after the removal, from washington') ? true : undefined;
    });
    assert.deepEqual(boris.refused, [], 'boris processed every commit and message');
    assert.equal(boris.group?.epoch, removed.epoch);
    await boris.send(LINE, 'after the removal, from moscow');
    await waitFor('alice to read the answer', async () => {
      await alice.sync(LINE);
      return alice.received.some((r) => r.text === 'after the removal, from moscow') ? true : undefined;
    });
    assert.deepEqual(alice.refused, []);
    for (const d of [alice, boris]) {
      await waitFor(`${d.handle}\u2019s station\u2019s recorder to archive both`, async () => {
        const texts = await archivedAt(d);
        return texts.includes('after the removal, from washington') && texts.includes('after the removal, from moscow') ? true : undefined;
      });
    }

    // Carol's device, even handed every item, reads nothing sent after her removal.
    await assert.rejects(carol.sync(LINE), /LINE_NOT_FOUND/);
    const everything = await boris.call<{ items: Item[] }>('GET', `/api/v1/lines/${LINE}/items?after=0&limit=1000`);
    await carol.process(everything.items, await boris.policy(LINE), (await boris.call<{ id: string }>('GET', `/api/v1/lines/${LINE}`)).id);
    assert.equal(carol.group?.active, false, 'her device saw its own removal');
    assert.deepEqual(carol.received, []);
  });
});

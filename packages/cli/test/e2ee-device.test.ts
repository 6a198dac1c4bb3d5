// The CLI device's end-to-end logic (packages/cli/src/e2ee) against an in-memory station pair:
// joining, decrypting, failures recorded as what they are, crash-safe ordering, self-updates.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '@parley/testkit';
import { ensureDevice } from '../src/e2ee/device.js';
import { withProfileLock } from '../src/e2ee/files.js';
import { compareRosters, openLine, selfUpdate, selfUpdateWithRetry, sendText, syncLine } from '../src/e2ee/line.js';
import { DeviceStore, type MessageRecord, type TimelineRecord } from '../src/e2ee/store.js';
import { FakeLine, type Owner } from './e2ee-fake-station.js';

interface Dev {
  owner: Owner;
  store: DeviceStore;
  fake: FakeLine;
}

async function device(fake: FakeLine, station: string, handle: string): Promise<Dev> {
  const owner = fake.login(station, handle);
  const store = new DeviceStore(join(tempDir(), handle));
  await ensureDevice(store, fake.apiFor(owner), owner, { forceKeyPackageCheck: true });
  return { owner, store, fake };
}

async function session(d: Dev) {
  const ctx = await ensureDevice(d.store, d.fake.apiFor(d.owner), d.owner);
  return openLine(ctx, d.fake.name);
}

async function sync(d: Dev): Promise<TimelineRecord[]> {
  const s = await session(d);
  await syncLine(s);
  return d.store.readCache(d.fake.name).timeline;
}

async function send(d: Dev, text: string, lang?: string) {
  const s = await session(d);
  await syncLine(s);
  return sendText(s, text, lang);
}

const messages = (records: TimelineRecord[]) => records.filter((r): r is MessageRecord => r.t === 'msg');
const texts = (records: TimelineRecord[]) => messages(records).map((m) => m.text);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('CLI device: end-to-end encryption over a line', () => {
  it('joins from the hub\u2019s Welcome and carries messages both ways between several devices', async () => {
    const fake = await FakeLine.create();
    const wa1 = await device(fake, 'washington', 'chief');
    const wa2 = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    const early = await session(wa1);
    await assert.rejects(sendText(early, 'too soon'), /waiting for the hub to add this device/);
    assert.equal(await fake.addPending(), 3);

    await send(wa1, 'from washington, device one');
    await send(mo, 'из москвы', 'ru');
    await send(wa2, 'from washington, device two');

    const at = { wa1: await sync(wa1), wa2: await sync(wa2), mo: await sync(mo) };
    for (const view of Object.values(at)) {
      assert.deepEqual(texts(view), ['from washington, device one', 'из москвы', 'from washington, device two']);
      assert.ok(messages(view).every((m) => m.verified && m.error === null));
    }
    const ru = messages(at.wa2).find((m) => m.text === 'из москвы') as MessageRecord;
    assert.equal(ru.lang, 'ru');
    assert.deepEqual(ru.sender, { station: 'moscow', handle: 'chief', deviceId: mo.owner.deviceId });
    assert.equal(messages(at.wa1)[0]?.status, 'own', 'a device shows its own message from the plaintext it kept');
    assert.equal(messages(at.wa2)[0]?.status, 'ok', 'another device of the same member decrypts it');
    assert.equal(messages(at.wa2)[0]?.sender.deviceId, wa1.owner.deviceId);
    const joined = at.mo.find((r) => r.t === 'event' && r.event === 'joined');
    assert.ok(joined, 'joining is shown');

    // Exactly once: a second sync adds nothing; the timeline is not re-processed.
    const again = await sync(mo);
    assert.equal(again.length, at.mo.length);
  });

  it('records what it cannot read, as what it is, and keeps going', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    await send(wa, 'before the late device');
    const late = await device(fake, 'washington', 'chief');
    await fake.addPending();
    const s = await session(wa);
    await syncLine(s);
    await sendText(s, 'genuine');
    // A station slips in a copy with one byte flipped before it, and replays it after it.
    const original = fake.timeline.pop() as (typeof fake.timeline)[number];
    const bytes = Buffer.from(original.payload, 'base64url');
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1;
    fake.inject('mls', bytes.toString('base64url'), original.sender, 'tampered-0001');
    fake.timeline.push({ ...original, pos: fake.timeline.length + 1 });
    fake.inject('mls', original.payload, original.sender, 'replayed-0001');
    await send(wa, 'after the damage');

    const view = messages(await sync(mo));
    assert.deepEqual(
      view.map((m) => [m.text, m.status, m.error?.split(':')[0] ?? null]),
      [
        ['before the late device', 'ok', null],
        [null, 'failed', 'DECRYPT_FAILED'],
        ['genuine', 'ok', null],
        [null, 'failed', 'REPLAYED_MESSAGE'],
        ['after the damage', 'ok', null],
      ],
    );
    const lateView = messages(await sync(late));
    assert.equal(lateView[0]?.status, 'before-join');
    assert.equal(lateView[0]?.error, null, 'sent before this device joined is not an error');
    assert.equal(lateView.at(-1)?.text, 'after the damage');
  });

  it('saves the group state before a message leaves, so a lost answer never reuses keys', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    const s = await session(wa);
    await syncLine(s);
    // The station is unreachable: the send fails after encryption.
    const api = s.ctx.api;
    s.ctx.api = { ...api, send: async () => Promise.reject(new Error('connection reset')) };
    await assert.rejects(sendText(s, 'lost on the way'));
    await send(wa, 'sent after the failure');
    assert.deepEqual(texts(await sync(mo)), ['sent after the failure']);
  });

  it('self-updates: accepted by the hub, recognised in the timeline, messages still flow', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    const s = await session(mo);
    await syncLine(s);
    const before = s.state.group?.epoch as number;
    const r = await selfUpdate(s);
    assert.ok(r.ok);
    assert.equal(s.state.group?.epoch, before + 1);
    await send(mo, 'with fresh keys');
    const moView = await sync(mo);
    assert.ok(moView.some((x) => x.t === 'event' && x.event === 'keys' && /this device refreshed/.test(x.text)));
    assert.ok(!moView.some((x) => x.t === 'event' && x.event === 'error'));
    const waView = await sync(wa);
    assert.deepEqual(texts(waView), ['with fresh keys']);
    assert.ok(waView.some((x) => x.t === 'event' && x.event === 'keys' && /chief@moscow/.test(x.text)));

    // The hub accepts the next one but the answer is lost: the device adopts it from the timeline.
    fake.loseNextCommitAnswer = true;
    const s2 = await session(mo);
    await syncLine(s2);
    await assert.rejects(selfUpdate(s2));
    assert.ok(s2.state.meta.pending);
    await send(mo, 'after a lost answer');
    assert.deepEqual(texts(await sync(wa)), ['with fresh keys', 'after a lost answer']);
    const s3 = await session(mo);
    assert.equal(s3.state.meta.pending, null);
    assert.equal(s3.state.group?.epoch, fake.hub.epoch);
  });

  it('retries a self-update once when the hub ordered another commit first', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    await fake.addPending();
    const s = await session(wa);
    await syncLine(s);
    await device(fake, 'moscow', 'chief');
    await fake.addPending(); // the hub moves on; this device has not seen it yet
    const r = await selfUpdateWithRetry(s);
    assert.equal(r.epoch, fake.hub.epoch);
    const cmp = compareRosters(s.state.group, { epoch: fake.hub.epoch, devices: (await fake.apiFor(wa.owner).roster('chiefs')).devices });
    assert.ok(cmp.matches);
  });

  it('a removed device cannot read what comes after, and says so', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    await send(wa, 'while seated');
    await fake.removeDevice(mo.owner.deviceId);
    await send(wa, 'after the removal');
    const view = await sync(mo);
    assert.ok(view.some((r) => r.t === 'event' && r.event === 'removed'));
    const last = messages(view).at(-1) as MessageRecord;
    assert.equal(last.text, null);
    assert.match(last.error ?? '', /^NOT_A_MEMBER/);
    for (const f of filesUnder(mo.store.dir)) assert.ok(!readFileSync(f).includes('after the removal'), `${f} holds no new plaintext`);
    await assert.rejects(send(mo, 'still here?'), /removed/);
  });

  it('decrypts a message that arrived before the commit it was sent after', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    await sync(mo);
    // washington's device processes a commit and sends; its message lands before the commit.
    const extra = await device(fake, 'washington', 'clerk');
    await fake.addPending();
    await sync(extra);
    const s = await session(wa);
    await syncLine(s);
    await sendText(s, 'sent in the new epoch');
    const commitAndWelcome = fake.timeline.splice(-3, 2);
    fake.timeline.push(...commitAndWelcome);
    fake.timeline.forEach((it, i) => {
      it.pos = i + 1;
    });
    const view = messages(await sync(mo));
    assert.deepEqual(
      view.map((m) => [m.text, m.status]),
      [['sent in the new epoch', 'ok']],
    );
  });

  it('catches up after many roster changes while offline', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    await send(wa, 'before going offline');
    await sync(mo);
    const others: Dev[] = [];
    for (let i = 0; i < 10; i++) {
      others.push(await device(fake, i % 2 ? 'moscow' : 'washington', i % 2 ? 'chief' : 'clerk'));
      await fake.addPending();
      if (i === 4) await send(wa, 'in the middle');
    }
    await send(others[9] as Dev, 'from the newest device');
    const view = await sync(mo);
    assert.deepEqual(texts(view), ['before going offline', 'in the middle', 'from the newest device']);
    assert.equal(view.filter((r) => r.t === 'event' && r.event === 'roster').length, 10);
    const s = await session(mo);
    assert.equal(s.state.group?.epoch, fake.hub.epoch);
  });

  it('a new login in the same profile is a new device that keeps the decrypted view so far', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    const mo = await device(fake, 'moscow', 'chief');
    await fake.addPending();
    await send(wa, 'one');
    assert.deepEqual(texts(await sync(mo)), ['one']);
    const again: Dev = { ...mo, owner: fake.login('moscow', 'chief') };
    await ensureDevice(again.store, fake.apiFor(again.owner), again.owner, { forceKeyPackageCheck: true });
    assert.equal(readdirSync(join(again.store.dir, 'retired')).length, 1, 'the old device is set aside');
    await send(wa, 'two');
    await fake.addPending();
    await send(wa, 'three');
    const view = messages(await sync(again));
    assert.deepEqual(
      view.map((m) => [m.text, m.status]),
      [
        ['one', 'ok'],
        [null, 'before-join'],
        ['three', 'ok'],
      ],
    );
    assert.equal(view[2]?.sender.deviceId, wa.owner.deviceId);
  });

  it('keeps its secrets in 0600 files and lets one process at a time use them', async () => {
    const fake = await FakeLine.create();
    const wa = await device(fake, 'washington', 'chief');
    await fake.addPending();
    await send(wa, 'x');
    for (const f of filesUnder(wa.store.dir)) assert.equal(statSync(f).mode & 0o077, 0, `${f} is private`);
    const order: string[] = [];
    await Promise.all([
      withProfileLock(wa.store.dir, async () => {
        order.push('a+');
        await new Promise((r) => setTimeout(r, 50));
        order.push('a-');
      }),
      withProfileLock(wa.store.dir, async () => {
        order.push('b+');
        order.push('b-');
      }),
    ]);
    assert.ok(order.join() === 'a+,a-,b+,b-' || order.join() === 'b+,b-,a+,a-');
  });
});

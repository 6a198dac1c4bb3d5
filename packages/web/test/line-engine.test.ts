import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserializeGroup, roster, SELF_UPDATE_SCHEDULE } from '@parley/e2ee';
import type { Item } from '@parley/protocol';
import { keyPackageSecrets, KEY_PACKAGE_TARGET } from '../src/e2ee/device.js';
import { LineEngine, LineKeyError, type LineRecord } from '../src/e2ee/line-engine.js';
import { Vault } from '../src/e2ee/vault.js';
import { FakeLine } from './e2ee-fixtures.js';

const texts = (records: LineRecord[]) => records.flatMap((r) => (r.body.t === 'text' || r.body.t === 'archived' ? [r.body.text] : []));
const bodyAt = (records: LineRecord[], pos: number) => records.find((r) => r.pos === pos)?.body;

/** A line where the web device of washington's chief has been added and has joined. */
async function joined() {
  const line = await FakeLine.create();
  const { ctx, raw } = await line.webDevice();
  assert.equal(line.uploaded.length, 0, 'setting up makes no key packages by itself');
  const { topUpKeyPackages } = await import('../src/e2ee/device.js');
  await topUpKeyPackages(ctx);
  const engine = await LineEngine.open(ctx, line.summary());
  await line.addWebDevice();
  await engine.ingest(line.after(0));
  assert.equal(engine.membership, 'member');
  return { line, ctx, raw, engine };
}

describe('a line’s engine in the web app', () => {
  it('waits, then joins from the Welcome addressed to it, ignoring those for other devices; a used key package is dropped and replaced', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const { topUpKeyPackages } = await import('../src/e2ee/device.js');
    assert.equal(await topUpKeyPackages(ctx), KEY_PACKAGE_TARGET);
    assert.equal((await keyPackageSecrets(ctx)).length, KEY_PACKAGE_TARGET);
    const engine = await LineEngine.open(ctx, line.summary());
    assert.equal(engine.membership, 'waiting');
    // The group so far: the recorder adds boris (a Welcome for him, not for us).
    assert.deepEqual(await engine.ingest(line.after(0)), []);
    assert.equal(engine.membership, 'waiting');
    assert.equal(engine.cursor, 2);
    assert.deepEqual(await engine.seal({ clientId: 'client-00000001', text: 'too early' }), { membership: 'waiting' });

    await line.addWebDevice();
    const records = await engine.ingest(line.after(engine.cursor));
    assert.equal(engine.membership, 'member');
    assert.equal(records.length, 1);
    const ev = records[0]?.body;
    assert.ok(ev?.t === 'event' && ev.event === 'joined', 'the join is shown');
    assert.deepEqual(ev.added?.map((d) => d.handle).sort(), ['chief', 'chief', 'recorder']);
    const kps = await keyPackageSecrets(ctx);
    assert.equal(kps.length, KEY_PACKAGE_TARGET - 1 + 1, 'the used one is gone, a fresh one replaced it');
    // The hub's roster now holds this device.
    assert.ok((await engine.deviceRoster())?.devices.some((d) => d.deviceId === 'web-device-01'));
  });

  it('decrypts the peer’s messages with the sender verified, once, and keeps them for the next page load', async () => {
    const { line, ctx, engine } = await joined();
    await line.borisSays('Request a call at 14:00Z');
    await line.borisSays('Запрос на звонок', { lang: 'ru' });
    const got = await engine.ingest(line.after(engine.cursor));
    assert.deepEqual(texts(got), ['Request a call at 14:00Z', 'Запрос на звонок']);
    const b = got[1]?.body;
    assert.ok(b?.t === 'text');
    assert.equal(b.lang, 'ru');
    assert.equal(b.verified, true);
    assert.deepEqual(b.from, { station: 'moscow', handle: 'chief', deviceId: line.boris.deviceId });

    // Another tab (or the next page load): a new engine on the same vault, the same items again.
    const tab2 = await LineEngine.open(ctx, line.summary());
    assert.equal(tab2.cursor, engine.cursor);
    const again = await tab2.ingest(line.after(0));
    assert.deepEqual(texts(again), ['Request a call at 14:00Z', 'Запрос на звонок'], 'read from the cache, not decrypted twice');
    assert.deepEqual(texts(await tab2.records()), ['Request a call at 14:00Z', 'Запрос на звонок']);
  });

  it('stores the new group state before handing out a ciphertext, and never uses one ratchet generation twice across tabs', async () => {
    const { line, ctx, engine } = await joined();
    const stateKey = `line/${line.lineId}/group`;
    const before = await ctx.vault.get<Uint8Array>(stateKey);
    const one = await engine.seal({ clientId: 'client-00000001', text: 'first from tab 1' });
    assert.ok('payload' in one);
    const after = await ctx.vault.get<Uint8Array>(stateKey);
    assert.notDeepEqual(after, before, 'the state that encrypted it is stored');
    assert.ok(after && deserializeGroup(after).epoch >= 0);
    // A retry in the same epoch sends the same bytes.
    assert.deepEqual(await engine.seal({ clientId: 'client-00000001', text: 'first from tab 1' }), one);

    const tab2 = await LineEngine.open(ctx, line.summary());
    const results = await Promise.all([
      tab2.seal({ clientId: 'client-00000002', text: 'from tab 2' }),
      engine.seal({ clientId: 'client-00000003', text: 'second from tab 1' }),
      tab2.seal({ clientId: 'client-00000004', text: 'again from tab 2' }),
    ]);
    const payloads = [one, ...results].map((r) => ('payload' in r ? r.payload : assert.fail('not sealed')));
    const read = [];
    for (const p of payloads) read.push(await line.borisReads(p));
    assert.deepEqual(read, ['first from tab 1', 'from tab 2', 'second from tab 1', 'again from tab 2']);
  });

  it('shows its own message from the local copy when the item comes back, and forgets the copy then', async () => {
    const { line, ctx, engine } = await joined();
    const sealed = await engine.seal({ clientId: 'client-00000009', text: 'Agreed. 14:00Z.', lang: 'en' });
    assert.ok('payload' in sealed);
    line.push('out', 'chief', 'mls', new Uint8Array(Buffer.from(sealed.payload, 'base64url')), 'client-00000009');
    const got = await engine.ingest(line.after(engine.cursor));
    const b = got[0]?.body;
    assert.ok(b?.t === 'text');
    assert.deepEqual([b.text, b.lang, b.own, b.verified, b.from.deviceId], ['Agreed. 14:00Z.', 'en', true, true, 'web-device-01']);
    const meta = await ctx.vault.get<{ sent: object; sealed: object }>(`line/${line.lineId}/meta`);
    assert.deepEqual([meta?.sent, meta?.sealed], [{}, {}]);
  });

  it('marks messages from before it joined, and fills them from the recorder on request', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const { topUpKeyPackages } = await import('../src/e2ee/device.js');
    await topUpKeyPackages(ctx);
    const engine = await LineEngine.open(ctx, line.summary());
    await line.borisSays('Old news 1');
    await line.borisSays('Old news 2');
    await line.addWebDevice();
    await line.borisSays('Fresh news');
    const got = await engine.ingest(line.after(0));
    assert.deepEqual(
      got.map((r) => r.body.t),
      ['before-join', 'before-join', 'event', 'text'],
    );
    assert.deepEqual(texts(got), ['Fresh news']);
    const filled = await engine.loadHistory(async (after) => line.historyPage(after, 1));
    assert.deepEqual(texts(filled), ['Old news 1', 'Old news 2']);
    assert.ok(filled.every((r) => r.body.t === 'archived' && r.body.from.deviceId === line.boris.deviceId));
    assert.deepEqual(texts(await engine.records()), ['Old news 1', 'Old news 2', 'Fresh news']);
    assert.deepEqual(await engine.loadHistory(async (after) => line.historyPage(after)), [], 'nothing left to load');
  });

  it('leaves no placeholder for a voice signal from before it joined, and hands later ones to the voice panel', async () => {
    const { encrypt } = await import('@parley/e2ee');
    const { encodeSignalContent, SIGNAL_AAD } = await import('../src/message-codec.js');
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const { topUpKeyPackages } = await import('../src/e2ee/device.js');
    await topUpKeyPackages(ctx);
    const engine = await LineEngine.open(ctx, line.summary());
    const signal = { kind: 'hangup', callId: 'call0000000000000001' };
    const borisSignals = async () => {
      const out = await encrypt(line.borisState, encodeSignalContent(signal), { authenticatedData: SIGNAL_AAD });
      line.borisState = out.state;
      line.push('in', 'chief', 'mls', out.message);
    };
    await line.borisSays('Old news');
    await borisSignals();
    await line.addWebDevice();
    await borisSignals();
    const got = await engine.ingest(line.after(0));
    assert.deepEqual(
      got.map((r) => r.body.t),
      ['before-join', 'event', 'signal'],
      'the old message keeps its placeholder; the old signal has none',
    );
    const last = got[2]?.body;
    assert.ok(last?.t === 'signal' && !last.own);
    assert.deepEqual(last.signal, signal);
  });

  it('holds a message sent after a commit it has not seen yet, and reads it once the commit comes', async () => {
    const { line, engine } = await joined();
    // The hub orders a commit (another device is added); boris writes in the new epoch; his
    // message reaches our timeline before the commit does.
    await line.addOtherDevice();
    const [commit, welcome] = line.items.splice(-2) as [Item, Item];
    await line.borisSays('After the change');
    const message = line.items.pop() as Item;
    const first = { ...message, pos: commit.pos };
    const second = { ...commit, pos: commit.pos + 1 };
    const third = { ...welcome, pos: commit.pos + 2 };
    const got = await engine.ingest([first]);
    assert.equal(got[0]?.body.t, 'pending');
    const later = await engine.ingest([second, third]);
    assert.deepEqual(
      later.map((r) => [r.pos, r.body.t]),
      [
        [first.pos, 'text'],
        [second.pos, 'event'],
      ],
    );
    assert.deepEqual(texts(later), ['After the change']);
  });

  it('shows what it cannot read as refused, with the reason, never dropping it', async () => {
    const { line, engine } = await joined();
    const good = await line.borisSays('tamper with me', { push: false });
    const bad = new Uint8Array(good);
    bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 0xff;
    const tampered = line.push('in', 'chief', 'mls', bad);
    const garbage = line.push('in', 'chief', 'mls', new Uint8Array([1, 2, 3]));
    const plain = line.push('in', 'chief', 'message', new TextEncoder().encode('no encryption'));
    const replay = line.push('in', 'chief', 'mls', await line.borisSays('once', { push: false }));
    const replayed = line.push('in', 'chief', 'mls', Buffer.from(replay.payload, 'base64url'));
    const got = await engine.ingest(line.after(engine.cursor));
    const refusedCode = (pos: number) => {
      const b = bodyAt(got, pos);
      return b?.t === 'refused' ? b.code : b?.t;
    };
    assert.match(String(refusedCode(tampered.pos)), /DECRYPT_FAILED|MALFORMED/);
    assert.equal(refusedCode(garbage.pos), 'MALFORMED');
    assert.deepEqual(bodyAt(got, plain.pos), { t: 'unencrypted', text: 'no encryption' });
    assert.deepEqual(texts(got), ['once']);
    assert.match(String(refusedCode(replayed.pos)), /REPLAYED_MESSAGE|DECRYPT_FAILED/);
  });

  it('sees its own removal, and then refuses to send', async () => {
    const { line, engine } = await joined();
    await line.removeDevice('web-device-01');
    const got = await engine.ingest(line.after(engine.cursor));
    const b = got[0]?.body;
    assert.ok(b?.t === 'event' && b.event === 'removed');
    assert.equal(engine.membership, 'removed');
    assert.deepEqual(await engine.seal({ clientId: 'client-00000001', text: 'x' }), { membership: 'removed' });
  });

  it('refuses a line whose station keys are not the pinned ones', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const other = (await import('./e2ee-fixtures.js')).makeStation('washington');
    await assert.rejects(
      LineEngine.open(
        ctx,
        line.summary({ station: { name: 'washington', publicKey: Buffer.from(other.publicKey).toString('base64url') } }),
      ),
      LineKeyError,
    );
    await assert.rejects(
      LineEngine.open(
        ctx,
        line.summary({ peer: { ...line.summary().peer, publicKey: Buffer.from(other.publicKey).toString('base64url') } }),
      ),
      LineKeyError,
      'a peer key that does not match the pinned fingerprint',
    );
    // Once the line has a state, the peer's key may not change, even with a matching fingerprint.
    const engine = await LineEngine.open(ctx, line.summary());
    await engine.ingest(line.after(0));
    const swapped = line.summary({
      peer: {
        name: 'moscow',
        urls: [],
        publicKey: Buffer.from(other.publicKey).toString('base64url'),
        fingerprint: (await import('./e2ee-fixtures.js')).fingerprint(other.publicKey),
      },
    });
    await assert.rejects(
      LineEngine.open(ctx, swapped).then((e) => e.ingest(line.after(0))),
      LineKeyError,
    );
  });

  it('keeps nothing readable at rest: no plaintext, no key, in any stored value', async () => {
    const { line, raw, engine } = await joined();
    await line.borisSays('SECRET-ORCHID-5521');
    await engine.ingest(line.after(engine.cursor));
    const s = await engine.seal({ clientId: 'client-00000001', text: 'SECRET-TANGO-7788' });
    assert.ok('payload' in s);
    assert.ok(raw.entries.size > 5);
    for (const [k, v] of raw.entries) {
      const bytes = Buffer.from(v.ct);
      for (const w of ['SECRET-ORCHID-5521', 'SECRET-TANGO-7788']) {
        assert.equal(bytes.includes(w), false, `${w} in ${k}`);
        assert.equal(bytes.includes(Buffer.from(w).toString('base64url')), false, `${w} (base64url) in ${k}`);
      }
    }
    // Sealed under the scope's key and bound to its name: another scope, or another name, cannot open it.
    const stranger = new Vault(raw, 'parley:v1:fp:someone-else');
    const [name, value] = [...raw.entries.entries()][0] as [string, typeof raw.entries extends Map<string, infer V> ? V : never];
    await stranger.write([['x', 1]]);
    raw.entries.set(`parley:v1:fp:someone-else/stolen`, value);
    await assert.rejects(stranger.get('stolen'), /cannot be unsealed/);
    assert.ok(name.startsWith('parley:v1:fp:chief:web-device-01/'));
  });
});

describe('a web device refreshing its own keys (post-compromise security)', () => {
  const keyEvents = (records: LineRecord[]) =>
    records.flatMap((r) => (r.body.t === 'event' && r.body.event === 'keys' ? [r.body.text] : []));
  const errors = (records: LineRecord[]) => records.filter((r) => r.body.t === 'event' && r.body.event === 'error');
  const payloadOf = (r: Awaited<ReturnType<LineEngine['seal']>>) => ('payload' in r ? r.payload : assert.fail('not sealed'));

  it('is due after so many messages, as in the CLI; the hub orders it and messages flow both ways under the new keys', async () => {
    const { line, engine } = await joined();
    assert.equal(engine.selfUpdateDue, false, 'joined with fresh keys');
    assert.equal(await engine.refreshKeysIfDue(), false);
    for (let i = 1; i <= SELF_UPDATE_SCHEDULE.every; i++) {
      await line.borisReads(payloadOf(await engine.seal({ clientId: `client-${String(i).padStart(8, '0')}`, text: `message ${i}` })));
    }
    assert.equal(engine.selfUpdateDue, true);
    const before = engine.epoch as number;
    assert.equal(await engine.refreshKeysIfDue(), true);
    assert.equal(engine.epoch, before + 1);
    assert.equal(line.hub.epoch, before + 1, 'ordered by the hub');
    assert.equal(engine.selfUpdateDue, false, 'the count starts again');
    // The commit comes back on the timeline: already applied, shown once.
    const back = await engine.ingest(line.after(engine.cursor));
    assert.deepEqual(keyEvents(back), [`This device refreshed its keys (epoch ${before + 1}).`]);
    assert.deepEqual(errors(back), []);
    assert.equal(
      await line.borisReads(payloadOf(await engine.seal({ clientId: 'client-after-01', text: 'with fresh keys' }))),
      'with fresh keys',
    );
    await line.borisSays('received under the new keys');
    assert.deepEqual(texts(await engine.ingest(line.after(engine.cursor))), ['received under the new keys']);
  });

  it('is due once the last refresh is a day old, even without sending', async () => {
    const { line, ctx, engine } = await joined();
    const now = ctx.now;
    ctx.now = () => now() + SELF_UPDATE_SCHEDULE.maxAgeMs + 60_000;
    assert.equal(engine.selfUpdateDue, true);
    assert.equal(await engine.refreshKeysIfDue(), true);
    assert.equal(engine.epoch, line.hub.epoch);
  });

  it('catches up and offers a fresh update when the hub ordered another commit first', async () => {
    const { line, ctx, engine } = await joined();
    const now = ctx.now;
    ctx.now = () => now() + SELF_UPDATE_SCHEDULE.maxAgeMs + 60_000;
    const offered: number[] = [];
    const call = ctx.call;
    ctx.call = (async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      if (path.endsWith('/commits')) offered.push(engine.epoch as number);
      return call(method, path, body);
    }) as typeof call;
    const before = engine.epoch as number;
    // The hub adds another device just before it looks at this device's update.
    line.beforeNextCommit = () => line.addOtherDevice();
    assert.equal(await engine.refreshKeysIfDue(), true);
    assert.deepEqual(offered, [before, before + 1], 'refused as stale, offered again after catching up');
    assert.equal(engine.epoch, before + 2);
    assert.equal(engine.epoch, line.hub.epoch);
    const mine = await engine.deviceRoster();
    assert.deepEqual(
      mine?.devices.map((d) => [d.leafIndex, d.deviceId]),
      roster(line.hub).map((d) => [d.leafIndex, d.deviceId]),
    );
    const back = await engine.ingest(line.after(engine.cursor));
    assert.equal(keyEvents(back).length, 1);
    assert.deepEqual(errors(back), []);
  });

  it('adopts its update from the timeline when the hub’s answer was lost', async () => {
    const { line, ctx, engine } = await joined();
    line.loseNextCommitAnswer = true;
    await assert.rejects(engine.updateOwnKeys(), /connection reset/);
    assert.equal(engine.selfUpdateDue, false, 'pending: not offered twice');
    await assert.rejects(engine.updateOwnKeys(), /has not come back/);
    const before = engine.epoch as number;
    const back = await engine.ingest(line.after(engine.cursor));
    assert.deepEqual(keyEvents(back), [`This device refreshed its keys (epoch ${before + 1}).`]);
    assert.equal(engine.epoch, line.hub.epoch);
    // Another tab (or the next page load) finds the update adopted and nothing pending.
    const tab2 = await LineEngine.open(ctx, line.summary());
    assert.equal(tab2.epoch, line.hub.epoch);
    assert.equal(tab2.selfUpdateDue, false);
    assert.equal(
      await line.borisReads(payloadOf(await tab2.seal({ clientId: 'client-after-02', text: 'after a lost answer' }))),
      'after a lost answer',
    );
    assert.equal(await ctx.vault.get(`line/${line.lineId}/pending-group`), undefined, 'the would-be state is gone');
  });
});

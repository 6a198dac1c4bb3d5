import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineEngine, type LineRecord } from '../src/e2ee/line-engine.js';
import { translationsByOriginal } from '../src/translations.js';
import { FakeLine } from './e2ee-fixtures.js';

// The web device reads 'translation' items (issue 9): `{of, lang, body}` with the body an MLS
// application message from the interpreter, decrypted like a message; its own from the copy it
// kept when it sealed it; a malformed one is shown as an error, never dropped silently.

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

async function joined() {
  const line = await FakeLine.create();
  const { ctx } = await line.webDevice();
  const { topUpKeyPackages } = await import('../src/e2ee/device.js');
  await topUpKeyPackages(ctx);
  const engine = await LineEngine.open(ctx, line.summary());
  await line.addWebDevice();
  await engine.ingest(line.after(0));
  assert.equal(engine.membership, 'member');
  return { line, engine };
}

const bodyAt = (records: LineRecord[], pos: number) => records.find((r) => r.pos === pos)?.body;

describe('translation items in the web app', () => {
  it('decrypts the other side\u2019s translation beside the original it names, with the interpreter verified', async () => {
    const { line, engine } = await joined();
    const sent = await engine.seal({ clientId: 'client-00000001', text: 'Request a call at 14:00Z', lang: 'en' });
    assert.ok('payload' in sent);
    const original = line.push('out', 'chief', 'mls', new Uint8Array(Buffer.from(sent.payload, 'base64url')), 'client-00000001');
    const body = await line.borisSays('Просим звонок в 14:00Z', { push: false, lang: 'ru' });
    const item = line.push('in', 'chief', 'translation', json({ of: { side: 'inviter', seq: original.seq }, lang: 'ru', body: b64(body) }));
    const got = await engine.ingest(line.after(engine.cursor));
    const t = bodyAt(got, item.pos);
    assert.ok(t?.t === 'translation');
    assert.deepEqual(t.of, { side: 'inviter', seq: original.seq });
    assert.equal(t.lang, 'ru');
    assert.ok(t.secret.ok);
    assert.equal(t.secret.text, 'Просим звонок в 14:00Z');
    assert.deepEqual(t.secret.from, { station: 'moscow', handle: 'chief', deviceId: line.boris.deviceId });
    // The writer (washington, the inviter) sees it as the other side's rendering of their message.
    const shown = translationsByOriginal(got, 'inviter').get(`inviter:${original.seq}`);
    assert.equal(shown?.[0]?.byOtherSide, true);
    assert.equal(shown?.[0]?.latest.text, 'Просим звонок в 14:00Z');
  });

  it('shows its own translation from the copy it kept, and a malformed one as an error', async () => {
    const { line, engine } = await joined();
    await line.borisSays('Запрос на звонок', { lang: 'ru' });
    const ofSeq = line.items[line.items.length - 1]?.seq as number;
    const sealed = await engine.seal({ clientId: 'client-00000002', text: 'Request for a call', lang: 'en' });
    assert.ok('payload' in sealed);
    const own = line.push(
      'out',
      'chief',
      'translation',
      json({ of: { side: 'acceptor', seq: ofSeq }, lang: 'en', body: sealed.payload }),
      'client-00000002',
    );
    const bad = line.push('in', 'chief', 'translation', json({ of: { side: 'nowhere', seq: 0 }, lang: 'en', body: 'x' }));
    const got = await engine.ingest(line.after(0));
    const t = bodyAt(got, own.pos);
    assert.ok(t?.t === 'translation' && t.secret.ok);
    assert.deepEqual([t.secret.text, t.secret.own, t.lang], ['Request for a call', true, 'en']);
    const e = bodyAt(got, bad.pos);
    assert.ok(e?.t === 'event' && e.event === 'error', 'a malformed translation is shown as an error');
  });

  it('fills a translation made before it joined from the recorder\u2019s archive, beside its original, marked unverified', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const { topUpKeyPackages } = await import('../src/e2ee/device.js');
    await topUpKeyPackages(ctx);
    const engine = await LineEngine.open(ctx, line.summary());
    await line.borisSays('Просим звонок в 14:00Z', { lang: 'ru' });
    const original = line.items[line.items.length - 1] as (typeof line.items)[number];
    const body = await line.borisSays('We ask for a call at 14:00Z', { push: false, lang: 'en' });
    const of = { side: 'acceptor' as const, seq: original.seq };
    const item = line.push('in', 'chief', 'translation', json({ of, lang: 'en', body: b64(body) }));
    // The recorder archived it as a translation of that original; and an entry for a position
    // that names another original is never taken for it.
    line.history.push({
      pos: item.pos,
      sentAt: item.sentAt,
      sender: { station: 'moscow', handle: 'chief', deviceId: line.boris.deviceId },
      text: b64(json({ text: 'We ask for a call at 14:00Z', lang: 'en' })),
      error: null,
      translation: { of, lang: 'en' },
    });
    await line.addWebDevice();
    const got = await engine.ingest(line.after(0));
    const before = bodyAt(got, item.pos);
    assert.ok(before?.t === 'translation' && !before.secret.ok);
    assert.equal(before.secret.code, 'BEFORE_JOIN', 'made before this device joined: the archive may have it');
    const filled = await engine.loadHistory(async (after) => line.historyPage(after, 1));
    assert.deepEqual(
      filled.map((r) => [r.pos, r.body.t]),
      [
        [original.pos, 'archived'],
        [item.pos, 'translation'],
      ],
    );
    const shown = translationsByOriginal(await engine.records(), 'inviter').get(`acceptor:${original.seq}`);
    assert.equal(shown?.length, 1);
    assert.deepEqual(
      [shown?.[0]?.lang, shown?.[0]?.latest.text, shown?.[0]?.latest.archived, shown?.[0]?.latest.from?.handle],
      ['en', 'We ask for a call at 14:00Z', true, 'chief'],
    );
    assert.deepEqual(await engine.loadHistory(async (after) => line.historyPage(after)), [], 'nothing left to load');
  });

  it('does not fill a translation from an archive entry that renders another message', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    const { topUpKeyPackages } = await import('../src/e2ee/device.js');
    await topUpKeyPackages(ctx);
    const engine = await LineEngine.open(ctx, line.summary());
    await line.borisSays('Запрос', { lang: 'ru' });
    const original = line.items[line.items.length - 1] as (typeof line.items)[number];
    const body = await line.borisSays('Request', { push: false, lang: 'en' });
    const item = line.push(
      'in',
      'chief',
      'translation',
      json({ of: { side: 'acceptor', seq: original.seq }, lang: 'en', body: b64(body) }),
    );
    line.history.push({
      pos: item.pos,
      sentAt: item.sentAt,
      sender: { station: 'moscow', handle: 'chief', deviceId: line.boris.deviceId },
      text: b64(json({ text: 'Something else', lang: 'en' })),
      error: null,
      translation: { of: { side: 'acceptor', seq: original.seq + 40 }, lang: 'en' },
    });
    await line.addWebDevice();
    await engine.ingest(line.after(0));
    const filled = await engine.loadHistory(async (after) => line.historyPage(after));
    assert.deepEqual(
      filled.map((r) => r.pos),
      [original.pos],
      'only the original is filled',
    );
    const t = bodyAt(await engine.records(), item.pos);
    assert.ok(t?.t === 'translation' && !t.secret.ok && t.secret.code === 'BEFORE_JOIN');
  });
});

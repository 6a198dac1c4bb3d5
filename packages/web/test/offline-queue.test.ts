import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryRawStore, Vault } from '../src/e2ee/vault.js';
import { newClientId, OfflineQueue } from '../src/offline-queue.js';

const queueOn = async (raw: ReturnType<typeof memoryRawStore>, scope = 'scope', changed?: () => void) => {
  const q = new OfflineQueue(new Vault(raw, scope), `${scope}:outbox`, changed);
  await q.ready;
  return q;
};

describe('offline queue', () => {
  it('persists messages with their clientId across a reload, oldest first, per line', async () => {
    const raw = memoryRawStore();
    const q = await queueOn(raw);
    const a = await q.add('line-a', 'first', { now: 1 });
    const b = await q.add('line-b', 'second', { now: 2, lang: 'ru' });
    const c = await q.add('line-a', 'third', { now: 3 });
    const reloaded = await queueOn(raw);
    assert.deepEqual(
      reloaded.list().map((p) => p.clientId),
      [a.clientId, b.clientId, c.clientId],
    );
    assert.deepEqual(
      reloaded.list('line-a').map((p) => p.text),
      ['first', 'third'],
    );
    assert.equal(reloaded.list('line-b')[0]?.lang, 'ru');
  });

  it('keeps the text sealed: nothing in storage shows it', async () => {
    const raw = memoryRawStore();
    const q = await queueOn(raw);
    await q.add('line-a', 'TOP-SECRET-WORDS-4411');
    assert.equal(raw.entries.size, 1);
    for (const v of raw.entries.values()) {
      assert.equal(Buffer.from(v.ct).includes('TOP-SECRET-WORDS-4411'), false);
      assert.equal(Buffer.from(v.ct).includes(Buffer.from('TOP-SECRET-WORDS-4411').toString('base64url')), false);
    }
  });

  it('forgets a message once the station has it; an unknown id changes nothing', async () => {
    const raw = memoryRawStore();
    const q = await queueOn(raw);
    const a = await q.add('l', 'x');
    let events = 0;
    q.subscribe(() => events++);
    await q.remove('not-there-123');
    assert.equal(events, 0);
    await q.remove(a.clientId);
    assert.equal(q.list().length, 0);
    assert.equal(raw.entries.size, 0, 'an empty queue leaves nothing stored');
    assert.equal(events, 1);
  });

  it('keeps a refused message, with the reason, until it is retried with the same clientId', async () => {
    const q = await queueOn(memoryRawStore());
    const a = await q.add('l', 'too big');
    await q.markFailed(a.clientId, { code: 'VALIDATION_FAILED', message: 'payload too long' });
    assert.equal(q.list()[0]?.status, 'failed');
    assert.equal(q.list()[0]?.error?.code, 'VALIDATION_FAILED');
    await q.retry(a.clientId);
    assert.deepEqual(q.list()[0], { clientId: a.clientId, line: 'l', text: 'too big', createdAt: a.createdAt, status: 'queued' });
  });

  it('keeps members of one browser apart', async () => {
    const raw = memoryRawStore();
    await (await queueOn(raw, 'parley:v1:fp:chief')).add('l', 'from chief');
    assert.equal((await queueOn(raw, 'parley:v1:fp:deputy')).list().length, 0);
  });

  it('treats damaged storage as empty rather than failing', async () => {
    const raw = memoryRawStore();
    const q = await queueOn(raw);
    await q.add('l', 'x');
    for (const v of raw.entries.values()) {
      const b = new Uint8Array(v.ct);
      b[0] = (b[0] ?? 0) ^ 1;
    }
    assert.deepEqual((await queueOn(raw)).list(), []);
  });

  it('a failed write leaves the queue as it was and tells the caller', async () => {
    const raw = memoryRawStore();
    const q = await queueOn(raw);
    await q.add('l', 'kept');
    raw.write = async () => {
      throw new Error('QuotaExceededError');
    };
    await assert.rejects(q.add('l', 'refused'));
    assert.deepEqual(
      q.list().map((p) => p.text),
      ['kept'],
    );
  });

  it('tabs share one queue: a change is announced, and reload picks it up; concurrent adds are all kept', async () => {
    const raw = memoryRawStore();
    let announced = 0;
    const tab1 = await queueOn(raw, 'scope', () => announced++);
    const tab2 = await queueOn(raw);
    assert.equal(tab2.list().length, 0);
    await Promise.all([tab1.add('l', 'from tab 1'), tab2.add('l', 'from tab 2'), tab1.add('l', 'again from tab 1')]);
    assert.equal(announced, 2);
    await tab2.reload();
    assert.deepEqual(
      tab2
        .list()
        .map((p) => p.text)
        .sort(),
      ['again from tab 1', 'from tab 1', 'from tab 2'],
    );
  });

  it('client ids match the station schema (8–64 base64url characters) and do not repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
  });
});

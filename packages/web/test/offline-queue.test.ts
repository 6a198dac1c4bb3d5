import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newClientId, OfflineQueue } from '../src/offline-queue.js';
import { memoryStore } from '../src/storage.js';

describe('offline queue', () => {
  it('persists messages with their clientId across a reload, oldest first, per line', () => {
    const store = memoryStore();
    const q = new OfflineQueue(store, 'scope');
    const a = q.add('line-a', 'first', 1);
    const b = q.add('line-b', 'second', 2);
    const c = q.add('line-a', 'third', 3);
    const reloaded = new OfflineQueue(store, 'scope');
    assert.deepEqual(
      reloaded.list().map((p) => p.clientId),
      [a.clientId, b.clientId, c.clientId],
    );
    assert.deepEqual(
      reloaded.list('line-a').map((p) => p.text),
      ['first', 'third'],
    );
  });

  it('forgets a message once the station has it; an unknown id changes nothing', () => {
    const store = memoryStore();
    const q = new OfflineQueue(store, 'scope');
    const a = q.add('l', 'x');
    let events = 0;
    q.subscribe(() => events++);
    q.remove('not-there-123');
    assert.equal(events, 0);
    q.remove(a.clientId);
    assert.equal(q.list().length, 0);
    assert.equal(store.getItem('scope:outbox'), null);
    assert.equal(events, 1);
  });

  it('keeps a refused message, with the reason, until it is retried with the same clientId', () => {
    const q = new OfflineQueue(memoryStore(), 'scope');
    const a = q.add('l', 'too big');
    q.markFailed(a.clientId, { code: 'VALIDATION_FAILED', message: 'payload too long' });
    assert.equal(q.list()[0]?.status, 'failed');
    assert.equal(q.list()[0]?.error?.code, 'VALIDATION_FAILED');
    q.retry(a.clientId);
    assert.deepEqual(q.list()[0], { clientId: a.clientId, line: 'l', text: 'too big', createdAt: a.createdAt, status: 'queued' });
  });

  it('keeps members of one browser apart', () => {
    const store = memoryStore();
    new OfflineQueue(store, 'parley:v1:fp:chief').add('l', 'from chief');
    assert.equal(new OfflineQueue(store, 'parley:v1:fp:deputy').list().length, 0);
  });

  it('treats corrupt storage as empty rather than failing', () => {
    const store = memoryStore();
    store.setItem('scope:outbox', '{"not":"a list"}');
    assert.deepEqual(new OfflineQueue(store, 'scope').list(), []);
    store.setItem('scope:outbox', 'not json');
    assert.deepEqual(new OfflineQueue(store, 'scope').list(), []);
  });

  it('a failed write leaves the queue as it was and tells the caller', () => {
    const store = memoryStore();
    const q = new OfflineQueue(store, 'scope');
    q.add('l', 'kept');
    store.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    assert.throws(() => q.add('l', 'refused'));
    assert.deepEqual(
      q.list().map((p) => p.text),
      ['kept'],
    );
  });

  it('reload picks up what another tab wrote', () => {
    const store = memoryStore();
    const tab1 = new OfflineQueue(store, 'scope');
    const tab2 = new OfflineQueue(store, 'scope');
    assert.equal(tab2.list().length, 0);
    tab1.add('l', 'from tab 1');
    tab2.reload();
    assert.equal(tab2.list().length, 1);
  });

  it('client ids match the station schema (8–64 base64url characters) and do not repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
  });
});

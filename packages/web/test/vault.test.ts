import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeValue, encodeValue, memoryRawStore, Vault, withLock } from '../src/e2ee/vault.js';

describe('vault', () => {
  it('round-trips JSON values with byte arrays', async () => {
    const v = new Vault(memoryRawStore(), 'scope');
    const value = { a: 1, bytes: new Uint8Array([0, 1, 255]), nested: [{ b: new Uint8Array() }], text: 'Запрос' };
    await v.write([['k', value]]);
    assert.deepEqual(await v.get('k'), value);
    assert.deepEqual(decodeValue(encodeValue(value)), value);
    assert.equal(await v.get('missing'), undefined);
  });

  it('seals with a key script cannot export, one per scope; destroying a scope forgets its key and values', async () => {
    const raw = memoryRawStore();
    const a = new Vault(raw, 'a');
    const b = new Vault(raw, 'b');
    await a.write([
      ['x/1', 'one'],
      ['x/2', 'two'],
      ['y', 'why'],
    ]);
    await b.write([['x/1', 'other']]);
    const key = await raw.wrappingKey('a', async () => assert.fail('a key exists'));
    assert.equal(key.extractable, false);
    await assert.rejects(globalThis.crypto.subtle.exportKey('raw', key));
    assert.deepEqual(
      (await a.list('x/')).map((e) => [e.name, e.value]),
      [
        ['x/1', 'one'],
        ['x/2', 'two'],
      ],
    );
    // Each value is bound to its name: swapping two stored values is detected.
    const one = raw.entries.get('a/x/1');
    const two = raw.entries.get('a/x/2');
    raw.entries.set('a/x/1', two as NonNullable<typeof two>);
    await assert.rejects(a.get('x/1'), /cannot be unsealed/);
    raw.entries.set('a/x/1', one as NonNullable<typeof one>);
    await a.destroy();
    assert.deepEqual(await raw.scopes(''), ['b']);
    assert.deepEqual([...raw.entries.keys()], ['b/x/1']);
    assert.equal(await b.get('x/1'), 'other');
    // A late writer cannot bring a destroyed scope back.
    await assert.rejects(a.write([['x/3', 'late']]), /deleted/);
    assert.deepEqual(await raw.scopes(''), ['b']);
  });

  it('writes all or nothing: a failed write keeps the old values', async () => {
    const raw = memoryRawStore();
    const v = new Vault(raw, 's');
    await v.write([['k', 1]]);
    const write = raw.write;
    raw.write = async () => {
      throw new Error('disk full');
    };
    await assert.rejects(
      v.write([
        ['k', 2],
        ['j', 3],
      ]),
    );
    raw.write = write;
    assert.equal(await v.get('k'), 1);
    assert.equal(await v.get('j'), undefined);
  });

  it('runs holders of one lock one after another, even when one fails', async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number, fail = false) =>
      withLock('l', async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}-`);
        if (fail) throw new Error(name);
      });
    await Promise.allSettled([slow('a', 20, true), slow('b', 1), slow('c', 5)]);
    assert.deepEqual(order, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });
});

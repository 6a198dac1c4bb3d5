import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Drafts } from '../src/drafts.js';
import { memoryRawStore, Vault } from '../src/e2ee/vault.js';
import { memoryStore } from '../src/storage.js';

it('keeps drafts sealed per line, the last write winning, and moves old plain-text drafts in', async () => {
  const raw = memoryRawStore();
  const legacy = memoryStore();
  legacy.setItem('s:draft:old-line', 'typed before the upgrade');
  const drafts = new Drafts(new Vault(raw, 's'), { store: legacy, key: (line) => `s:draft:${line}` });
  void drafts.set('l', 'a');
  void drafts.set('l', 'ab');
  await drafts.set('l', 'abc DRAFT-WORD-1234');
  assert.equal(await new Drafts(new Vault(raw, 's')).get('l'), 'abc DRAFT-WORD-1234');
  for (const v of raw.entries.values()) assert.equal(Buffer.from(v.ct).includes('DRAFT-WORD-1234'), false);
  assert.equal(await drafts.get('old-line'), 'typed before the upgrade');
  assert.equal(legacy.getItem('s:draft:old-line'), null, 'the plain-text copy is gone');
  await drafts.set('l', '');
  assert.equal(await drafts.get('l'), '');
});

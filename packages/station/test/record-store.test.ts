import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type RecordEntry, RecordLog } from '@parley/record';
import { sql } from 'kysely';
import { openSqlite } from '../src/db/open.js';
import { loadRecord, storeFolded } from '../src/record/record-store.js';

// A busy line's record grows by about an entry a second, and a restarting station loads it a
// page at a time: what comes back must be the log that was stored, across page boundaries.

const b64 = (n: number) => randomBytes(n).toString('base64url');

test('a record of several pages loads back whole, and a changed row is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-record-store-'));
  const db = await openSqlite(join(dir, 'station.db'));
  try {
    // The store does not read the line's row; this test has none.
    await sql`PRAGMA foreign_keys = OFF`.execute(db);
    const lineId = 'line-record-store-test';
    const at = '2026-11-26T06:00:00.000Z';
    const entries: RecordEntry[] = [
      { index: 0, type: 'line_linked', at, by: { side: 'inviter' }, lineId, lineName: 'paged', inviterKey: b64(32), acceptorKey: b64(32) },
    ];
    for (let i = 1; i <= 1234; i++) {
      entries.push({
        index: i,
        type: 'items',
        at,
        by: { side: 'inviter' },
        dir: 'inviter_to_acceptor',
        hashes: [{ seq: i, sha256: b64(32) }],
      });
    }
    const expected = new RecordLog(lineId);
    for (const e of entries) expected.append(e);
    // Folded in two steps, as a station folds the hub's stream.
    assert.equal(await storeFolded(db, lineId, 0, 600, entries.slice(0, 600), null), true);
    assert.equal(await storeFolded(db, lineId, 600, 1235, entries.slice(600), null), true);

    const loaded = await loadRecord(db, lineId);
    assert.equal(loaded.log.size, 1235);
    assert.equal(loaded.log.rootHash(), expected.rootHash());
    assert.equal(loaded.log.rootHash(501), expected.rootHash(501));
    assert.equal(loaded.foldedSeq, 1235);
    assert.deepEqual(loaded.changedLeaves, []);

    // A row whose stored leaf hash no longer matches its entry is reported by index.
    await db
      .updateTable('record_entries')
      .set({ leaf_hash: randomBytes(32) })
      .where('line_id', '=', lineId)
      .where('idx', '=', 777)
      .execute();
    assert.deepEqual((await loadRecord(db, lineId)).changedLeaves, [777]);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually, tempDir } from '@parley/testkit';
import { sql } from 'kysely';
import { openSqlite } from '../src/db/open.js';

/** The WAL header's checkpoint sequence number: it moves each time SQLite starts the WAL over after a complete checkpoint. */
function walRestarts(file: string): number {
  const fd = openSync(`${file}-wal`, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

describe('background WAL checkpoints', () => {
  it('a running station’s database has its WAL copied back and started over without any commit doing it', async () => {
    const file = join(tempDir(), 'station.db');
    const db = await openSqlite(file, { backgroundCheckpoints: true });
    try {
      // The station's connection never checkpoints on commit: only the worker can start the WAL over.
      const auto = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db);
      assert.equal(auto.rows[0]?.wal_autocheckpoint, 0);
      await sql`create table filler (x blob)`.execute(db);
      const before = walRestarts(file);
      const blob = Buffer.alloc(4000, 7);
      for (let i = 0; i < 1500; i++) await sql`insert into filler values (${blob})`.execute(db);
      await eventually('the WAL to be started over after a background checkpoint', async () => {
        await sql`insert into filler values (${blob})`.execute(db); // a writer restarts a fully checkpointed WAL
        return walRestarts(file) > before ? true : undefined;
      });
      const rows = await sql<{ n: number }>`select count(*) as n from filler`.execute(db);
      assert.ok((rows.rows[0]?.n ?? 0) > 1500, 'nothing written was lost');
    } finally {
      await db.destroy();
    }
  });
});

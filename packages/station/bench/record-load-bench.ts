/**
 * How long a restarting station takes to load a line's joint record, and the memory it holds:
 * `loadRecord` rebuilds the log and its Merkle tree from every stored entry (checking each
 * against its stored leaf hash). A busy line adds about one receipts entry a second.
 *
 *   node packages/station/dist/bench/record-load-bench.js [--entries 20000] [--hashes 20]
 *
 * Entries are receipts (`items`) of `--hashes` item hashes each, stored as the fold stores them,
 * in a throwaway SQLite database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordEntry } from '@parley/record';
import { benchArg } from '@parley/testkit';
import { sql } from 'kysely';
import { openSqlite } from '../src/db/open.js';
import { loadRecord, storeFolded } from '../src/record/record-store.js';

const ENTRIES = Number(benchArg('entries', '20000'));
const HASHES = Number(benchArg('hashes', '20'));

const b64 = (n: number) => randomBytes(n).toString('base64url');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-record-load-'));
  const db = await openSqlite(join(dir, 'station.db'));
  try {
    // The store never reads the line's row; this database has none.
    await sql`PRAGMA foreign_keys = OFF`.execute(db);
    const lineId = 'line-record-load-bench';
    const at = '2026-11-26T06:00:00.000Z';
    const by = { side: 'inviter' as const };
    let batch: RecordEntry[] = [
      { index: 0, type: 'line_linked', at, by, lineId, lineName: 'bench', inviterKey: b64(32), acceptorKey: b64(32) },
    ];
    let stored = 0;
    for (let i = 1; i <= ENTRIES; i++) {
      const hashes = Array.from({ length: HASHES }, (_, k) => ({ seq: (i - 1) * HASHES + k + 1, sha256: b64(32) }));
      batch.push({ index: i, type: 'items', at, by, dir: 'inviter_to_acceptor', hashes });
      if (batch.length === 5000 || i === ENTRIES) {
        await storeFolded(db, lineId, stored, stored + batch.length, batch, null);
        stored += batch.length;
        batch = [];
      }
    }
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const record = await loadRecord(db, lineId);
    const ms = performance.now() - t0;
    const heapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    const out = {
      bench: 'record-load',
      entries: record.log.size,
      hashesPerEntry: HASHES,
      loadMs: Math.round(ms),
      usPerEntry: Number(((ms * 1000) / record.log.size).toFixed(1)),
      heapMiB: Math.round(heapMiB),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    };
    process.stdout.write(
      `  joint record of ${out.entries} entries (${HASHES} item hashes each): loaded in ${out.loadMs} ms (${out.usPerEntry} µs per entry), heap +${out.heapMiB} MiB\n`,
    );
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

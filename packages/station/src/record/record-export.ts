import { buildExport, type RecordExport } from '@parley/record';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import { lineByName } from '../lines/line-store.js';
import { cosignedHeads, loadRecord } from './record-store.js';
import { ParleyError } from '@parley/protocol';

/**
 * The line's joint record as an export file (`parley record export`): every entry this station
 * holds, the heads both stations signed, and the proofs an offline verifier needs. Read from
 * the database, so it runs beside a live station.
 */
export async function exportRecord(db: Db, data: DataDir, lineName: string, exportedAt = new Date()): Promise<RecordExport> {
  const line = await lineByName(db, lineName);
  const stored = await loadRecord(db, line.id);
  if (stored.log.size === 0) {
    throw new ParleyError(
      'NOT_FOUND',
      `line ${line.name} has no joint record yet`,
      'the record starts once the inviting station has linked the line',
    );
  }
  const own = Buffer.from(data.key.publicKey).toString('base64url');
  const peer = Buffer.from(line.peer_public_key).toString('base64url');
  const keys = line.role === 'inviter' ? { inviterKey: own, acceptorKey: peer } : { inviterKey: peer, acceptorKey: own };
  const heads = thin((await cosignedHeads(db, line.id)).filter((h) => h.head.size <= stored.log.size));
  return buildExport(stored.log, heads, { ...keys, exportedAt: exportedAt.toISOString() });
}

/** Heads in an export: the stations cosign every half second under traffic, so keep the last and at most 63 spread over the rest. */
export function thin<T>(heads: readonly T[], max = 64): T[] {
  if (heads.length <= max) return [...heads];
  const step = (heads.length - 1) / (max - 1);
  const picked = new Set<number>();
  for (let i = 0; i < max; i++) picked.add(Math.round(i * step));
  picked.add(heads.length - 1);
  return [...picked].sort((a, b) => a - b).map((i) => heads[i] as T);
}

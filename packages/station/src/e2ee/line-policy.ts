import { type LinePolicy, linePolicyFrom } from '@parley/e2ee';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import { type LineRow, peerSeatsOf, seatsOf } from '../lines/line-store.js';

/**
 * Who may be in a line's MLS group, as this station sees it: both stations' pinned keys, the
 * seats of both sides, and both recorders. Clients build the same policy from the line summary.
 */
export async function linePolicy(db: Db, data: DataDir, line: LineRow): Promise<LinePolicy> {
  return linePolicyFrom({
    ours: { station: data.config.name, publicKey: data.key.publicKey, seats: await seatsOf(db, line.id) },
    peer: { station: line.peer_name, publicKey: new Uint8Array(line.peer_public_key), seats: await peerSeatsOf(db, line.id) },
  });
}

/** The group id of a line's MLS group: the line id's bytes. */
export function groupIdOf(lineId: string): Uint8Array {
  return new TextEncoder().encode(lineId);
}

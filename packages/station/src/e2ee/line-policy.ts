import type { LinePolicy } from '@parley/e2ee';
import { RECORDER_HANDLE } from '@parley/protocol';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import { type LineRow, peerSeatsOf, seatsOf } from '../lines/line-store.js';

/**
 * Who may be in a line's MLS group, as this station sees it: both stations' pinned keys, the
 * seats of both sides, and both recorders. Clients build the same policy from the line summary.
 */
export async function linePolicy(db: Db, data: DataDir, line: LineRow): Promise<LinePolicy> {
  const ours = data.config.name;
  const seats = [
    ...(await seatsOf(db, line.id)).map((s) => ({ station: ours, handle: s.handle })),
    ...(await peerSeatsOf(db, line.id)).map((s) => ({ station: line.peer_name, handle: s.handle })),
    { station: ours, handle: RECORDER_HANDLE },
    { station: line.peer_name, handle: RECORDER_HANDLE },
  ];
  return {
    stationKeys: new Map([
      [ours, data.key.publicKey],
      [line.peer_name, new Uint8Array(line.peer_public_key)],
    ]),
    seats,
  };
}

/** The group id of a line's MLS group: the line id's bytes. */
export function groupIdOf(lineId: string): Uint8Array {
  return new TextEncoder().encode(lineId);
}

import { type LinePolicy, linePolicyFrom } from '@parley/e2ee';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import type { LineRow } from '../lines/line-store.js';
import { noteSeats } from './seat-history.js';

export interface LinePolicies {
  /**
   * Seats held now: whom the hub adds to the group, and whose own commits it orders. Both
   * stations' pinned keys, the seats of both sides, and both recorders.
   */
  readonly current: LinePolicy;
  /**
   * Seats held now or at any time before (the seat history): for leaves already in the group,
   * that is for the timeline's commits and messages and the tree a Welcome brings. A member
   * whose seat was just removed still signs the commits and messages sent before, and is in the
   * group until the hub's commit removing it: refusing those would stall this station's group.
   */
  readonly known: LinePolicy;
}

/**
 * Who may be in a line's MLS group, as this station sees it. Clients build the same policies
 * from the line summary and the seats they remember (`linePolicyFrom` in @parley/e2ee).
 */
export async function linePolicies(db: Db, data: DataDir, line: LineRow): Promise<LinePolicies> {
  const ours = data.config.name;
  const seats = await noteSeats(db, line.id);
  const sides = {
    ours: { station: ours, publicKey: data.key.publicKey, seats: seats.own },
    peer: { station: line.peer_name, publicKey: new Uint8Array(line.peer_public_key), seats: seats.peer },
  };
  const formerSeats = seats.held.map((s) => ({ station: s.side === 'own' ? ours : line.peer_name, handle: s.handle }));
  return { current: linePolicyFrom(sides), known: linePolicyFrom({ ...sides, formerSeats }) };
}

/** The group id of a line's MLS group: the line id's bytes. */
export function groupIdOf(lineId: string): Uint8Array {
  return new TextEncoder().encode(lineId);
}

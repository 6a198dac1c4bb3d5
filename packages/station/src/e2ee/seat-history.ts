import type { Seat } from '@parley/protocol';
import type { Db } from '../db/open.js';
import { peerSeatsOf, seatsOf } from '../lines/line-store.js';

// Which seats a line has had. Clients keep every seat they ever saw on a line (`knownSeats`), so
// that commits and messages of a member whose seat was removed since still verify until the
// hub's commit removing that member's devices; the station keeps the same memory here, across
// restarts and for every process of the station. A seat is noted whenever the station builds the
// line's policy (so every seat it ever admitted a device under), and every few seconds.

export type SeatSide = 'own' | 'peer';

export interface HeldSeat {
  readonly side: SeatSide;
  readonly handle: string;
}

export interface LineSeatsNow {
  /** Seats held now on this station's side and on the peer's. */
  readonly own: Seat[];
  readonly peer: Seat[];
  /** Every seat held on the line since the station first saw it, the current ones included. */
  readonly held: HeldSeat[];
}

const key = (s: HeldSeat) => `${s.side}\n${s.handle}`;

/** Read the line's seats now, note the new ones in its history, and return both. */
export async function noteSeats(db: Db, lineId: string, now = Date.now()): Promise<LineSeatsNow> {
  const [own, peer, rows] = await Promise.all([
    seatsOf(db, lineId),
    peerSeatsOf(db, lineId),
    db.selectFrom('seat_history').select(['side', 'handle']).where('line_id', '=', lineId).execute(),
  ]);
  const held = rows.map((r) => ({ side: r.side as SeatSide, handle: r.handle }));
  const have = new Set(held.map(key));
  const fresh = [
    ...own.map((s) => ({ side: 'own' as const, handle: s.handle })),
    ...peer.map((s) => ({ side: 'peer' as const, handle: s.handle })),
  ].filter((s) => !have.has(key(s)));
  if (fresh.length > 0) {
    await db
      .insertInto('seat_history')
      .values(fresh.map((s) => ({ line_id: lineId, side: s.side, handle: s.handle, first_seen_at: now })))
      .onConflict((oc) => oc.columns(['line_id', 'side', 'handle']).doNothing())
      .execute();
  }
  return { own, peer, held: [...held, ...fresh] };
}

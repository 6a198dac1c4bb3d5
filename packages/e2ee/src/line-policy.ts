// Who may be in a line's group, built from what a member or a station knows of the line. The
// station (from its database), the web app and the CLI (from the line's summary) and the tests
// all build the policy here, so the rule exists once: both stations' pinned keys; every seat of
// both sides; each station's recorder, which is a member of every line; and the seats held
// before, which keep the leaves of members since unseated verifiable (see `formerSeats`).
import type { LinePolicy, Seat } from './policy.js';

/** The reserved handle of each station's recorder device, a member of every line's group. */
export const RECORDER_HANDLE = 'recorder';

/** One station of a line, as the caller knows it. */
export interface LineSide {
  readonly station: string;
  /** The station's Ed25519 identity key (32 bytes), pinned at the line's ceremony. */
  readonly publicKey: Uint8Array;
  /** Who holds a seat on this side now (the station's recorder is implied). */
  readonly seats: readonly { readonly handle: string }[];
}

export interface LineSeats {
  /** The caller's own station. */
  readonly ours: LineSide;
  readonly peer: LineSide;
  /**
   * Seats held on the line at some point, on either side (a client's `knownSeats`, the station's
   * seat history). Their members' devices may still be in the group, or in commits and messages
   * not yet processed: a member removed from the line still has to be *verifiable* until the hub's
   * commit removing the device is processed. Leave it out to admit current seats only, as the hub
   * does when it decides whom to add.
   */
  readonly formerSeats?: readonly Seat[];
}

const seatKey = (s: Seat) => `${s.station}\n${s.handle}`;

/** The seats held on the line now, on both sides, both recorders included. */
export function currentSeats(line: Pick<LineSeats, 'ours' | 'peer'>): Seat[] {
  const seats: Seat[] = [];
  for (const side of [line.ours, line.peer]) {
    for (const s of side.seats) seats.push({ station: side.station, handle: s.handle });
    seats.push({ station: side.station, handle: RECORDER_HANDLE });
  }
  return seats;
}

/** `known` and the seats held now, each once, in first-seen order: what a member keeps remembering. */
export function rememberSeats(known: readonly Seat[], line: Pick<LineSeats, 'ours' | 'peer'>): Seat[] {
  const all = new Map<string, Seat>();
  for (const s of [...known, ...currentSeats(line)]) {
    if (!all.has(seatKey(s))) all.set(seatKey(s), { station: s.station, handle: s.handle });
  }
  return [...all.values()];
}

/** The MLS policy of a line (see the top of this file). */
export function linePolicyFrom(line: LineSeats): LinePolicy {
  return {
    stationKeys: new Map([
      [line.ours.station, line.ours.publicKey],
      [line.peer.station, line.peer.publicKey],
    ]),
    seats: rememberSeats(line.formerSeats ?? [], line),
  };
}

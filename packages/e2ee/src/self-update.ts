// When a device refreshes its own keys in a line's group (post-compromise security: keys stolen
// from a device stop opening what is sent after its next update), and how it recovers when the
// hub ordered another commit first. The CLI and the web app follow this one rule, each with its
// own storage and its own calls to the station.

export interface SelfUpdateSchedule {
  /** Refresh after this many messages sent since the last refresh… */
  readonly every: number;
  /** …or once the last refresh (or the join) is older than this. */
  readonly maxAgeMs: number;
}

export const SELF_UPDATE_SCHEDULE: SelfUpdateSchedule = { every: 50, maxAgeMs: 24 * 3600_000 };

/** What a device keeps per line to follow the schedule. */
export interface SelfUpdateClock {
  readonly sendsSinceUpdate: number;
  /** When this device last refreshed its keys, or joined with fresh ones; null: not known. */
  readonly lastUpdateAt: number | null;
  /** An update was offered to the hub and its outcome is not known yet: never two at once. */
  readonly pending: boolean;
}

export function isSelfUpdateDue(clock: SelfUpdateClock, now: number, schedule: SelfUpdateSchedule = SELF_UPDATE_SCHEDULE): boolean {
  if (clock.pending) return false;
  return clock.sendsSinceUpdate >= schedule.every || clock.lastUpdateAt === null || now - clock.lastUpdateAt > schedule.maxAgeMs;
}

/** The hub ordered the update (at `epoch`), or refused it as stale: it ordered another commit first. */
export type SelfUpdateOutcome = { readonly ok: true; readonly epoch: number } | { readonly ok: false; readonly reason: 'WRONG_EPOCH' };

export interface SelfUpdateSteps {
  /** Commit an update of this device's own leaf against its current state and offer it to the hub. */
  offer(): Promise<SelfUpdateOutcome>;
  /** This device's epoch in the group now. */
  epoch(): number | null;
  /** Process what the line's timeline holds beyond what this device has processed. */
  catchUp(): Promise<void>;
}

export interface SelfUpdateRetry {
  /** How many times to catch up while waiting for the commit that won (default 20)… */
  readonly rounds?: number;
  /** …pausing this long between two (default 250 ms): it may not be on our station's timeline yet. */
  readonly pauseMs?: number;
}

/**
 * Offer a self-update; if it was stale (the hub had ordered another commit), wait until that
 * commit reaches this device, then offer a fresh one, once. The second outcome is returned as it
 * is: a device that loses twice tries again at its next send.
 */
export async function offerSelfUpdateWithRetry(steps: SelfUpdateSteps, retry: SelfUpdateRetry = {}): Promise<SelfUpdateOutcome> {
  const first = await steps.offer();
  if (first.ok) return first;
  const before = steps.epoch();
  for (let i = 0; i < (retry.rounds ?? 20) && steps.epoch() === before; i++) {
    await steps.catchUp();
    if (steps.epoch() === before) await new Promise((r) => setTimeout(r, retry.pauseMs ?? 250));
  }
  return steps.offer();
}

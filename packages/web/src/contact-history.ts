import type { Call } from '@parley/calls';
import type { Item } from '@parley/protocol';

// "For the first time since …": how often the two sides are in contact on a line and how long the
// silences between them last. A contact is a message (from the items of its timeline, at our
// station's storage time), a call request, or a call that connected (at the time the hub, the
// line's one sequencer, ordered it), either way.

export const WEEK_MS = 7 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

export type ContactKind = 'message' | 'call-request' | 'call';

/** One contact: which way (out: our side's doing) and when. Without a kind, a message. */
export interface Contact {
  dir: Item['dir'];
  storedAt: number;
  kind?: ContactKind;
}

export interface WeekCount {
  /** Monday 00:00 UTC that starts the week. */
  weekStart: number;
  /** Contacts by our side / by the other side. */
  sent: number;
  received: number;
  messages: number;
  callRequests: number;
  calls: number;
}

export interface Gap {
  from: number;
  to: number;
  ms: number;
}

export interface ContactHistory {
  total: number;
  sent: number;
  received: number;
  messages: number;
  callRequests: number;
  calls: number;
  firstAt: number | null;
  lastAt: number | null;
  /** Up to `maxWeeks` weeks ending with the current one, oldest first, including silent weeks. */
  weeks: WeekCount[];
  /** The longest silence between two consecutive contacts. */
  longestGap: Gap | null;
  /** The silence that the latest contact broke: "first contact since gap.from". */
  latestGap: Gap | null;
}

/** Monday 00:00 UTC of the week holding t. */
export function weekStartOf(t: number): number {
  const day = Math.floor(t / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday = 0.
  const weekday = (day + 3) % 7;
  return (day - weekday) * DAY_MS;
}

/**
 * A line's calls as contacts: each request (by the side that asked), and each call that
 * connected. `ourSide` is this station's side of the line.
 */
export function callContacts(calls: readonly Call[], ourSide: 'inviter' | 'acceptor'): Contact[] {
  const out: Contact[] = [];
  for (const c of calls) {
    const dir = c.requester.side === ourSide ? 'out' : 'in';
    out.push({ dir, storedAt: c.reached.requested.at, kind: 'call-request' });
    const connected = c.reached.connected;
    if (connected) out.push({ dir, storedAt: connected.at, kind: 'call' });
  }
  return out;
}

export function contactHistory(items: readonly Contact[], now: number, maxWeeks = 12): ContactHistory {
  const times = items.map((i) => i.storedAt).sort((a, b) => a - b);
  const sent = items.filter((i) => i.dir === 'out').length;
  const by = { message: 0, 'call-request': 0, call: 0 } satisfies Record<ContactKind, number>;
  for (const i of items) by[i.kind ?? 'message']++;
  const thisWeek = weekStartOf(now);
  const firstWeek = Math.max(thisWeek - (maxWeeks - 1) * WEEK_MS, times.length > 0 ? weekStartOf(times[0] as number) : thisWeek);
  const weeks: WeekCount[] = [];
  for (let w = firstWeek; w <= thisWeek; w += WEEK_MS)
    weeks.push({ weekStart: w, sent: 0, received: 0, messages: 0, callRequests: 0, calls: 0 });
  for (const i of items) {
    const w = weeks[Math.round((weekStartOf(i.storedAt) - firstWeek) / WEEK_MS)];
    if (!w || weekStartOf(i.storedAt) !== w.weekStart) continue;
    if (i.dir === 'out') w.sent++;
    else w.received++;
    const kind = i.kind ?? 'message';
    if (kind === 'message') w.messages++;
    else if (kind === 'call-request') w.callRequests++;
    else w.calls++;
  }
  let longestGap: Gap | null = null;
  for (let k = 1; k < times.length; k++) {
    const from = times[k - 1] as number;
    const to = times[k] as number;
    if (!longestGap || to - from > longestGap.ms) longestGap = { from, to, ms: to - from };
  }
  const n = times.length;
  const latestGap =
    n >= 2 ? { from: times[n - 2] as number, to: times[n - 1] as number, ms: (times[n - 1] as number) - (times[n - 2] as number) } : null;
  return {
    total: items.length,
    sent,
    received: items.length - sent,
    messages: by.message,
    callRequests: by['call-request'],
    calls: by.call,
    firstAt: times[0] ?? null,
    lastAt: times[n - 1] ?? null,
    weeks,
    longestGap,
    latestGap,
  };
}

/** "3 days", "5 h 20 min", "40 s": a duration for people. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return d === 1 ? '1 day' : `${d} days`;
}

import type { Item } from '@parley/protocol';

// "For the first time since …": how often the two sides talk on a line and how long the
// silences between them last, from the items of its timeline. Times are our station's storage
// times (storedAt), one clock for both directions.

export const WEEK_MS = 7 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

export interface WeekCount {
  /** Monday 00:00 UTC that starts the week. */
  weekStart: number;
  sent: number;
  received: number;
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
  firstAt: number | null;
  lastAt: number | null;
  /** Up to `maxWeeks` weeks ending with the current one, oldest first, including silent weeks. */
  weeks: WeekCount[];
  /** The longest silence between two consecutive messages. */
  longestGap: Gap | null;
  /** The silence that the latest message broke: "first contact since gap.from". */
  latestGap: Gap | null;
}

/** Monday 00:00 UTC of the week holding t. */
export function weekStartOf(t: number): number {
  const day = Math.floor(t / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday = 0.
  const weekday = (day + 3) % 7;
  return (day - weekday) * DAY_MS;
}

export function contactHistory(items: readonly Pick<Item, 'dir' | 'storedAt'>[], now: number, maxWeeks = 12): ContactHistory {
  const times = items.map((i) => i.storedAt).sort((a, b) => a - b);
  const sent = items.filter((i) => i.dir === 'out').length;
  const thisWeek = weekStartOf(now);
  const firstWeek = Math.max(thisWeek - (maxWeeks - 1) * WEEK_MS, times.length > 0 ? weekStartOf(times[0] as number) : thisWeek);
  const weeks: WeekCount[] = [];
  for (let w = firstWeek; w <= thisWeek; w += WEEK_MS) weeks.push({ weekStart: w, sent: 0, received: 0 });
  for (const i of items) {
    const w = weeks[Math.round((weekStartOf(i.storedAt) - firstWeek) / WEEK_MS)];
    if (!w || weekStartOf(i.storedAt) !== w.weekStart) continue;
    if (i.dir === 'out') w.sent++;
    else w.received++;
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

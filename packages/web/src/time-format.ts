import { formatDuration } from './contact-history.js';

/** "just now", "40 s ago", "3 days ago"; "never" for null. */
export function formatAgo(t: number | null, now: number): string {
  if (t === null) return 'never';
  const ms = Math.max(0, now - t);
  if (ms < 5000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

/** Both sides of a line live in different time zones; they coordinate in UTC ("Zulu"). */
export function formatZulu(t: number, withDate = false): string {
  const iso = new Date(t).toISOString();
  const time = iso.slice(11, 19);
  return withDate ? `${iso.slice(0, 10)} ${time}Z` : `${time}Z`;
}

export function formatDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

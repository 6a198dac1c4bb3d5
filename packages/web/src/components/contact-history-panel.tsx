import type { Item } from '@parley/protocol';
import { useMemo } from 'react';
import { contactHistory, formatDuration } from '../contact-history.js';
import { formatDate, formatZulu } from '../time-format.js';

export function ContactHistoryPanel({ items, now }: { items: readonly Pick<Item, 'dir' | 'storedAt'>[]; now: number }) {
  // Recomputed when items change, not every second: the weeks move slowly.
  const dayNow = Math.floor(now / 3600_000);
  // biome-ignore lint/correctness/useExhaustiveDependencies: hourly granularity on purpose
  const h = useMemo(() => contactHistory(items, now), [items, dayNow]);
  const max = Math.max(1, ...h.weeks.map((w) => w.sent + w.received));
  return (
    <section className="card panel" aria-labelledby="history-heading">
      <h2 id="history-heading">Contact history</h2>
      {h.total === 0 ? (
        <p className="muted">No contact on this line yet.</p>
      ) : (
        <>
          <dl className="facts facts-stacked">
            <div>
              <dt>Messages</dt>
              <dd>
                {h.total} ({h.sent} sent, {h.received} received)
              </dd>
            </div>
            {h.lastAt !== null && (
              <div>
                <dt>Last contact</dt>
                <dd>{formatZulu(h.lastAt, true)}</dd>
              </div>
            )}
            {h.latestGap && h.latestGap.ms >= 24 * 3600_000 && (
              <div>
                <dt>That was</dt>
                <dd data-testid="first-since">
                  the first contact since {formatDate(h.latestGap.from)} ({formatDuration(h.latestGap.ms)})
                </dd>
              </div>
            )}
            {h.longestGap && (
              <div>
                <dt>Longest silence</dt>
                <dd>
                  {formatDuration(h.longestGap.ms)}, from {formatZulu(h.longestGap.from, true)} to {formatZulu(h.longestGap.to, true)}
                </dd>
              </div>
            )}
          </dl>
          <table className="weeks">
            <caption>Messages per week (weeks start Monday, UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Week of</th>
                <th scope="col">Sent</th>
                <th scope="col">Received</th>
                <th scope="col">
                  <span className="visually-hidden">Chart</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {h.weeks.map((w) => (
                <tr key={w.weekStart}>
                  <th scope="row">{formatDate(w.weekStart)}</th>
                  <td>{w.sent}</td>
                  <td>{w.received}</td>
                  <td aria-hidden="true" className="bar-cell">
                    <span className="bar bar-sent" style={{ width: `${(w.sent / max) * 100}%` }} />
                    <span className="bar bar-received" style={{ width: `${(w.received / max) * 100}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

import type { Item } from '@parley/protocol';
import { useMemo } from 'react';
import type { Call } from '../calls.js';
import { callContacts, contactHistory, formatDuration } from '../contact-history.js';
import { formatDate, formatZulu } from '../time-format.js';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function ContactHistoryPanel({
  items,
  calls,
  side,
  now,
}: {
  items: readonly Pick<Item, 'dir' | 'storedAt'>[];
  /** The line's calls (null while loading): their requests and connected calls count as contacts too. */
  calls?: readonly Call[] | null | undefined;
  side?: 'inviter' | 'acceptor' | undefined;
  now: number;
}) {
  // Recomputed when items change, not every second: the weeks move slowly.
  const dayNow = Math.floor(now / 3600_000);
  const contacts = useMemo(() => (calls && side ? [...items, ...callContacts(calls, side)] : items), [items, calls, side]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: hourly granularity on purpose
  const h = useMemo(() => contactHistory(contacts, now), [contacts, dayNow]);
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
              <dt>Contacts</dt>
              <dd data-testid="contact-totals">
                {h.total}: {plural(h.messages, 'message', 'messages')}, {plural(h.callRequests, 'call request', 'call requests')},{' '}
                {plural(h.calls, 'call', 'calls')} ({h.sent} by our side, {h.received} by theirs)
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
            <caption>Contacts per week (weeks start Monday, UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Week of</th>
                <th scope="col">
                  <abbr title="Messages">Msgs</abbr>
                </th>
                <th scope="col">
                  <abbr title="Call requests">Req.</abbr>
                </th>
                <th scope="col">Calls</th>
                <th scope="col">
                  <span className="visually-hidden">Chart</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {h.weeks.map((w) => (
                <tr key={w.weekStart} data-week={new Date(w.weekStart).toISOString().slice(0, 10)}>
                  <th scope="row">{formatDate(w.weekStart)}</th>
                  <td>{w.messages}</td>
                  <td>{w.callRequests}</td>
                  <td>{w.calls}</td>
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

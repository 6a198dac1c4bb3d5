import type { LineSummary, Seat } from '@parley/protocol';
import { ROLE_LABEL } from './roles.js';

/** Groups of digits read aloud over a telephone: "12345 67890 …". */
function groupDigits(n: string): string[] {
  const compact = n.replace(/\s+/g, '');
  const groups: string[] = [];
  for (let i = 0; i < compact.length; i += 5) groups.push(compact.slice(i, i + 5));
  return groups;
}

function Seats({ seats, empty }: { seats: Seat[]; empty: string }) {
  if (seats.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="seats">
      {seats.map((s) => (
        <li key={s.handle}>
          <span className="seat-name">{s.name}</span>{' '}
          <span className="muted">
            {s.handle} · {ROLE_LABEL[s.role]}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function RosterPanel({ summary, ourName }: { summary: LineSummary; ourName: string }) {
  return (
    <>
      <section className="card panel" aria-labelledby="roster-heading">
        <h2 id="roster-heading">Roster</h2>
        <h3>Our seats ({ourName})</h3>
        <Seats seats={summary.seats} empty="No seats on our side." />
        <h3>Their seats ({summary.peer.name})</h3>
        <Seats seats={summary.peerSeats} empty="The peer station has not told us its seats." />
      </section>
      <section className="card panel" aria-labelledby="safety-heading">
        <h2 id="safety-heading">Safety number</h2>
        <p className="safety-number" data-testid="safety-number">
          {groupDigits(summary.safetyNumber).map((g, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the groups are fixed positions of one number
            <span key={i}>{g}</span>
          ))}
        </p>
        <p className="muted">
          Both stations show the same number. Compare it with the other side over a separate channel (a call, in person); if it differs, the
          line is not joined to the station you think.
        </p>
        <dl className="facts facts-stacked">
          <div>
            <dt>{summary.peer.name}'s fingerprint</dt>
            <dd>
              <code>{summary.peer.fingerprint}</code>
            </dd>
          </div>
          <div>
            <dt>Reached at</dt>
            <dd>
              {summary.peer.urls.map((u) => (
                <code key={u} className={u === summary.endpoint ? 'current-endpoint' : undefined}>
                  {u}
                  {u === summary.endpoint ? ' (in use)' : ''}
                </code>
              ))}
            </dd>
          </div>
        </dl>
      </section>
    </>
  );
}

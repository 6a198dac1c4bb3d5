import type { LineSummary } from '@parley/protocol';
import { type Call, callAlerts, isOpenCall, isUnanswered, testAlerts } from '../calls.js';
import { ErrorAlert } from '../components/alert.js';
import { CallAlertBanner } from '../components/calls-panel.js';
import { HealthLamp } from '../components/health-lamp.js';
import { useNow, usePending, useTitle } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { linePath } from '../routes.js';
import { useSession } from '../session.js';
import { formatAgo, formatZulu } from '../time-format.js';
import { meOn } from '../use-calls.js';
import { useLineCalls, useLines, useUnreadCounts } from '../use-lines.js';

export function DashboardPage() {
  useTitle('Lines');
  const { session, queue } = useSession();
  const { lines, error, fetchedAt, refresh } = useLines();
  const unread = useUnreadCounts(lines);
  const pending = usePending(queue);
  const now = useNow();
  const calls = useLineCalls(lines);
  // Requests from the far side this officer should answer, on every line: shown at the top.
  const alerts = (lines ?? []).flatMap((l) => {
    const me = meOn(l, session);
    const list = calls.get(l.name);
    if (!me || !list) return [];
    return callAlerts(list.calls, me, l.peer.name).map((a) => ({ ...a, text: `${l.name}: ${a.text}`, line: l.name }));
  });
  const tests = (lines ?? []).flatMap((l) => {
    const me = meOn(l, session);
    const list = calls.get(l.name);
    if (!me || !list?.tests) return [];
    return testAlerts(list.tests, me, l.peer.name).map((a) => ({ ...a, text: `${l.name}: ${a.text}`, line: l.name }));
  });

  return (
    <section className="page" aria-labelledby="lines-heading">
      <h1 id="lines-heading">Your lines</h1>
      {error && (
        <ErrorAlert onRetry={refresh}>
          {error}
          {fetchedAt && lines ? ` Showing what was known at ${formatZulu(fetchedAt)}.` : ''}
        </ErrorAlert>
      )}
      <CallAlertBanner
        alerts={alerts}
        onShow={(callId) => {
          const a = alerts.find((x) => x.callId === callId);
          if (a) navigate(linePath(a.line));
        }}
      />
      <CallAlertBanner
        alerts={tests}
        testId="test-alerts"
        showLabel="Open the line"
        onShow={(testId) => {
          const a = tests.find((x) => x.callId === testId);
          if (a) navigate(linePath(a.line));
        }}
      />
      {lines === null && !error && <p aria-busy="true">Loading your lines…</p>}
      {lines?.length === 0 && (
        <div className="empty">
          <p>You hold no seat on any line yet.</p>
          <p className="muted">
            Lines are set up by your station administrator (<code>parley line invite</code>), who also gives out the seats.
            {session.member.role === 'admin' && (
              <>
                {' '}
                As an administrator, you can see every line of this station on the <Link to="/admin">admin page</Link>.
              </>
            )}
          </p>
        </div>
      )}
      {lines && lines.length > 0 && (
        <ul className="line-list">
          {lines.map((l) => (
            <LineCard
              key={l.id}
              line={l}
              unread={unread.get(l.name)}
              unsent={pending.filter((p) => p.line === l.name).length}
              calls={calls.get(l.name)?.calls}
              now={now}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function LineCard({
  line,
  unread,
  unsent,
  calls,
  now,
}: {
  line: LineSummary;
  unread: number | undefined;
  unsent: number;
  calls: Call[] | undefined;
  now: number;
}) {
  const unanswered = calls?.filter(isUnanswered) ?? [];
  const open = calls?.filter(isOpenCall).length;
  return (
    <li
      className={`card line-card${unanswered.length ? ' line-card-unanswered' : ''}`}
      data-line={line.name}
      data-unanswered={unanswered.length > 0}
    >
      <div className="line-card-head">
        <h2>
          <Link to={linePath(line.name)}>{line.name}</Link>
        </h2>
        <HealthLamp health={line.health} />
      </div>
      <p className="muted">with station {line.peer.name}</p>
      {unanswered.length > 0 && (
        <p className="badge-unanswered" data-testid="unanswered">
          <span aria-hidden="true">⚠ </span>UNANSWERED: {unanswered.length === 1 ? 'a call request' : `${unanswered.length} call requests`}{' '}
          not acknowledged in time
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Last contact</dt>
          <dd title={line.lastContactAt ? formatZulu(line.lastContactAt, true) : undefined}>{formatAgo(line.lastContactAt, now)}</dd>
        </div>
        <div>
          <dt>Unread</dt>
          <dd className={unread ? 'unread' : undefined} data-testid="unread">
            {unread === undefined ? '…' : unread >= 3000 ? '3000+' : unread}
          </dd>
        </div>
        <div>
          <dt>Waiting to reach {line.peer.name}</dt>
          <dd>{line.backlogOut}</dd>
        </div>
        <div>
          <dt>Expected from {line.peer.name}</dt>
          <dd>{line.backlogIn}</dd>
        </div>
        <div>
          <dt>Open calls</dt>
          <dd data-testid="open-calls">{open === undefined ? '…' : open}</dd>
        </div>
        {unsent > 0 && (
          <div>
            <dt>Not yet sent from this device</dt>
            <dd>{unsent}</dd>
          </div>
        )}
      </dl>
    </li>
  );
}

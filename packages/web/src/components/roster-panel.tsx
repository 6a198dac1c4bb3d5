import type { LineSummary, RosterResponse, Seat } from '@parley/protocol';
import { useEffect, useRef, useState } from 'react';
import { api, describeError } from '../api.js';
import type { LineEngine, RosterDevice } from '../e2ee/line-engine.js';
import { compareRosters, RECORDER_HANDLE, type RosterComparison, type RosterRow, seenKeys } from '../e2ee/roster-view.js';
import { useSession } from '../session.js';
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

export function RosterPanel({
  summary,
  ourName,
  engine,
  groupVersion,
}: {
  summary: LineSummary;
  ourName: string;
  engine: LineEngine | null;
  /** Changes whenever this device processed a change of the group: time to look again. */
  groupVersion: number;
}) {
  return (
    <>
      <section className="card panel" aria-labelledby="roster-heading">
        <h2 id="roster-heading">Roster</h2>
        <h3>Our seats ({ourName})</h3>
        <Seats seats={summary.seats} empty="No seats on our side." />
        <h3>Their seats ({summary.peer.name})</h3>
        <Seats seats={summary.peerSeats} empty="The peer station has not told us its seats." />
      </section>
      <GroupPanel summary={summary} engine={engine} groupVersion={groupVersion} />
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

/** Both views of the line's MLS group, compared, with what changed since the officer last looked. */
function GroupPanel({ summary, engine, groupVersion }: { summary: LineSummary; engine: LineEngine | null; groupVersion: number }) {
  const { session } = useSession();
  const [station, setStation] = useState<{ view: RosterResponse | null; error: string | null }>({ view: null, error: null });
  const [device, setDevice] = useState<{ epoch: number; devices: RosterDevice[] } | null>(null);
  // What the officer had seen when the page opened: changes since are highlighted until they leave.
  const [seenAtOpen, setSeenAtOpen] = useState<{ keys: string[] | null } | null>(null);
  const [tick, setTick] = useState(0);
  const line = summary.name;

  // biome-ignore lint/correctness/useExhaustiveDependencies: groupVersion and tick are reasons to look again
  useEffect(() => {
    let alive = true;
    api<RosterResponse>('GET', `/api/v1/lines/${encodeURIComponent(line)}/roster`).then(
      (view) => alive && setStation({ view, error: null }),
      (e: unknown) => alive && setStation((s) => ({ view: s.view, error: describeError(e) })),
    );
    return () => {
      alive = false;
    };
  }, [line, groupVersion, tick]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: groupVersion is the reason to look again
  useEffect(() => {
    if (!engine) return;
    let alive = true;
    engine.deviceRoster().then(
      (v) => alive && setDevice(v),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [engine, groupVersion, tick]);

  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 10_000);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    if (!engine) return;
    let alive = true;
    engine.rosterSeen().then(
      (keys) => alive && setSeenAtOpen((s) => s ?? { keys }),
      () => alive && setSeenAtOpen((s) => s ?? { keys: null }),
    );
    return () => {
      alive = false;
    };
  }, [engine]);

  const comparison =
    station.view || device
      ? compareRosters(device, station.view, { seen: seenAtOpen?.keys ?? null, thisDeviceId: session.deviceId })
      : null;

  // Remember what the officer has now seen; the first look ever becomes the baseline.
  const saved = useRef('');
  useEffect(() => {
    if (!engine || !comparison || !seenAtOpen) return;
    const keys = seenKeys(comparison);
    const text = keys.join('|');
    if (text === saved.current) return;
    saved.current = text;
    if (seenAtOpen.keys === null) setSeenAtOpen({ keys });
    void engine.markRosterSeen(keys).catch(() => undefined);
  });

  return (
    <section className="card panel" aria-labelledby="group-heading" data-testid="group-roster">
      <h2 id="group-heading">Encrypted group</h2>
      {!comparison ? (
        station.error ? (
          <p className="muted">{station.error}</p>
        ) : (
          <p aria-busy="true">Loading the devices…</p>
        )
      ) : (
        <GroupView c={comparison} ours={summary.station.name} peer={summary.peer.name} stationError={station.error} />
      )}
    </section>
  );
}

const STATUS: Record<RosterComparison['status'], (c: RosterComparison) => string> = {
  match: (c) => `Your station and this device see the same ${c.rows.length} devices (epoch ${c.deviceEpoch}).`,
  mismatch: (c) =>
    `Your station’s view of the group differs from this device’s own view at the same epoch (${c.deviceEpoch}). Tell your administrator: a device may have been added or hidden without showing.`,
  'catching-up': (c) =>
    `This device is at epoch ${c.deviceEpoch}, your station’s recorder at ${c.stationEpoch}: one has not processed the latest change yet.`,
  'no-device-view': () => 'This device is not in the group yet; this is your station’s view only.',
  'no-station-view': () => 'Your station has not shown its view of the group; this is this device’s view only.',
};

function GroupView({ c, ours, peer, stationError }: { c: RosterComparison; ours: string; peer: string; stationError: string | null }) {
  const side = (name: string) => c.rows.filter((r) => r.station === name);
  return (
    <>
      <p className={`roster-status roster-${c.status}`} data-status={c.status} role={c.status === 'mismatch' ? 'alert' : undefined}>
        <span aria-hidden="true">{c.status === 'match' ? '✓ ' : c.status === 'mismatch' ? '⚠ ' : 'ⓘ '}</span>
        {STATUS[c.status](c)}
      </p>
      {stationError && <p className="muted">Your station’s view: {stationError}</p>}
      <h3>Our side ({ours})</h3>
      <DeviceList rows={side(ours)} />
      <h3>Their side ({peer})</h3>
      <DeviceList rows={side(peer)} />
      {c.rows.some((r) => r.station !== ours && r.station !== peer) && (
        <>
          <h3>Other stations</h3>
          <DeviceList rows={c.rows.filter((r) => r.station !== ours && r.station !== peer)} />
        </>
      )}
      {c.removedSinceSeen.length > 0 && (
        <>
          <h3>Removed since you last looked</h3>
          <DeviceList rows={c.removedSinceSeen} removed />
        </>
      )}
    </>
  );
}

function DeviceList({ rows, removed = false }: { rows: RosterRow[]; removed?: boolean }) {
  if (rows.length === 0) return <p className="muted">No devices.</p>;
  return (
    <ul className="devices">
      {rows.map((r) => {
        const flags: string[] = [];
        if (r.isThisDevice) flags.push('this device');
        if (r.isNew) flags.push('new since you last looked');
        if (!removed && r.inStation && !r.inDevice) flags.push('only in your station’s view');
        if (!removed && r.inDevice && !r.inStation) flags.push('only in this device’s view');
        if (r.differs) flags.push('the two views disagree about it');
        const warn = !removed && (r.differs || (r.inDevice !== r.inStation && r.inDevice));
        return (
          <li
            key={r.key}
            className={`device-row${r.isNew ? ' device-new' : ''}${removed ? ' device-removed' : ''}${warn ? ' device-warn' : ''}`}
            data-handle={r.handle}
            data-station={r.station}
            data-device={r.deviceId}
          >
            <span className="seat-name">{r.handle === RECORDER_HANDLE ? `recorder (${r.station}’s archive)` : r.handle}</span>
            {r.handle !== RECORDER_HANDLE && <span className="muted"> · device {r.deviceId.slice(0, 8)}</span>}
            {flags.length > 0 && <span className="device-flags"> · {flags.join(' · ')}</span>}
            <code className="fingerprint" title="signature key fingerprint">
              {r.signatureKeyFingerprint}
            </code>
          </li>
        );
      })}
    </ul>
  );
}

import type { LineSummary } from '@parley/protocol';
import { type FormEvent, useId, useRef, useState } from 'react';
import {
  ACTION_LABEL,
  allowedActions,
  type Call,
  type CallAction,
  type CallAlert,
  callHistory,
  callMarks,
  isOpenCall,
  type Me,
  pendingTests,
  policyText,
  STATE_LABEL,
  urgencyHelp,
  URGENCY_LABEL,
  URGENCY_ORDER,
  type Urgency,
} from '../calls.js';
import { formatAgo, formatZulu } from '../time-format.js';
import type { CallsState } from '../use-calls.js';
import { newClientId } from '../use-calls.js';
import { ErrorAlert } from './alert.js';
import { ROLE_LABEL } from './roles.js';
import { VoicePanel } from './voice-panel.js';
import type { LineEngine, LineRecord } from '../e2ee/line-engine.js';

/** What voice needs: the line, this device's engine (to seal signals), the signal records. */
export interface VoiceContext {
  line: string;
  engine: LineEngine | null;
  signals: readonly LineRecord[];
  ourStation: string;
}

type Secrets = Map<string, { action: string; text: string; from: string }[]>;

export const callAnchor = (callId: string) => `call-${callId}`;

/** Requests that need this officer, above the conversation and on the dashboard: alarms shout, notices say. */
export function CallAlertBanner({
  alerts,
  onShow,
  testId = 'call-alerts',
  showLabel = 'Show the call',
}: {
  alerts: CallAlert[];
  onShow?: (callId: string) => void;
  testId?: string;
  showLabel?: string;
}) {
  if (alerts.length === 0) return null;
  const alarm = alerts.some((a) => a.level === 'alarm');
  return (
    <div className={`call-alerts call-alerts-${alarm ? 'alarm' : 'notice'}`} role={alarm ? 'alert' : 'status'} data-testid={testId}>
      <ul className="call-alerts-list">
        {alerts.map((a) => (
          <li key={a.callId} data-level={a.level} data-call-id={a.callId}>
            <span aria-hidden="true">{a.level === 'alarm' ? '⚠ ' : '☎ '}</span>
            {a.text}
            {onShow && (
              <>
                {' '}
                <button type="button" className="button-secondary" onClick={() => onShow(a.callId)}>
                  {showLabel}
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function CallsPanel({
  summary,
  me,
  state,
  secrets,
  now,
  voice,
}: {
  summary: LineSummary;
  me: Me | null;
  state: CallsState;
  secrets: Secrets;
  now: number;
  voice: VoiceContext;
}) {
  const stations =
    summary.side === 'acceptor'
      ? { inviter: summary.peer.name, acceptor: summary.station.name }
      : { inviter: summary.station.name, acceptor: summary.peer.name };
  const calls = state.calls ? [...state.calls].reverse() : null;
  const open = calls?.filter(isOpenCall) ?? [];
  const closed = calls?.filter((c) => !isOpenCall(c)) ?? [];
  return (
    <section className="card panel calls-panel" aria-labelledby="calls-heading" data-testid="calls-panel">
      <h2 id="calls-heading">Calls</h2>
      {state.error && <ErrorAlert onRetry={state.refresh}>{state.error}</ErrorAlert>}
      {state.policy && (
        <p className="field-help" data-testid="calls-policy">
          {policyText(state.policy)}
        </p>
      )}
      {me && <TestMessages me={me} state={state} peerName={summary.peer.name} now={now} />}
      <RequestForm summary={summary} state={state} />
      {calls === null && !state.error && <p aria-busy="true">Loading the calls…</p>}
      {calls?.length === 0 && <p className="muted">No calls on this line yet.</p>}
      {open.length > 0 && (
        <>
          <h3>Open</h3>
          <CallList calls={open} me={me} state={state} secrets={secrets} stations={stations} summary={summary} now={now} voice={voice} />
        </>
      )}
      {closed.length > 0 && (
        <details className="calls-closed">
          <summary>Earlier calls ({closed.length})</summary>
          <CallList calls={closed} me={me} state={state} secrets={secrets} stations={stations} summary={summary} now={now} voice={voice} />
        </details>
      )}
    </section>
  );
}

function CallList(props: {
  calls: Call[];
  me: Me | null;
  state: CallsState;
  secrets: Secrets;
  stations: { inviter: string; acceptor: string };
  summary: LineSummary;
  now: number;
  voice: VoiceContext;
}) {
  return (
    <ol className="call-list">
      {props.calls.map((c) => (
        <CallItem key={c.callId} call={c} {...props} />
      ))}
    </ol>
  );
}

/** Duty officers acknowledge the far side's hourly test messages here. */
function TestMessages({ me, state, peerName, now }: { me: Me; state: CallsState; peerName: string; now: number }) {
  const pending = pendingTests(state.tests, me);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = useRef(new Map<string, string>());
  if (pending.length === 0) return null;
  const ack = async (testId: string) => {
    setBusy(testId);
    setError(null);
    const cid = ids.current.get(testId) ?? newClientId();
    ids.current.set(testId, cid);
    try {
      await state.act({ action: 'acknowledge_test', testId }, cid);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="test-messages">
      <h3 id="tests-heading">Test messages from {peerName}</h3>
      <ul className="call-list" aria-labelledby="tests-heading">
        {pending.map((t) => (
          <li key={t.testId} className="call-item" data-test-id={t.testId}>
            <p>
              Test message <code>{t.testId}</code>, sent {formatAgo(t.sentAt, now)}: acknowledge it to show {peerName} that this line is
              watched.
            </p>
            <button type="button" disabled={busy !== null} onClick={() => void ack(t.testId)}>
              {busy === t.testId ? 'Sending…' : 'Acknowledge test message'}
            </button>
          </li>
        ))}
      </ul>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </div>
  );
}

function RequestForm({ summary, state }: { summary: LineSummary; state: CallsState }) {
  const id = useId();
  const [urgency, setUrgency] = useState<Urgency>('routine');
  const [to, setTo] = useState('');
  const [topics, setTopics] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // One client id per request until it succeeds, so a retry after a lost answer is never ordered
  // twice; a request changed after an error is a new one.
  const attempt = useRef<{ clientId: string; what: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    const what = JSON.stringify([urgency, to, topics]);
    if (attempt.current?.what !== what) attempt.current = { clientId: newClientId(), what };
    try {
      await state.act({ action: 'request', urgency, ...(to ? { to } : {}), secret: topics }, attempt.current.clientId);
      attempt.current = null;
      setTopics('');
      setDone(`${URGENCY_LABEL[urgency]} call requested.`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="call-request">
      <summary>Request a call</summary>
      <form onSubmit={(e) => void submit(e)} aria-label="Request a call">
        <label htmlFor={`${id}-urgency`}>Urgency</label>
        <select id={`${id}-urgency`} value={urgency} onChange={(e) => setUrgency(e.target.value as Urgency)} aria-describedby={`${id}-uh`}>
          {URGENCY_ORDER.map((u) => (
            <option key={u} value={u}>
              {URGENCY_LABEL[u]}
            </option>
          ))}
        </select>
        <p id={`${id}-uh`} className="field-help">
          {summary.peer.name} must {urgencyHelp(urgency, state.policy)}, or its duty officers are alerted.
        </p>
        <label htmlFor={`${id}-to`}>Counterpart at {summary.peer.name}</label>
        <select id={`${id}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">Whoever answers (any seat)</option>
          {summary.peerSeats.map((s) => (
            <option key={s.handle} value={s.handle}>
              {s.name} ({s.handle}, {ROLE_LABEL[s.role]})
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-topics`}>Topics</label>
        <textarea
          id={`${id}-topics`}
          rows={2}
          value={topics}
          onChange={(e) => {
            setTopics(e.target.value);
            setError(null);
          }}
          aria-describedby={`${id}-th`}
          maxLength={4000}
        />
        <p id={`${id}-th`} className="field-help">
          End-to-end encrypted: neither station can read them. Who called whom, how urgently and when is visible to both stations.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Requesting…' : 'Request call'}
        </button>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        {done && (
          <p role="status" className="muted">
            {done}
          </p>
        )}
      </form>
    </details>
  );
}

/** The actions that ask for a reason before they go. */
const WITH_REASON: Partial<Record<CallAction, { label: string; confirm: string }>> = {
  decline: { label: 'Reason for declining', confirm: 'Decline the call' },
  cancel: { label: 'Reason (optional)', confirm: 'Cancel the request' },
};

function CallItem({
  call,
  me,
  state,
  secrets,
  stations,
  summary,
  now,
  voice,
}: {
  call: Call;
  me: Me | null;
  state: CallsState;
  secrets: Secrets;
  stations: { inviter: string; acceptor: string };
  summary: LineSummary;
  now: number;
  voice: VoiceContext;
}) {
  const id = useId();
  const [busy, setBusy] = useState<CallAction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<CallAction | null>(null);
  const [reason, setReason] = useState('');
  // One client id per action and text until it succeeds (see RequestForm).
  const clientIds = useRef(new Map<string, string>());
  const reqStation = stations[call.requester.side];
  const farStation = call.requester.side === 'inviter' ? stations.acceptor : stations.inviter;
  const marks = callMarks(call, farStation);
  const actions = me ? allowedActions(call, me) : [];
  const said = secrets.get(call.callId) ?? [];
  const counterpart = call.to
    ? (summary.peerSeats.find((s) => s.handle === call.to) ?? summary.seats.find((s) => s.handle === call.to))
    : null;

  const run = async (action: CallAction, secret?: string) => {
    setBusy(action);
    setError(null);
    const key = `${action}\u0000${secret ?? ''}`;
    const cid = clientIds.current.get(key) ?? newClientId();
    clientIds.current.set(key, cid);
    try {
      await state.act({ action, callId: call.callId, ...(secret ? { secret } : {}) }, cid);
      clientIds.current.delete(key);
      setAsking(null);
      setReason('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const ask = asking ? WITH_REASON[asking] : undefined;

  return (
    <li
      id={callAnchor(call.callId)}
      className={`call-item call-${call.state}${marks.length ? ' call-marked' : ''}`}
      data-call-id={call.callId}
      data-state={call.state}
      data-urgency={call.urgency}
      tabIndex={-1}
      aria-labelledby={`${id}-title`}
    >
      <div className="call-head">
        <span className={`urgency urgency-${call.urgency}`}>{URGENCY_LABEL[call.urgency]}</span>
        <strong id={`${id}-title`} className="call-state">
          {STATE_LABEL[call.state]}
        </strong>
        <span className="muted call-age" title={formatZulu(call.reached.requested.at, true)}>
          {formatAgo(call.reached.requested.at, now)}
        </span>
      </div>
      <p className="call-parties">
        <span className="seat-name">
          {reqStation}/{call.requester.handle}
        </span>{' '}
        calls{' '}
        <span className="seat-name">
          {farStation}
          {call.to ? `/${call.to}` : ''}
        </span>
        {counterpart ? (
          <span className="muted"> ({counterpart.name})</span>
        ) : call.to === null ? (
          <span className="muted"> (any seat)</span>
        ) : null}
      </p>
      {marks.length > 0 && (
        <p className="call-marks">
          {marks.map((m) => (
            <span key={m} className={`call-mark${m === 'UNANSWERED' ? ' call-mark-unanswered' : ''}`}>
              {m}
            </span>
          ))}
        </p>
      )}
      {said.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: in timeline order, never reordered
        <p key={i} className="call-secret" data-action={s.action}>
          <span className="muted">{s.action === 'request' ? 'Topics' : `${s.action} (${s.from})`}:</span> {s.text.replace(/^Topics: /, '')}
        </p>
      ))}
      <ol className="call-history" aria-label="History">
        {callHistory(call, stations).map((h) => (
          <li key={h.state} data-state={h.state}>
            {STATE_LABEL[h.state]} <span className="muted">by {h.by}</span>{' '}
            <time dateTime={new Date(h.at).toISOString()} className="muted">
              {formatZulu(h.at)}
            </time>
          </li>
        ))}
      </ol>
      {me &&
        (call.state === 'ringing' || call.state === 'connected') &&
        call.participants.some((p) => p.side === me.side && p.handle === me.handle) && (
          <VoicePanel
            call={call}
            me={me}
            line={voice.line}
            engine={voice.engine}
            signals={voice.signals}
            ourStation={voice.ourStation}
            stations={stations}
          />
        )}
      {actions.length > 0 && !ask && (
        <div className="button-row call-actions">
          {actions.map((a) => (
            <button
              key={a}
              type="button"
              className={a === 'decline' || a === 'cancel' || a === 'leave' ? 'button-secondary' : undefined}
              disabled={busy !== null}
              onClick={() => (WITH_REASON[a] ? setAsking(a) : void run(a))}
            >
              {busy === a ? 'Sending…' : ACTION_LABEL[a]}
            </button>
          ))}
        </div>
      )}
      {ask && asking && (
        <form
          className="call-reason"
          onSubmit={(e) => {
            e.preventDefault();
            void run(asking, reason);
          }}
        >
          <label htmlFor={`${id}-reason`}>{ask.label}</label>
          <textarea
            id={`${id}-reason`}
            rows={2}
            value={reason}
            required={asking === 'decline'}
            onChange={(e) => setReason(e.target.value)}
            aria-describedby={`${id}-rh`}
          />
          <p id={`${id}-rh`} className="field-help">
            End-to-end encrypted.
          </p>
          <div className="button-row">
            <button type="submit" disabled={busy !== null || (asking === 'decline' && reason.trim() === '')}>
              {busy ? 'Sending…' : ask.confirm}
            </button>
            <button type="button" className="button-secondary" onClick={() => setAsking(null)} disabled={busy !== null}>
              Back
            </button>
          </div>
        </form>
      )}
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </li>
  );
}

import type { Health, HistoryResponse, LineSummary } from '@parley/protocol';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { api, describeError, isUnauthenticated } from './api.js';
import type { LineEngine, Membership } from './e2ee/line-engine.js';
import { type ConnectionStatus, LineConnection } from './line-connection.js';
import { useSession } from './session.js';
import { applyEvents, emptyTimeline, type TimelineEvent, type TimelineState } from './timeline.js';
import { splitTranslations } from './translations.js';

export interface ConversationState {
  timeline: TimelineState;
  status: ConnectionStatus;
  statusDetail: string | undefined;
  inFlight: ReadonlySet<string>;
  /** The latest of the summary's and the stream's view of the line's health. */
  health: { health: Health; lastContactAt: number | null } | null;
  summary: LineSummary | null;
  summaryError: { message: string; notSeated: boolean } | null;
  /** This device in the line's group: 'setting-up' until its engine is open. */
  membership: Membership | 'setting-up';
  engine: LineEngine | null;
  /** End-to-end encryption cannot go on (keys changed, storage refused …): shown as is. */
  e2eeError: string | null;
  /** Load the messages sent before this device joined from our station's recorder. */
  loadHistory(): Promise<number>;
  /** Interpreters' translations (issue 9), kept apart from the timeline: shown beside their originals. */
  translations: TimelineState;
}

/** One line's live conversation: the stream through this device's MLS engine, the summary for the roster. */
export function useConversation(line: string): ConversationState {
  const { queue, e2ee, sessionEnded, checkSession } = useSession();
  const [timeline, setTimeline] = useState<TimelineState>(emptyTimeline);
  const [translations, setTranslations] = useState<TimelineState>(emptyTimeline);
  // Records go to the timeline, translations beside it (never as entries of their own).
  const apply = useCallback((events: readonly TimelineEvent[]) => {
    const tr: TimelineEvent[] = [];
    const rest: TimelineEvent[] = [];
    for (const ev of events) {
      if (ev.type !== 'records') {
        rest.push(ev);
        continue;
      }
      const { translations: t, others } = splitTranslations(ev.records);
      if (t.length > 0) tr.push({ type: 'records', records: t });
      rest.push({ type: 'records', records: others });
    }
    if (tr.length > 0) setTranslations((t) => applyEvents(t, tr));
    setTimeline((t) => applyEvents(t, rest));
  }, []);
  const [status, setStatus] = useState<{ status: ConnectionStatus; detail?: string }>({ status: 'connecting' });
  const [inFlight, setInFlight] = useState<ReadonlySet<string>>(() => new Set());
  const [health, setHealth] = useState<ConversationState['health']>(null);
  const [summary, setSummary] = useState<LineSummary | null>(null);
  const [summaryError, setSummaryError] = useState<ConversationState['summaryError']>(null);
  const [engine, setEngine] = useState<LineEngine | null>(null);
  const [membership, setMembership] = useState<ConversationState['membership']>('setting-up');
  const [e2eeError, setE2eeError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  // The summary: seats (the group's policy), keys, health. Polled; the engine follows it.
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const s = await api<LineSummary>('GET', `/api/v1/lines/${encodeURIComponent(line)}`);
        if (!alive) return;
        setSummary((old) => (old && JSON.stringify(old) === JSON.stringify(s) ? old : s));
        setSummaryError(null);
        setHealth({ health: s.health, lastContactAt: s.lastContactAt });
      } catch (e) {
        if (isUnauthenticated(e)) return sessionEnded();
        if (!alive) return;
        const code = (e as { code?: string }).code;
        setSummaryError({ message: describeError(e), notSeated: code === 'LINE_NOT_FOUND' || code === 'NOT_A_SEAT_HOLDER' });
      }
      if (alive) timer = setTimeout(() => void load(), 5000);
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [line, sessionEnded]);

  // The engine: opened once the device is set up and the line's keys are known; again after the
  // officer retried a failed device setup.
  const lineId = summary?.id;
  const deviceState = useSyncExternalStore(
    (fn) => e2ee.subscribe(fn),
    () => e2ee.status.state,
  );
  const opened = useRef<LineEngine | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: opened once per line id; later summaries go to updateSummary
  useEffect(() => {
    if (!summary || deviceState === 'failed') return;
    if (opened.current && opened.current.lineId === summary.id) return;
    let alive = true;
    setEngine(null);
    setMembership('setting-up');
    e2ee.engine(line, summary).then(
      (e) => {
        if (!alive) return;
        opened.current = e;
        setE2eeError(null);
        setEngine(e);
      },
      (err: unknown) => {
        if (!alive) return;
        if (isUnauthenticated(err)) return sessionEnded();
        setE2eeError(describeError(err));
      },
    );
    return () => {
      alive = false;
    };
  }, [line, lineId, e2ee, sessionEnded, deviceState]);

  useEffect(() => {
    if (engine && summary) engine.updateSummary(summary).catch((e: unknown) => setE2eeError(describeError(e)));
  }, [engine, summary]);

  // The stream, through the engine.
  useEffect(() => {
    if (!engine) return;
    let conn: LineConnection | null = null;
    let alive = true;
    setTimeline(emptyTimeline);
    setTranslations(emptyTimeline);
    setMembership(engine.membership);
    void (async () => {
      let records: Awaited<ReturnType<LineEngine['records']>> = [];
      try {
        records = await engine.records();
      } catch (e) {
        setE2eeError(`This device cannot read its stored messages: ${describeError(e)}`);
      }
      if (!alive) return;
      apply([{ type: 'records', records }]);
      conn = new LineConnection(line, queue, engine, {
        events: apply,
        health: (h, lastContactAt) => setHealth({ health: h, lastContactAt }),
        status: (s, detail) => setStatus(detail === undefined ? { status: s } : { status: s, detail }),
        inFlight: setInFlight,
        suspectSession: checkSession,
        membership: setMembership,
        failure: setFailure,
      });
      conn.start();
    })();
    return () => {
      alive = false;
      conn?.stop();
    };
  }, [engine, line, queue, checkSession, apply]);

  const loadHistory = useCallback(async () => {
    if (!engine) return 0;
    const changed = await engine.loadHistory((after) =>
      api<HistoryResponse>('GET', `/api/v1/lines/${encodeURIComponent(line)}/history?after=${after}&limit=200`),
    );
    if (changed.length > 0) apply([{ type: 'records', records: changed }]);
    return changed.length;
  }, [engine, line, apply]);

  return {
    timeline,
    status: status.status,
    statusDetail: status.detail,
    inFlight,
    health,
    summary,
    summaryError,
    membership,
    engine,
    e2eeError: e2eeError ?? failure,
    loadHistory,
    translations,
  };
}

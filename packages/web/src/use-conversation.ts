import type { Health, LineSummary } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { api, describeError, isUnauthenticated } from './api.js';
import { type ConnectionStatus, LineConnection } from './line-connection.js';
import { useSession } from './session.js';
import { applyEvents, emptyTimeline, type TimelineState } from './timeline.js';

export interface ConversationState {
  timeline: TimelineState;
  status: ConnectionStatus;
  statusDetail: string | undefined;
  inFlight: ReadonlySet<string>;
  /** The latest of the summary's and the stream's view of the line's health. */
  health: { health: Health; lastContactAt: number | null } | null;
  summary: LineSummary | null;
  summaryError: { message: string; notSeated: boolean } | null;
}

/** One line's live conversation: the stream for messages and delivery, the summary for the roster. */
export function useConversation(line: string): ConversationState {
  const { queue, sessionEnded, checkSession } = useSession();
  const [timeline, setTimeline] = useState<TimelineState>(emptyTimeline);
  const [status, setStatus] = useState<{ status: ConnectionStatus; detail?: string }>({ status: 'connecting' });
  const [inFlight, setInFlight] = useState<ReadonlySet<string>>(() => new Set());
  const [health, setHealth] = useState<ConversationState['health']>(null);
  const [summary, setSummary] = useState<LineSummary | null>(null);
  const [summaryError, setSummaryError] = useState<ConversationState['summaryError']>(null);

  useEffect(() => {
    setTimeline(emptyTimeline);
    const conn = new LineConnection(line, queue, {
      events: (events) => setTimeline((t) => applyEvents(t, events)),
      health: (h, lastContactAt) => setHealth({ health: h, lastContactAt }),
      status: (s, detail) => setStatus(detail === undefined ? { status: s } : { status: s, detail }),
      inFlight: setInFlight,
      suspectSession: checkSession,
    });
    conn.start();
    return () => conn.stop();
  }, [line, queue, checkSession]);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const s = await api<LineSummary>('GET', `/api/v1/lines/${encodeURIComponent(line)}`);
        if (!alive) return;
        setSummary(s);
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

  return { timeline, status: status.status, statusDetail: status.detail, inFlight, health, summary, summaryError };
}

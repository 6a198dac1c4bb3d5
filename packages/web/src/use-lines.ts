import type { Item, ItemsPage, LineSummary } from '@parley/protocol';
import { useEffect, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated } from './api.js';
import type { CallsResponse } from './calls.js';
import { isConversationItem } from './message-codec.js';
import { isReceiptItem } from './receipts.js';
import { useSession } from './session.js';
import { countUnread } from './unread.js';

export interface LinesState {
  lines: LineSummary[] | null;
  /** Set while the last refresh failed; `lines` then holds the last known state. */
  error: string | null;
  fetchedAt: number | null;
}

/** The officer's lines, refreshed every few seconds: health, last contact and backlogs change on their own. */
export function useLines(everyMs = 3000): LinesState & { refresh: () => void } {
  const { sessionEnded } = useSession();
  const [state, setState] = useState<LinesState>({ lines: null, error: null, fetchedAt: null });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is how refresh() restarts the polling loop at once
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const { lines } = await api<{ lines: LineSummary[] }>('GET', '/api/v1/lines');
        if (alive) setState({ lines, error: null, fetchedAt: Date.now() });
      } catch (e) {
        if (isUnauthenticated(e)) return sessionEnded();
        if (alive) setState((s) => ({ ...s, error: describeError(e) }));
      }
      if (alive) timer = setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [everyMs, sessionEnded, tick]);
  return { ...state, refresh: () => setTick((t) => t + 1) };
}

/**
 * Unread messages per line: those from the peer's side after this device's read mark. Counted
 * from the items themselves (our own messages are never unread; the MLS header says which items
 * are messages, without decrypting them), and only re-counted when the
 * line's last position or the mark moves.
 */
export function useUnreadCounts(lines: LineSummary[] | null): Map<string, number> {
  const { readMarks } = useSession();
  const cache = useRef(new Map<string, { key: string; count: number }>());
  const [counts, setCounts] = useState(() => new Map<string, number>());
  useEffect(() => {
    if (!lines) return;
    let alive = true;
    void (async () => {
      const next = new Map<string, number>();
      for (const l of lines) {
        const mark = readMarks.get(l.name);
        const key = `${l.lastPos}:${mark}`;
        const hit = cache.current.get(l.name);
        if (hit?.key === key) {
          next.set(l.name, hit.count);
          continue;
        }
        if (l.lastPos <= mark) {
          cache.current.set(l.name, { key, count: 0 });
          next.set(l.name, 0);
          continue;
        }
        try {
          let count = 0;
          let after = mark;
          // Pages of 1000; a line with more unread than a few pages shows "999+" anyway.
          for (let page = 0; page < 3; page++) {
            const res = await api<ItemsPage>('GET', `/api/v1/lines/${encodeURIComponent(l.name)}/items?after=${after}&limit=1000`);
            // Only what people said: Welcomes and the hub's commits are the group's plumbing, read receipts bookkeeping.
            count += countUnread(
              (res.items as Item[]).filter((i) => isConversationItem(i) && !isReceiptItem(i)),
              mark,
            );
            if (res.items.length < 1000) break;
            after = res.nextCursor;
          }
          cache.current.set(l.name, { key, count });
          next.set(l.name, count);
        } catch {
          if (hit) next.set(l.name, hit.count);
        }
      }
      if (alive) setCounts(next);
    })();
    return () => {
      alive = false;
    };
  }, [lines, readMarks]);
  return counts;
}

/**
 * Each line's calls, for the dashboard's alerts and "unanswered" marks. Every call event is an
 * item on the line, so a line's calls are fetched again only when its last position moves.
 */
export function useLineCalls(lines: LineSummary[] | null): Map<string, CallsResponse> {
  const cache = useRef(new Map<string, { key: number; calls: CallsResponse }>());
  const [calls, setCalls] = useState(() => new Map<string, CallsResponse>());
  useEffect(() => {
    if (!lines) return;
    let alive = true;
    void (async () => {
      const next = new Map<string, CallsResponse>();
      for (const l of lines) {
        const hit = cache.current.get(l.name);
        if (hit?.key === l.lastPos) {
          next.set(l.name, hit.calls);
          continue;
        }
        try {
          const res = await api<CallsResponse>('GET', `/api/v1/lines/${encodeURIComponent(l.name)}/calls`);
          cache.current.set(l.name, { key: l.lastPos, calls: res });
          next.set(l.name, res);
        } catch {
          if (hit) next.set(l.name, hit.calls);
        }
      }
      if (alive) setCalls(next);
    })();
    return () => {
      alive = false;
    };
  }, [lines]);
  return calls;
}

import { useEffect, useState, useSyncExternalStore } from 'react';
import type { OfflineQueue, PendingMessage } from './offline-queue.js';

/** The current time, refreshed every `everyMs`, for "40 s ago" labels. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function usePending(queue: OfflineQueue): PendingMessage[] {
  return useSyncExternalStore(
    (fn) => queue.subscribe(fn),
    () => queue.list(),
  );
}

export function useOnline(): boolean {
  return useSyncExternalStore(
    (fn) => {
      window.addEventListener('online', fn);
      window.addEventListener('offline', fn);
      return () => {
        window.removeEventListener('online', fn);
        window.removeEventListener('offline', fn);
      };
    },
    () => navigator.onLine,
  );
}

/** Set the document title for the page, so tabs and screen readers say where one is. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Parley`;
  }, [title]);
}

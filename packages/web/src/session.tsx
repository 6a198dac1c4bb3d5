import type { SessionResponse } from '@parley/protocol';
import { createContext, useContext } from 'react';
import type { Drafts } from './drafts.js';
import type { E2eeService } from './e2ee/service.js';
import type { OfflineQueue } from './offline-queue.js';
import type { KeyValueStore } from './storage.js';
import type { ReadMarks } from './unread.js';

/** What every page of a logged-in officer may use. */
export interface SessionServices {
  session: SessionResponse;
  store: KeyValueStore;
  scope: string;
  queue: OfflineQueue;
  drafts: Drafts;
  readMarks: ReadMarks;
  /** This login's MLS device and the lines' group states. */
  e2ee: E2eeService;
  /** The station says the session is over (expired, logged out elsewhere): show the login page. */
  sessionEnded(): void;
  /** A WebSocket failed to open: ask the station whether the session is still good. */
  checkSession(): void;
  logout(): Promise<void>;
}

export const SessionContext = createContext<SessionServices | null>(null);

export function useSession(): SessionServices {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a logged-in page');
  return s;
}

import type { SessionResponse } from '@parley/protocol';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated, NetworkError } from './api.js';
import { startBackgroundSender } from './background-sender.js';
import { ErrorAlert } from './components/alert.js';
import { ROLE_LABEL } from './components/roles.js';
import { Drafts } from './drafts.js';
import { E2eeService } from './e2ee/service.js';
import { browserRawStore, Vault } from './e2ee/vault.js';
import { isPendingList, OfflineQueue } from './offline-queue.js';
import { AdminPage } from './pages/admin-page.js';
import { ConversationPage } from './pages/conversation-page.js';
import { DashboardPage } from './pages/dashboard-page.js';
import { EnrollPage } from './pages/enroll-page.js';
import { LoginPage } from './pages/login-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { ObserverPage } from './pages/observer-page.js';
import { ReadoutsPage } from './pages/readouts-page.js';
import { Link, navigate, useRoute } from './router.js';
import type { Route } from './routes.js';
import { SessionContext, type SessionServices, useSession } from './session.js';
import { browserStore, type KeyValueStore, scopeOf } from './storage.js';
import { ReadMarks } from './unread.js';

type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous'; notice?: string }
  | { status: 'unreachable'; error: string }
  | { status: 'signed-in'; session: SessionResponse };

export function App() {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const route = useRoute();

  const loadSession = useCallback(async () => {
    try {
      setState({ status: 'signed-in', session: await api<SessionResponse>('GET', '/api/v1/me') });
    } catch (e) {
      if (isUnauthenticated(e)) setState({ status: 'anonymous' });
      else setState({ status: 'unreachable', error: describeError(e) });
    }
  }, []);

  useEffect(() => {
    void loadSession();
  }, [loadSession]);

  // Public: an observer needs no login.
  if (route.name === 'observer') return <ObserverPage />;
  if (state.status === 'loading') {
    return (
      <main className="centered" aria-busy="true">
        <p>Connecting to the station…</p>
      </main>
    );
  }
  if (state.status === 'unreachable') {
    return (
      <main className="centered">
        <h1>Parley</h1>
        <ErrorAlert onRetry={() => void loadSession()}>{state.error}</ErrorAlert>
      </main>
    );
  }
  if (state.status === 'anonymous') {
    const onSignedIn = (session: SessionResponse) => {
      setState({ status: 'signed-in', session });
      if (route.name === 'login' || route.name === 'enroll') navigate('/', { replace: true });
    };
    return route.name === 'enroll' ? <EnrollPage onSignedIn={onSignedIn} /> : <LoginPage onSignedIn={onSignedIn} notice={state.notice} />;
  }
  return (
    <SignedIn
      session={state.session}
      route={route}
      onEnded={(notice) => setState(notice ? { status: 'anonymous', notice } : { status: 'anonymous' })}
    />
  );
}

function SignedIn({ session, route, onEnded }: { session: SessionResponse; route: Route; onEnded: (notice?: string) => void }) {
  const services = useServices(session, onEnded);
  useEffect(() => {
    // Set up this login's device (keys, binding, key packages) at once, not when a line opens.
    void services.e2ee.ready().catch(() => undefined);
    return startBackgroundSender(services.queue, services.e2ee);
  }, [services]);
  useEffect(() => {
    // Another tab of this officer queued or sent something.
    if (typeof BroadcastChannel === 'undefined') return;
    const channel = new BroadcastChannel(`${services.scope}:outbox`);
    channel.onmessage = () => void services.queue.reload();
    return () => channel.close();
  }, [services]);
  useEffect(() => {
    if (route.name === 'login' || route.name === 'enroll') navigate('/', { replace: true });
  }, [route]);

  const isAdmin = session.member.role === 'admin';
  let page: ReactNode;
  switch (route.name) {
    case 'dashboard':
    case 'login':
    case 'enroll':
      page = <DashboardPage />;
      break;
    case 'line':
      page = <ConversationPage key={route.line} line={route.line} />;
      break;
    case 'readouts':
      page = <ReadoutsPage key={route.line} line={route.line} />;
      break;
    case 'observer':
      page = <ObserverPage />;
      break;
    case 'admin':
      page = isAdmin ? <AdminPage /> : <NotFoundPage path="/admin" reason="The admin pages are for station administrators." />;
      break;
    case 'not-found':
      page = <NotFoundPage path={route.path} />;
      break;
    default: {
      const unknown: never = route;
      page = <NotFoundPage path={String(unknown)} />;
    }
  }

  return (
    <SessionContext.Provider value={services}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="brand">
          Parley
        </Link>
        <span className="station" title={`station fingerprint ${session.station.fingerprint}`}>
          station <strong>{session.station.name}</strong>
        </span>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/" aria-current={route.name === 'dashboard' ? 'page' : undefined}>
                Lines
              </Link>
            </li>
            {isAdmin && (
              <li>
                <Link to="/admin" aria-current={route.name === 'admin' ? 'page' : undefined}>
                  Admin
                </Link>
              </li>
            )}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session.member.name}{' '}
            <span className="muted">
              ({session.member.handle}, {ROLE_LABEL[session.member.role]})
            </span>
          </span>
          <LogoutButton />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </SessionContext.Provider>
  );
}

function useServices(session: SessionResponse, onEnded: (notice?: string) => void): SessionServices {
  const ended = useRef(onEnded);
  ended.current = onEnded;
  return useMemo(() => {
    const store = browserStore();
    const scope = scopeOf(session.station.fingerprint, session.member.handle);
    const raw = browserRawStore();
    const tabs = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(`${scope}:outbox`);
    const memberVault = new Vault(raw, scope);
    const queue = new OfflineQueue(memberVault, `${scope}:outbox`, () => tabs?.postMessage('changed'));
    const drafts = new Drafts(memberVault, { store, key: (line) => `${scope}:draft:${line}` });
    void migrateLegacyOutbox(store, scope, queue);
    const e2ee = new E2eeService(
      raw,
      scope,
      { station: session.station, handle: session.member.handle, deviceId: session.deviceId },
      (method, path, body) => api(method, path, body),
    );
    let checking = false;
    const services: SessionServices = {
      session,
      store,
      scope,
      queue,
      drafts,
      e2ee,
      readMarks: new ReadMarks(store, scope),
      sessionEnded: () => ended.current('Your session has ended. Log in again; messages you had not sent are kept.'),
      checkSession: () => {
        if (checking) return;
        checking = true;
        api('GET', '/api/v1/me')
          .catch((e: unknown) => {
            if (isUnauthenticated(e)) services.sessionEnded();
          })
          .finally(() => {
            checking = false;
          });
      },
      logout: async () => {
        try {
          await api('POST', '/api/v1/logout');
        } catch (e) {
          if (!isUnauthenticated(e)) throw e;
        }
        // This login's device is over: its keys and decrypted messages leave the browser.
        await e2ee.destroy().catch(() => undefined);
        ended.current('You have logged out.');
        navigate('/login', { replace: true });
      },
    };
    return services;
  }, [session]);
}

/**
 * Earlier versions of this app kept unsent messages in plain localStorage: move them into the
 * sealed queue (same clientIds, so one that did reach the station is not stored twice).
 */
async function migrateLegacyOutbox(store: KeyValueStore, scope: string, queue: OfflineQueue): Promise<void> {
  const key = `${scope}:outbox`;
  const raw = store.getItem(key);
  if (raw === null) return;
  try {
    const list: unknown = JSON.parse(raw);
    if (isPendingList(list)) {
      await queue.ready;
      for (const p of list) {
        if (queue.list().some((q) => q.clientId === p.clientId)) continue;
        await queue.add(p.line, p.text, { now: p.createdAt, clientId: p.clientId, ...(p.lang ? { lang: p.lang } : {}) });
      }
    }
    store.removeItem(key);
  } catch {
    // keep it for the next try
  }
}

function LogoutButton() {
  const { logout, queue } = useSession();
  const [error, setError] = useState<string | null>(null);
  const onClick = async () => {
    const unsent = queue.list().length;
    if (
      unsent > 0 &&
      !window.confirm(
        `${unsent} message${unsent === 1 ? ' is' : 's are'} not yet confirmed by the station. They stay on this device and are sent when you log in again. Log out?`,
      )
    )
      return;
    try {
      setError(null);
      await logout();
    } catch (e) {
      setError(e instanceof NetworkError ? 'Cannot reach the station to log out; try again.' : describeError(e));
    }
  };
  return (
    <>
      <button type="button" className="button-secondary" onClick={() => void onClick()}>
        Log out
      </button>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </>
  );
}

import type { SessionResponse } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { api, describeError } from '../api.js';
import { ErrorAlert, Notice } from '../components/alert.js';
import { useTitle } from '../hooks.js';
import { Link } from '../router.js';

export function LoginPage({ onSignedIn, notice }: { onSignedIn: (s: SessionResponse) => void; notice?: string | undefined }) {
  useTitle('Log in');
  const [handle, setHandle] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // A cookie session: the token stays in an httpOnly cookie that page scripts cannot read.
      await api<SessionResponse>('POST', '/api/v1/login', { handle: handle.trim(), password, session: 'cookie', device: 'web browser' });
      onSignedIn(await api<SessionResponse>('GET', '/api/v1/me'));
    } catch (err) {
      // The fields keep what was typed: only the error changes.
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="auth-page">
      <h1>Parley</h1>
      <form className="card auth-form" onSubmit={(e) => void submit(e)} aria-describedby={error ? 'login-error' : undefined}>
        <h2>Log in</h2>
        {notice && <Notice>{notice}</Notice>}
        <label htmlFor="login-handle">Handle</label>
        <input
          id="login-handle"
          name="handle"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <div id="login-error">
            <ErrorAlert>{error}</ErrorAlert>
          </div>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p className="muted">
          First time here? <Link to="/enroll">Enroll with the one-time secret from your administrator</Link>.
        </p>
      </form>
    </main>
  );
}

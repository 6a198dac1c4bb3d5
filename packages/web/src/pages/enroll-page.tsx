import type { SessionResponse } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { api, describeError } from '../api.js';
import { ErrorAlert } from '../components/alert.js';
import { useTitle } from '../hooks.js';
import { Link } from '../router.js';

const MIN_PASSWORD = 10;

export function EnrollPage({ onSignedIn }: { onSignedIn: (s: SessionResponse) => void }) {
  useTitle('Enroll');
  const [handle, setHandle] = useState('');
  const [secret, setSecret] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const problem =
    password.length > 0 && password.length < MIN_PASSWORD
      ? `The password needs at least ${MIN_PASSWORD} characters.`
      : confirm.length > 0 && confirm !== password
        ? 'The two passwords differ.'
        : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (problem || password !== confirm) {
      setError(problem ?? 'The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api<SessionResponse>('POST', '/api/v1/enroll', {
        handle: handle.trim(),
        secret: secret.trim(),
        password,
        session: 'cookie',
        device: 'web browser',
      });
      onSignedIn(await api<SessionResponse>('GET', '/api/v1/me'));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="auth-page">
      <h1>Parley</h1>
      <form className="card auth-form" onSubmit={(e) => void submit(e)}>
        <h2>Enroll</h2>
        <p className="muted">Your station administrator gave you a handle and a one-time enrollment secret. Choose your password here.</p>
        <label htmlFor="enroll-handle">Handle</label>
        <input
          id="enroll-handle"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
        />
        <label htmlFor="enroll-secret">Enrollment secret</label>
        <input
          id="enroll-secret"
          autoComplete="one-time-code"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
        />
        <label htmlFor="enroll-password">New password</label>
        <input
          id="enroll-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD}
          aria-describedby="enroll-password-help"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <span id="enroll-password-help" className="field-help">
          At least {MIN_PASSWORD} characters.
        </span>
        <label htmlFor="enroll-confirm">New password, again</label>
        <input
          id="enroll-confirm"
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={confirm.length > 0 && confirm !== password}
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
        />
        {problem && !error && <p className="field-problem">{problem}</p>}
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <button type="submit" disabled={busy}>
          {busy ? 'Enrolling…' : 'Enroll and log in'}
        </button>
        <p className="muted">
          Already enrolled? <Link to="/login">Log in</Link>.
        </p>
      </form>
    </main>
  );
}

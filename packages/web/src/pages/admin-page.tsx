import type { AdminAddMemberResponse, AdminLinesResponse, AdminMembersResponse, AdminResetResponse, Member, Role } from '@parley/protocol';
import { ROLES } from '@parley/protocol/roles';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated } from '../api.js';
import { AcceptForm, InviteForm } from '../components/admin-invitations.js';
import { ErrorAlert } from '../components/alert.js';
import { HealthLamp } from '../components/health-lamp.js';
import { ROLE_LABEL } from '../components/roles.js';
import { useNow, useTitle } from '../hooks.js';
import { useSession } from '../session.js';
import { formatAgo, formatDate } from '../time-format.js';

const HANDLE = /^[a-z][a-z0-9_.-]{1,31}$/;

interface IssuedSecret {
  handle: string;
  secret: string;
  why: 'added' | 'reset';
}

export function AdminPage() {
  useTitle('Administration');
  const { sessionEnded } = useSession();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [membersError, setMembersError] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedSecret | null>(null);
  const [linesVersion, setLinesVersion] = useState(0);

  const loadMembers = useCallback(async () => {
    try {
      setMembers((await api<AdminMembersResponse>('GET', '/api/v1/admin/members')).members);
      setMembersError(null);
    } catch (e) {
      if (isUnauthenticated(e)) return sessionEnded();
      setMembersError(describeError(e));
    }
  }, [sessionEnded]);

  useEffect(() => {
    void loadMembers();
  }, [loadMembers]);

  return (
    <section className="page admin" aria-labelledby="admin-heading">
      <h1 id="admin-heading">Station administration</h1>
      {issued && <SecretPanel issued={issued} onDone={() => setIssued(null)} />}
      <div className="admin-grid">
        <section className="card panel" aria-labelledby="members-heading">
          <h2 id="members-heading">Members</h2>
          {membersError && <ErrorAlert onRetry={() => void loadMembers()}>{membersError}</ErrorAlert>}
          {members === null && !membersError && <p aria-busy="true">Loading members…</p>}
          {members && (
            <MembersTable
              members={members}
              onReset={(handle, secret) => {
                setIssued({ handle, secret, why: 'reset' });
                void loadMembers();
              }}
            />
          )}
        </section>
        <AddMemberForm
          onAdded={(r) => {
            setIssued({ handle: r.member.handle, secret: r.enrollmentSecret, why: 'added' });
            void loadMembers();
          }}
        />
      </div>
      <AdminLines version={linesVersion} />
      <div className="admin-grid admin-grid-even">
        <InviteForm members={members} onDone={() => setLinesVersion((v) => v + 1)} />
        <AcceptForm members={members} onDone={() => setLinesVersion((v) => v + 1)} />
      </div>
    </section>
  );
}

/** The one moment the secret exists outside the station's hash: shown once, focused, copyable. */
function SecretPanel({ issued, onDone }: { issued: IssuedSecret; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => ref.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="card secret-panel" role="alert" tabIndex={-1} ref={ref} aria-labelledby="secret-heading">
      <h2 id="secret-heading">{issued.why === 'added' ? `Member ${issued.handle} added` : `New enrollment secret for ${issued.handle}`}</h2>
      <p>
        Give this one-time enrollment secret to <strong>{issued.handle}</strong> over a trusted channel. It is shown only this once and
        expires in 7 days.
      </p>
      <p>
        <code className="secret" data-testid="enrollment-secret">
          {issued.secret}
        </code>
      </p>
      <div className="button-row">
        <button type="button" className="button-secondary" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy secret'}
        </button>
        <button type="button" onClick={onDone}>
          I have passed it on
        </button>
      </div>
    </div>
  );
}

function MembersTable({ members, onReset }: { members: Member[]; onReset: (handle: string, secret: string) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reset = async (m: Member) => {
    const what = m.enrolled
      ? `Issue a new enrollment secret for ${m.handle}? They keep their current password until they enroll again.`
      : `Issue a new enrollment secret for ${m.handle}? The previous secret stops working.`;
    if (!window.confirm(what)) return;
    setBusy(m.handle);
    setError(null);
    try {
      const r = await api<AdminResetResponse>('POST', `/api/v1/admin/members/${encodeURIComponent(m.handle)}/reset`);
      onReset(m.handle, r.enrollmentSecret);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  };
  if (members.length === 0) return <p className="muted">No members yet.</p>;
  return (
    <>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <div className="table-scroll">
        <table className="members">
          <thead>
            <tr>
              <th scope="col">Handle</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Enrolled</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.handle} data-handle={m.handle}>
                <th scope="row">{m.handle}</th>
                <td>{m.name}</td>
                <td>{ROLE_LABEL[m.role]}</td>
                <td>{m.enrolled ? 'yes' : 'not yet'}</td>
                <td>{formatDate(m.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    className="button-secondary"
                    disabled={busy !== null}
                    onClick={() => void reset(m)}
                    aria-label={`Reset enrollment of ${m.handle}`}
                  >
                    {busy === m.handle ? 'Resetting…' : 'Reset enrollment'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function AddMemberForm({ onAdded }: { onAdded: (r: AdminAddMemberResponse) => void }) {
  const [handle, setHandle] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('duty_officer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const handleProblem =
    handle.length > 0 && !HANDLE.test(handle)
      ? 'A handle is 2–32 characters: a lowercase letter, then lowercase letters, digits, . _ or -.'
      : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (handleProblem) return setError(handleProblem);
    setBusy(true);
    setError(null);
    try {
      const r = await api<AdminAddMemberResponse>('POST', '/api/v1/admin/members', { handle, name: name.trim(), role });
      // Only now, with the member stored, is the form cleared.
      setHandle('');
      setName('');
      onAdded(r);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card panel" onSubmit={(e) => void submit(e)} aria-labelledby="add-member-heading">
      <h2 id="add-member-heading">Add a member</h2>
      <label htmlFor="add-handle">Handle</label>
      <input
        id="add-handle"
        autoCapitalize="none"
        spellCheck={false}
        required
        value={handle}
        aria-invalid={handleProblem !== null}
        aria-describedby="add-handle-help"
        onChange={(e) => setHandle(e.target.value)}
      />
      <span id="add-handle-help" className={handleProblem ? 'field-problem' : 'field-help'}>
        {handleProblem ?? 'Lowercase; the member logs in with it.'}
      </span>
      <label htmlFor="add-name">Name and title</label>
      <input id="add-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="add-role">Role</label>
      <select id="add-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {ROLE_LABEL[r]}
          </option>
        ))}
      </select>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add member'}
      </button>
    </form>
  );
}

function AdminLines({ version }: { version: number }) {
  const [lines, setLines] = useState<AdminLinesResponse['lines'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new version (a line invited or accepted here) reloads at once
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const r = await api<AdminLinesResponse>('GET', '/api/v1/admin/lines');
        if (alive) {
          setLines(r.lines);
          setError(null);
        }
      } catch (e) {
        if (alive) setError(describeError(e));
      }
      if (alive) timer = setTimeout(() => void load(), 5000);
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [version]);
  return (
    <section className="card panel" aria-labelledby="admin-lines-heading">
      <h2 id="admin-lines-heading">All lines of this station</h2>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      {lines === null && !error && <p aria-busy="true">Loading lines…</p>}
      {lines?.length === 0 && <p className="muted">No lines yet. Invite another station below, or accept its invitation.</p>}
      {lines && lines.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Peer</th>
                <th scope="col">Health</th>
                <th scope="col">Last contact</th>
                <th scope="col">Our seats</th>
                <th scope="col">Backlog out / in</th>
                <th scope="col">Safety number</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={l.id}>
                  <th scope="row">{l.name}</th>
                  <td>{l.peer.name}</td>
                  <td>
                    <HealthLamp health={l.health} />
                  </td>
                  <td>{formatAgo(l.lastContactAt, now)}</td>
                  <td>{l.seats.map((s) => s.handle).join(', ') || '—'}</td>
                  <td>
                    {l.backlogOut} / {l.backlogIn}
                  </td>
                  <td>
                    <code className="safety-small" data-testid="line-safety-number">
                      {l.safetyNumber}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

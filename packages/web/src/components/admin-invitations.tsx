import type { AdminAcceptResponse, AdminInviteResponse, Member } from '@parley/protocol';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated } from '../api.js';
import { useSession } from '../session.js';
import { formatZulu } from '../time-format.js';
import { ErrorAlert } from './alert.js';

// The link ceremony from the web app, for an admin: invite another station to a line (the
// invitation text to hand to its operator) or accept one of theirs (then compare the safety
// number). The station runs the same code as `parley line invite` and `parley line accept`.
// Forms keep what was typed until the station has said yes; an error never clears them.

export const LINE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const INVITATION = /^parley1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Which members hold seats on our side: a fieldset of checkboxes, labelled, usable by keyboard. */
function SeatPicker({
  members,
  chosen,
  onChange,
  legend,
}: {
  members: Member[] | null;
  chosen: readonly string[];
  onChange: (next: string[]) => void;
  legend: string;
}) {
  const id = useId();
  if (members === null) return <p aria-busy="true">Loading members…</p>;
  // Administrators run the station; seats are for the officers on the line.
  const seatable = members.filter((m) => m.role !== 'admin');
  return (
    <fieldset className="seat-picker">
      <legend>{legend}</legend>
      {seatable.length === 0 && <p className="muted">No members who could hold a seat yet: add one above first.</p>}
      {seatable.map((m) => (
        <div key={m.handle} className="checkbox-row">
          <input
            type="checkbox"
            id={`${id}-${m.handle}`}
            checked={chosen.includes(m.handle)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, m.handle] : chosen.filter((h) => h !== m.handle))}
          />
          <label htmlFor={`${id}-${m.handle}`}>
            {m.handle} <span className="muted">— {m.name}</span>
          </label>
        </div>
      ))}
    </fieldset>
  );
}

/** Text shown once, focused, with a copy button (an invitation, a safety number). */
function CopyBox({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="copy-box">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} readOnly rows={4} value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      <div className="button-row">
        <button type="button" className="button-secondary" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        {copied === false && <span className="field-problem">This browser refused the clipboard: select the text and copy it.</span>}
      </div>
    </div>
  );
}

export function InviteForm({ members, onDone }: { members: Member[] | null; onDone: () => void }) {
  const { sessionEnded } = useSession();
  const [line, setLine] = useState('');
  const [seats, setSeats] = useState<string[]>([]);
  const [hours, setHours] = useState('24');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [made, setMade] = useState<AdminInviteResponse | null>(null);
  const result = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (made) result.current?.focus();
  }, [made]);
  const lineProblem =
    line.length > 0 && !LINE_NAME.test(line) ? 'A line name is 1–64 characters: a-z, 0-9, - and _, starting with a letter or digit.' : null;
  const ttl = Number(hours);
  const hoursProblem = !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 720) ? 'Between 1 and 720 hours (30 days).' : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = lineProblem ?? hoursProblem ?? (seats.length === 0 ? 'Choose at least one member to hold a seat on our side.' : null);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      const r = await api<AdminInviteResponse>('POST', '/api/v1/admin/lines/invitations', { line, seats, ttlHours: ttl });
      setMade(r);
      setLine('');
      setSeats([]);
      onDone();
    } catch (err) {
      if (isUnauthenticated(err)) return sessionEnded();
      setError(describeError(err)); // what was typed stays
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card panel" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite another station to a line</h2>
      {made && (
        <div className="invitation-made" role="status" tabIndex={-1} ref={result} data-testid="invitation-made">
          <p>
            Invitation to line <strong>{made.lineName}</strong>, usable once until {formatZulu(made.expiresAt, true)}. Send it to the other
            station’s operator. Once they accept it, the line appears below with its safety number: compare it with theirs over a channel
            you trust.
          </p>
          <CopyBox label="Invitation" value={made.invitation} testId="invitation-text" />
          <p className="muted">
            They should see our station as {made.station.name}, fingerprint <code>{made.station.fingerprint}</code>.
          </p>
          <button type="button" className="button-secondary" onClick={() => setMade(null)}>
            Done
          </button>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)} aria-labelledby="invite-heading" noValidate>
        <label htmlFor="invite-line">Line name</label>
        <input
          id="invite-line"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={line}
          aria-invalid={lineProblem !== null}
          aria-describedby="invite-line-help"
          onChange={(e) => setLine(e.target.value)}
        />
        <span id="invite-line-help" className={lineProblem ? 'field-problem' : 'field-help'}>
          {lineProblem ?? 'For example chiefs-of-staff. The other station may give it another name of its own.'}
        </span>
        <SeatPicker members={members} chosen={seats} onChange={setSeats} legend="Seats on our side" />
        <label htmlFor="invite-hours">Valid for (hours)</label>
        <input
          id="invite-hours"
          type="number"
          inputMode="numeric"
          min={1}
          max={720}
          value={hours}
          aria-invalid={hoursProblem !== null}
          aria-describedby="invite-hours-help"
          onChange={(e) => setHours(e.target.value)}
        />
        <span id="invite-hours-help" className={hoursProblem ? 'field-problem' : 'field-help'}>
          {hoursProblem ?? 'The invitation can be used once within this time.'}
        </span>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create invitation'}
        </button>
      </form>
    </section>
  );
}

export function AcceptForm({ members, onDone }: { members: Member[] | null; onDone: () => void }) {
  const { sessionEnded } = useSession();
  const [text, setText] = useState('');
  const [seats, setSeats] = useState<string[]>([]);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [linked, setLinked] = useState<AdminAcceptResponse | null>(null);
  const result = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (linked) result.current?.focus();
  }, [linked]);
  const trimmed = text.trim();
  const textProblem = trimmed.length > 0 && !INVITATION.test(trimmed) ? 'An invitation is one line that starts with parley1.' : null;
  const nameProblem = name.length > 0 && !LINE_NAME.test(name) ? 'A line name is 1–64 characters: a-z, 0-9, - and _.' : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem =
      (trimmed.length === 0 ? 'Paste the invitation the other station’s operator sent you.' : textProblem) ??
      nameProblem ??
      (seats.length === 0 ? 'Choose at least one member to hold a seat on our side.' : null);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      const r = await api<AdminAcceptResponse>('POST', '/api/v1/admin/lines/accept', {
        invitation: trimmed,
        seats,
        ...(name ? { name } : {}),
      });
      setLinked(r);
      setText('');
      setSeats([]);
      setName('');
      onDone();
    } catch (err) {
      if (isUnauthenticated(err)) return sessionEnded();
      setError(describeError(err)); // what was pasted and chosen stays
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card panel" aria-labelledby="accept-heading">
      <h2 id="accept-heading">Accept an invitation</h2>
      {linked && (
        <div className="invitation-made" role="status" tabIndex={-1} ref={result} data-testid="line-linked">
          <p>
            Line <strong>{linked.lineName}</strong> is linked with station {linked.peer.name} (fingerprint{' '}
            <code>{linked.peer.fingerprint}</code>). Read this safety number to the other operator over a channel you trust; theirs must be
            the same:
          </p>
          <p className="safety-plain" data-testid="accepted-safety-number">
            {linked.safetyNumber}
          </p>
          <button type="button" className="button-secondary" onClick={() => setLinked(null)}>
            Done
          </button>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)} aria-labelledby="accept-heading" noValidate>
        <label htmlFor="accept-text">Invitation from the other station</label>
        <textarea
          id="accept-text"
          rows={4}
          spellCheck={false}
          value={text}
          aria-invalid={textProblem !== null}
          aria-describedby="accept-text-help"
          onChange={(e) => setText(e.target.value)}
        />
        <span id="accept-text-help" className={textProblem ? 'field-problem' : 'field-help'}>
          {textProblem ?? 'This station checks its signature, then contacts the inviting station.'}
        </span>
        <SeatPicker members={members} chosen={seats} onChange={setSeats} legend="Seats on our side" />
        <label htmlFor="accept-name">Our name for the line (optional)</label>
        <input
          id="accept-name"
          autoCapitalize="none"
          spellCheck={false}
          value={name}
          aria-invalid={nameProblem !== null}
          aria-describedby="accept-name-help"
          onChange={(e) => setName(e.target.value)}
        />
        <span id="accept-name-help" className={nameProblem ? 'field-problem' : 'field-help'}>
          {nameProblem ?? 'Leave empty to use the inviting station’s name for it.'}
        </span>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <button type="submit" disabled={busy}>
          {busy ? 'Linking…' : 'Accept invitation'}
        </button>
      </form>
    </section>
  );
}

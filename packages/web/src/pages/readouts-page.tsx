import type { LineSummary, Readout } from '@parley/protocol';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated } from '../api.js';
import { ErrorAlert, Notice } from '../components/alert.js';
import { useTitle } from '../hooks.js';
import { Link } from '../router.js';
import { linePath } from '../routes.js';
import { useSession } from '../session.js';

// A line's readouts for its press officers: draft one (in one or two languages) citing the
// contacts it describes, then publish it to the station's public feed. Citations are entries of
// the line's joint record; the station refuses one that does not exist or is not a contact.

/** What this page reads of a record entry (GET /api/v1/lines/:line/record?entries=true). */
interface EntryView {
  index: number;
  type: string;
  at: string;
  by: { side: string; handle?: string };
  callId?: string;
  urgency?: string;
  dir?: string;
}

/** Entries a readout may cite: call events and message traffic (isContact of @parley/record). */
function isContact(e: EntryView): boolean {
  return e.type.startsWith('call_') || e.type === 'items';
}

export function entryLabel(e: EntryView): string {
  const who = e.by.handle ? ` by ${e.by.side}/${e.by.handle}` : '';
  if (e.type === 'items')
    return `#${e.index} messages ${e.dir === 'inviter_to_acceptor' ? 'inviter → acceptor' : 'acceptor → inviter'} · ${e.at}`;
  const what = e.type.replace(/^call_/, '');
  return `#${e.index} call ${e.callId ?? ''} ${what}${e.urgency ? ` (${e.urgency})` : ''}${who} · ${e.at}`;
}

export function ReadoutsPage({ line }: { line: string }) {
  useTitle(`Readouts · ${line}`);
  const { session, sessionEnded, queue } = useSession();
  const [readouts, setReadouts] = useState<Readout[] | null>(null);
  const [entries, setEntries] = useState<EntryView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const mayWrite = session.member.role === 'press_officer' || session.member.role === 'admin';

  const load = useCallback(async () => {
    try {
      const [list, record] = await Promise.all([
        api<{ readouts: Readout[] }>('GET', `/api/v1/lines/${encodeURIComponent(line)}/readouts`),
        api<{ entries?: EntryView[] }>('GET', `/api/v1/lines/${encodeURIComponent(line)}/record?entries=true`),
      ]);
      setReadouts(list.readouts);
      setEntries((record.entries ?? []).filter(isContact));
      setError(null);
    } catch (e) {
      if (isUnauthenticated(e)) return sessionEnded();
      setError(describeError(e));
    }
  }, [line, sessionEnded]);

  useEffect(() => {
    void load();
  }, [load]);

  const publish = async (r: Readout) => {
    try {
      setError(null);
      await api('POST', `/api/v1/lines/${encodeURIComponent(line)}/readouts/${encodeURIComponent(r.id)}/publish`);
      setNotice(`“${r.title}” is published on this station's public feed.`);
      await load();
    } catch (e) {
      if (isUnauthenticated(e)) return sessionEnded();
      setError(describeError(e));
    }
  };

  // Shown in advance as an ordinary end-to-end encrypted message (the station never sees it in
  // clear), then marked shared at the station.
  const share = async (r: Readout) => {
    try {
      setError(null);
      const alt = r.textAlt !== undefined ? `\n\n[${r.langAlt}]\n${r.textAlt}` : '';
      await queue.add(line, `Draft readout, not yet published: ${r.title}\n\n${r.text}${alt}`, { lang: r.lang });
      await api('POST', `/api/v1/lines/${encodeURIComponent(line)}/readouts/${encodeURIComponent(r.id)}/share`);
      setNotice(`“${r.title}” is sent to the other side as an encrypted message; it is not published.`);
      await load();
    } catch (e) {
      if (isUnauthenticated(e)) return sessionEnded();
      setError(describeError(e));
    }
  };

  return (
    <section className="page readouts" aria-labelledby="readouts-heading">
      <p>
        <Link to={linePath(line)}>← Back to {line}</Link>
      </p>
      <h1 id="readouts-heading">Readouts of {line}</h1>
      <p className="muted">
        A published readout is public: it appears on <a href="/public/readouts">this station's public feed</a> (also as{' '}
        <a href="/public/readouts.atom">Atom</a> and <a href="/public/readouts.json">JSON</a>), and its content hash and the contacts it
        cites go into the line's joint record, which both stations sign.
      </p>
      {notice && <Notice>{notice}</Notice>}
      {error && <ErrorAlert onRetry={() => void load()}>{error}</ErrorAlert>}
      {mayWrite ? (
        <DraftForm line={line} entries={entries} onDrafted={() => void load()} />
      ) : (
        <p>Readouts are drafted and published by press officers.</p>
      )}
      <section aria-labelledby="readout-list-heading">
        <h2 id="readout-list-heading">Readouts</h2>
        {readouts === null && !error && <p aria-busy="true">Loading readouts…</p>}
        {readouts?.length === 0 && <p>No readouts yet.</p>}
        <ul className="readout-list">
          {readouts?.map((r) => (
            <li key={r.id} className="card" data-testid="readout" data-status={r.status}>
              <h3 lang={r.lang}>{r.title}</h3>
              <p className="muted">
                {r.publishedAt !== null ? <>published {new Date(r.publishedAt).toISOString()}</> : r.status} · by {r.author}
                {r.cites.length > 0 && <> · cites record entries {r.cites.join(', ')}</>}
              </p>
              <p lang={r.lang} className="readout-text">
                {r.text}
              </p>
              {r.textAlt !== undefined && (
                <p lang={r.langAlt} className="readout-text">
                  {r.textAlt}
                </p>
              )}
              {r.status === 'draft' && mayWrite && (
                <button type="button" className="button-secondary" onClick={() => void share(r)}>
                  Show “{r.title}” to the other side in advance
                </button>
              )}{' '}
              {r.status !== 'published' && mayWrite && (
                <button type="button" onClick={() => void publish(r)}>
                  Publish “{r.title}”
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}

function DraftForm({ line, entries, onDrafted }: { line: string; entries: EntryView[]; onDrafted: () => void }) {
  const { sessionEnded } = useSession();
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [lang, setLang] = useState('en');
  const [textAlt, setTextAlt] = useState('');
  const [langAlt, setLangAlt] = useState('');
  const [cites, setCites] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The line's working languages (issue 9): a readout starts in ours, and suggests theirs second.
  const [peerLang, setPeerLang] = useState<string | undefined>(undefined);
  const langTouched = useRef(false);
  useEffect(() => {
    let alive = true;
    api<LineSummary>('GET', `/api/v1/lines/${encodeURIComponent(line)}`).then(
      (s) => {
        if (!alive) return;
        const ours = s.languages?.ours[0];
        if (ours && !langTouched.current) setLang(ours);
        setPeerLang(s.languages?.peer[0]);
      },
      () => undefined, // the form still works with the defaults
    );
    return () => {
      alive = false;
    };
  }, [line]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      setError(null);
      const alt = textAlt.trim() !== '' || langAlt.trim() !== '' ? { textAlt, langAlt: langAlt.trim() } : {};
      await api('POST', `/api/v1/lines/${encodeURIComponent(line)}/readouts`, { title, text, lang: lang.trim(), cites, ...alt });
      setTitle('');
      setText('');
      setTextAlt('');
      setLangAlt('');
      setCites([]);
      onDrafted();
    } catch (err) {
      if (isUnauthenticated(err)) return sessionEnded();
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (i: number) => setCites((c) => (c.includes(i) ? c.filter((x) => x !== i) : [...c, i].sort((a, b) => a - b)));

  return (
    <form className="card panel" onSubmit={(e) => void submit(e)} aria-labelledby="draft-heading">
      <h2 id="draft-heading">Draft a readout</h2>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
      </label>
      <label>
        Language (BCP 47, e.g. en, ru)
        <input
          value={lang}
          onChange={(e) => {
            langTouched.current = true;
            setLang(e.target.value);
          }}
          required
          maxLength={35}
        />
      </label>
      <label>
        Text
        <textarea value={text} onChange={(e) => setText(e.target.value)} required rows={5} />
      </label>
      <details>
        <summary>Second language (optional)</summary>
        <label>
          Second language
          <input
            value={langAlt}
            onChange={(e) => setLangAlt(e.target.value)}
            maxLength={35}
            placeholder={peerLang ? `${peerLang} (the other side’s)` : undefined}
          />
        </label>
        <label>
          Text in the second language
          <textarea value={textAlt} onChange={(e) => setTextAlt(e.target.value)} rows={5} />
        </label>
      </details>
      <fieldset>
        <legend>Contacts it describes (entries of the line's joint record)</legend>
        {entries.length === 0 && <p className="muted">No calls or messages recorded on this line yet.</p>}
        {entries.map((e) => (
          <label key={e.index} className="check">
            <input type="checkbox" checked={cites.includes(e.index)} onChange={() => toggle(e.index)} /> {entryLabel(e)}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy}>
        Save draft
      </button>
    </form>
  );
}

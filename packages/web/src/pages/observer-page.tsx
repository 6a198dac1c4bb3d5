import type { PublicCitation, PublicReadoutFeed } from '@parley/protocol';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { ErrorAlert } from '../components/alert.js';
import { useTitle } from '../hooks.js';

// The observer page (public, no login): two stations' public readout feeds side by side. Both
// stations' joint records of a line hold the same entries at the same indices, so two readouts
// citing the same (line, entry index) describe the same contact. Each column shows its station's
// fingerprint and the cited entry (type and time) as that station's record states it: the proof
// the contact happened, while what was said in it stays private.

type Feed = PublicReadoutFeed;
type FeedReadout = Feed['readouts'][number];

interface Contact {
  key: string;
  lineName: string;
  lineId: string;
  index: number;
  entry: { a?: PublicCitation; b?: PublicCitation };
  a: FeedReadout[];
  b: FeedReadout[];
}

async function loadFeed(base: string): Promise<Feed> {
  const url = `${base.replace(/\/+$/, '')}/public/readouts.json`;
  let res: Response;
  try {
    res = await fetch(url, { credentials: 'omit' });
  } catch {
    throw new Error(`cannot reach ${url}`);
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const json = (await res.json()) as Feed;
  if (json.format !== 'parley-readouts-v1' || !Array.isArray(json.readouts)) throw new Error(`${url} is not a Parley readout feed`);
  return json;
}

/** Readouts of both feeds grouped by the contact they cite; readouts citing nothing are left out here. */
export function sideBySide(a: Feed, b: Feed): Contact[] {
  const contacts = new Map<string, Contact>();
  const add = (feed: Feed, col: 'a' | 'b') => {
    for (const r of feed.readouts) {
      for (const c of r.cites) {
        const key = `${r.line.id}#${c.index}`;
        let contact = contacts.get(key);
        if (!contact) {
          contact = { key, lineName: r.line.name, lineId: r.line.id, index: c.index, entry: {}, a: [], b: [] };
          contacts.set(key, contact);
        }
        contact.entry[col] = c;
        if (!contact[col].includes(r)) contact[col].push(r);
      }
    }
  };
  add(a, 'a');
  add(b, 'b');
  return [...contacts.values()].sort((x, y) => {
    const tx = x.entry.a?.at ?? x.entry.b?.at ?? '';
    const ty = y.entry.a?.at ?? y.entry.b?.at ?? '';
    return ty.localeCompare(tx);
  });
}

export function ObserverPage() {
  useTitle('Observer');
  const params = new URLSearchParams(location.search);
  const [a, setA] = useState(params.get('a') ?? '');
  const [b, setB] = useState(params.get('b') ?? '');
  const [feeds, setFeeds] = useState<{ a: Feed; b: Feed } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (ua: string, ub: string) => {
    setBusy(true);
    setError(null);
    try {
      const [fa, fb] = await Promise.all([loadFeed(ua), loadFeed(ub)]);
      setFeeds({ a: fa, b: fb });
    } catch (e) {
      setFeeds(null);
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: load once with the addresses in the URL
  useEffect(() => {
    if (a && b) void load(a, b);
  }, []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    history.replaceState(null, '', `/observer?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    void load(a, b);
  };

  const contacts = useMemo(() => (feeds ? sideBySide(feeds.a, feeds.b) : []), [feeds]);

  return (
    <main id="main" className="page observer" aria-labelledby="observer-heading">
      <h1 id="observer-heading">Readouts side by side</h1>
      <p className="muted">
        Two stations' public readouts of the same contacts. A contact is an entry of the line's joint record, which both stations hold and
        sign; its type and time are shown as each station states them. What was said stays private.
      </p>
      <form onSubmit={onSubmit} className="card panel observer-form">
        <label>
          First station's address
          <input type="url" value={a} onChange={(e) => setA(e.target.value)} required placeholder="https://station-a.example" />
        </label>
        <label>
          Second station's address
          <input type="url" value={b} onChange={(e) => setB(e.target.value)} required placeholder="https://station-b.example" />
        </label>
        <button type="submit" disabled={busy}>
          Compare
        </button>
      </form>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      {busy && <p aria-busy="true">Loading both feeds…</p>}
      {feeds && (
        <>
          <table className="observer-stations">
            <caption>Stations</caption>
            <tbody>
              <tr>
                <th scope="row">{feeds.a.station.name}</th>
                <td>
                  fingerprint <code>{feeds.a.station.fingerprint}</code>
                </td>
              </tr>
              <tr>
                <th scope="row">{feeds.b.station.name}</th>
                <td>
                  fingerprint <code>{feeds.b.station.fingerprint}</code>
                </td>
              </tr>
            </tbody>
          </table>
          {contacts.length === 0 && <p>Neither station has published a readout citing a contact.</p>}
          {contacts.map((c) => (
            <section
              key={c.key}
              className="observer-contact"
              data-testid="observer-contact"
              aria-label={`line ${c.lineName}, record entry ${c.index}`}
            >
              <h2>
                Line {c.lineName}, record entry {c.index}
              </h2>
              <div className="observer-columns">
                <Column feed={feeds.a} cited={c.entry.a} readouts={c.a} />
                <Column feed={feeds.b} cited={c.entry.b} readouts={c.b} />
              </div>
            </section>
          ))}
        </>
      )}
    </main>
  );
}

function Column({ feed, cited, readouts }: { feed: Feed; cited: PublicCitation | undefined; readouts: FeedReadout[] }) {
  return (
    <div className="observer-column card" data-testid="observer-column" data-station={feed.station.name}>
      <h3>{feed.station.name}</h3>
      <p className="muted">
        fingerprint <code>{feed.station.fingerprint}</code>
      </p>
      {cited ? (
        <p className="observer-proof">
          Recorded: <strong>{cited.what}</strong> ({cited.type}) at <time dateTime={cited.at}>{cited.at}</time>
        </p>
      ) : (
        <p className="muted">This station has no readout of this contact.</p>
      )}
      {readouts.map((r) => (
        <article key={r.id} data-testid="observer-readout">
          <h4 lang={r.lang}>{r.title}</h4>
          <p className="muted">
            by {r.author} · published <time dateTime={r.publishedAt}>{r.publishedAt}</time>
          </p>
          <p lang={r.lang} className="readout-text">
            {r.text}
          </p>
          {r.textAlt !== undefined && (
            <p lang={r.langAlt} className="readout-text">
              {r.textAlt}
            </p>
          )}
          <p className="muted">
            content SHA-256 <code>{r.contentHash}</code>; record {r.record.size} entries
            {r.record.cosigned && (
              <>
                , cosigned head {r.record.cosigned.size} <code>{r.record.cosigned.rootHash}</code>
              </>
            )}
          </p>
        </article>
      ))}
    </div>
  );
}

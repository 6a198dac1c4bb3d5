import type { LineSummary } from '@parley/protocol';
import { createContext, type FormEvent, type ReactNode, useContext, useId, useState } from 'react';
import { api, describeError } from '../api.js';
import type { Me } from '../calls.js';
import type { LineEngine, LineRecord } from '../e2ee/line-engine.js';
import { formatZulu } from '../time-format.js';
import {
  type LineLangs,
  type MessageRef,
  type QueueEntry,
  type Rendering,
  readingMark,
  refKey,
  refOf,
  type Side,
  type TranslationVersion,
} from '../translations.js';
import { newClientId } from '../use-calls.js';
import { ErrorAlert } from './alert.js';

// Translations in the conversation (issue 9): beside each message, its renderings (ours and the
// other side's, latest shown, earlier versions kept) or a mark that one is pending; for an
// interpreter, the queue of messages awaiting translation into our side's language, a form to
// translate or revise, and an alarm while a flash message waits. The logic is in translations.ts.

export interface TranslationsView {
  line: string;
  engine: LineEngine | null;
  me: Me | null;
  ourSide: Side;
  ourName: string;
  peerName: string;
  langs: LineLangs;
  byOriginal: ReadonlyMap<string, readonly Rendering[]>;
}

const Ctx = createContext<TranslationsView | null>(null);

export function TranslationsProvider({ value, children }: { value: TranslationsView | null; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The line's working languages as the summary gives them (empty lists from an older station). */
export function lineLangs(summary: LineSummary | null): LineLangs {
  return { ours: summary?.languages?.ours ?? [], peer: summary?.languages?.peer ?? [] };
}

/** Encrypt a translation on this device and hand it to our station (POST …/translations). */
async function sendTranslation(view: TranslationsView, of: MessageRef, lang: string, text: string, clientId: string): Promise<void> {
  if (!view.engine) throw new Error('This device’s end-to-end encryption is not ready yet.');
  const sealed = await view.engine.seal({ clientId, text, lang });
  if ('membership' in sealed) {
    throw new Error(
      sealed.membership === 'waiting'
        ? 'This device is not in the line’s encrypted group yet; try again in a moment.'
        : 'This device was removed from the line’s encrypted group.',
    );
  }
  await api('POST', `/api/v1/lines/${encodeURIComponent(view.line)}/translations`, { of, lang, body: sealed.payload, clientId });
}

function TranslateForm({
  view,
  of,
  into,
  initial,
  label,
  onDone,
}: {
  view: TranslationsView;
  of: MessageRef;
  into: string;
  initial: string;
  label: string;
  onDone?: () => void;
}) {
  const id = useId();
  const [text, setText] = useState(initial);
  const [lang, setLang] = useState(into);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One client id per form: a retry after a lost answer is the same translation, not a second one.
  const [clientId, setClientId] = useState(newClientId);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (text.trim() === '' || busy) return;
    setBusy(true);
    setError(null);
    try {
      await sendTranslation(view, of, lang, text, clientId);
      setClientId(newClientId());
      onDone?.();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="translate-form" onSubmit={(e) => void submit(e)} data-of={refKey(of)}>
      <label htmlFor={`${id}-t`}>{label}</label>
      <textarea id={`${id}-t`} rows={2} value={text} lang={lang} onChange={(e) => setText(e.target.value)} />
      <div className="translate-form-row">
        <label>
          Into{' '}
          <select value={lang} onChange={(e) => setLang(e.target.value)}>
            {[...new Set([into, ...view.langs.ours])].map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || text.trim() === ''}>
          {busy ? 'Sending…' : 'Send translation'}
        </button>
        {onDone && (
          <button type="button" className="button-secondary" onClick={onDone}>
            Close
          </button>
        )}
      </div>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </form>
  );
}

function Version({ v, lang }: { v: TranslationVersion; lang: string }) {
  return (
    <>
      {v.text !== null ? (
        <p className="translation-text" lang={lang}>
          {v.text}
        </p>
      ) : (
        <p className="message-note note-refused">This device cannot read this translation: {v.error}</p>
      )}
      {v.archived && (
        <p className="message-note note-info" data-mark="archived">
          From your station’s recorder archive (not verified by this device)
        </p>
      )}
      {v.warning && <p className="message-note note-warning">{v.warning}</p>}
    </>
  );
}

function RenderingView({ r, record, view }: { r: Rendering; record: LineRecord; view: TranslationsView }) {
  const [revising, setRevising] = useState(false);
  const station = r.side === view.ourSide ? view.ourName : view.peerName;
  const revised = r.earlier.length > 0;
  // The writer sees how the other side rendered their message.
  const heading =
    record.dir === 'out' && r.byOtherSide
      ? `How ${view.peerName} rendered it`
      : r.byOtherSide
        ? 'Translation by the other side'
        : 'Translation';
  const mayRevise = view.me?.role === 'interpreter' && !r.byOtherSide && !!view.engine;
  return (
    <div
      className={`translation${r.byOtherSide ? ' translation-other-side' : ''}`}
      data-lang={r.lang}
      data-side={r.side}
      data-by-other-side={r.byOtherSide ? 'true' : 'false'}
      data-revised={revised ? 'true' : 'false'}
    >
      <p className="translation-head">
        <span className="translation-title">{heading}</span> <span className="lang">{r.lang}</span>{' '}
        <span className="muted">
          by {r.latest.by.handle}@{station}
          {r.byOtherSide ? ` (${view.peerName}’s interpreter)` : ''} · {formatZulu(r.latest.at, true)}
        </span>
        {revised && (
          <span className="translation-mark translation-revised" data-mark="revised">
            {' '}
            · revised ({r.earlier.length === 1 ? '1 earlier version' : `${r.earlier.length} earlier versions`})
          </span>
        )}
      </p>
      <Version v={r.latest} lang={r.lang} />
      {revised && (
        <details className="translation-history">
          <summary>Earlier versions</summary>
          <ol>
            {r.earlier.map((v) => (
              <li key={v.pos} data-pos={v.pos}>
                <span className="muted">
                  {v.by.handle} · {formatZulu(v.at, true)}
                </span>
                <Version v={v} lang={r.lang} />
              </li>
            ))}
          </ol>
        </details>
      )}
      {mayRevise &&
        (revising ? (
          <TranslateForm
            view={view}
            of={refOf(record, view.ourSide)}
            into={r.lang}
            initial={r.latest.text ?? ''}
            label="Revised translation"
            onDone={() => setRevising(false)}
          />
        ) : (
          <button type="button" className="button-secondary button-small" onClick={() => setRevising(true)}>
            Revise
          </button>
        ))}
    </div>
  );
}

/** Beside a message: its translations, or that one into our language is pending. */
export function MessageTranslations({ record }: { record: LineRecord }) {
  const view = useContext(Ctx);
  const [translating, setTranslating] = useState(false);
  if (!view) return null;
  const renderings = view.byOriginal.get(refKey(refOf(record, view.ourSide))) ?? [];
  const mark = readingMark(record, renderings, view.langs);
  if (renderings.length === 0 && mark.kind !== 'pending') return null;
  const interpreter = view.me?.role === 'interpreter' && !!view.engine;
  return (
    <div className="message-translations" data-mark={mark.kind}>
      {mark.kind === 'pending' && (
        <p className="translation-mark translation-pending" data-mark="pending">
          <span aria-hidden="true">⧗ </span>Translation into {mark.into} pending
        </p>
      )}
      {renderings.map((r) => (
        <RenderingView key={`${r.side}:${r.lang}`} r={r} record={record} view={view} />
      ))}
      {interpreter &&
        mark.kind === 'pending' &&
        (translating ? (
          <TranslateForm
            view={view}
            of={refOf(record, view.ourSide)}
            into={mark.into}
            initial=""
            label="Translation"
            onDone={() => setTranslating(false)}
          />
        ) : (
          <button type="button" className="button-secondary button-small" onClick={() => setTranslating(true)}>
            Translate
          </button>
        ))}
    </div>
  );
}

const URGENCY_TEXT = { flash: 'Flash', immediate: 'Immediate' } as const;

/** An interpreter's queue: what awaits translation into our side's language, most urgent and oldest first. */
export function InterpreterQueue({ view, queue }: { view: TranslationsView; queue: readonly QueueEntry[] }) {
  const into = view.langs.ours[0];
  return (
    <section className="panel interpreter-queue" aria-labelledby="interpreter-queue-heading" data-testid="interpreter-queue">
      <h2 id="interpreter-queue-heading">
        Interpreter queue{' '}
        <span className="count" data-count={queue.length}>
          {queue.length}
        </span>
      </h2>
      {!into ? (
        <p className="muted">
          Your side of this line has no working language yet, so there is nothing to translate into. An administrator sets it with{' '}
          <code>parley line languages</code>.
        </p>
      ) : queue.length === 0 ? (
        <p className="muted">Nothing awaits translation into {into}.</p>
      ) : (
        <ol className="queue-list">
          {queue.map((q) => (
            <li
              key={q.record.pos}
              className={`queue-entry${q.urgency ? ` queue-${q.urgency}` : ''}`}
              data-of={refKey(q.ref)}
              data-urgency={q.urgency ?? 'none'}
            >
              <p className="queue-meta">
                {q.urgency && <span className={`urgency urgency-${q.urgency}`}>{URGENCY_TEXT[q.urgency]}</span>}{' '}
                <span className="sender">{q.record.envelope.handle}</span>
                <span className="muted">
                  @{q.record.envelope.station} · {formatZulu(q.record.sentAt, true)}
                </span>{' '}
                {q.lang && <span className="lang">{q.lang}</span>}
              </p>
              <p className="queue-original" lang={q.lang}>
                {q.text}
              </p>
              <TranslateForm view={view} of={q.ref} into={q.into} initial="" label={`Translation into ${q.into}`} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** While a message tied to a flash call request waits for its translation, the interpreters on duty are alerted. */
export function FlashTranslationAlert({ alerts }: { alerts: readonly QueueEntry[] }) {
  if (alerts.length === 0) return null;
  return (
    <div className="call-alerts call-alerts-alarm" role="alert" data-testid="translation-alerts">
      <ul className="call-alerts-list">
        {alerts.map((a) => (
          <li key={a.record.pos} data-level="alarm" data-of={refKey(a.ref)}>
            <span aria-hidden="true">⚠ </span>
            FLASH message from {a.record.envelope.handle}@{a.record.envelope.station} awaits translation into {a.into}: translate it now
          </li>
        ))}
      </ul>
    </div>
  );
}

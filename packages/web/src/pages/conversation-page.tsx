import { type FormEvent, type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from 'react';
import { ErrorAlert } from '../components/alert.js';
import { CallAlertBanner, CallsPanel, callAnchor } from '../components/calls-panel.js';
import { ContactHistoryPanel } from '../components/contact-history-panel.js';
import { HealthLamp } from '../components/health-lamp.js';
import { RosterPanel } from '../components/roster-panel.js';
import {
  FlashTranslationAlert,
  InterpreterQueue,
  lineLangs,
  MessageTranslations,
  TranslationsProvider,
  type TranslationsView,
} from '../components/translations-panel.js';
import { defaultWritingLang, flashAlerts, interpreterQueue, translationsByOriginal } from '../translations.js';
import { describeError } from '../api.js';
import { callAlerts, callSecrets, lastCallPos, testAlerts } from '../calls.js';
import type { LineRecord, Membership } from '../e2ee/line-engine.js';
import { useNow, useOnline, usePending, useTitle } from '../hooks.js';
import type { ConnectionStatus } from '../line-connection.js';
import { contentBytes, MAX_CONTENT_BYTES } from '../message-codec.js';
import type { Reader } from '../receipts.js';
import { Link } from '../router.js';
import { readoutsPath } from '../routes.js';
import { useSession } from '../session.js';
import { formatAgo, formatZulu } from '../time-format.js';
import {
  beforeJoinCount,
  type DeliveryState,
  translationsBeforeJoinCount,
  isMessageRecord,
  type TimelineEntry,
  timelineEntries,
} from '../timeline.js';
import { meOn, useCalls } from '../use-calls.js';
import { type ConversationState, useConversation } from '../use-conversation.js';
import { useReadReceipts } from '../use-read-receipts.js';

export function ConversationPage({ line }: { line: string }) {
  useTitle(line);
  const { session, queue, readMarks } = useSession();
  const conv = useConversation(line);
  const pending = usePending(queue);
  const online = useOnline();
  const now = useNow();
  const connected = conv.status === 'open';
  const linePending = useMemo(() => pending.filter((p) => p.line === line), [pending, line]);
  const entries = useMemo(
    () => timelineEntries(conv.timeline, linePending, { connected, inFlight: conv.inFlight, side: conv.summary?.side }),
    [conv.timeline, linePending, connected, conv.inFlight, conv.summary?.side],
  );
  useReadReceipts(line, conv);
  // Where "new since you last read" starts: the mark as it was when the page opened.
  const [readAtOpen] = useState(() => readMarks.get(line));
  const firstUnread = entries.find((e) => e.kind === 'record' && e.record.dir === 'in' && e.record.pos > readAtOpen)?.key;
  const messageRecords = useMemo(() => conv.timeline.records.filter(isMessageRecord), [conv.timeline.records]);
  const groupVersion = conv.timeline.records.length - messageRecords.length + (conv.membership === 'member' ? 1 : 0);

  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === 'visible' && conv.timeline.cursor > 0) readMarks.markRead(line, conv.timeline.cursor);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [conv.timeline.cursor, line, readMarks]);

  const peerName = conv.summary?.peer.name ?? 'the peer station';
  const ourName = session.station.name;
  // The calls list follows the stream: reloaded whenever a call event arrives, never polled.
  const callsVersion = lastCallPos(conv.timeline.records);
  const calls = useCalls(line, conv.engine, callsVersion);
  const me = useMemo(() => meOn(conv.summary, session), [conv.summary, session]);
  const secrets = useMemo(() => callSecrets(conv.timeline.records), [conv.timeline.records]);
  const signals = useMemo(() => conv.timeline.records.filter((r) => r.body.t === 'signal'), [conv.timeline.records]);
  const voice = useMemo(
    () => ({ line, engine: conv.engine, signals, ourStation: session.station.name }),
    [line, conv.engine, signals, session],
  );
  const alerts = useMemo(() => (calls.calls && me ? callAlerts(calls.calls, me, peerName) : []), [calls.calls, me, peerName]);
  const tests = useMemo(() => (me ? testAlerts(calls.tests, me, peerName) : []), [calls.tests, me, peerName]);
  // Two languages (issue 9): translations beside their originals; an interpreter's queue and flash alarm.
  const langs = useMemo(() => lineLangs(conv.summary), [conv.summary]);
  const ourSide = conv.summary?.side ?? 'inviter';
  const byOriginal = useMemo(() => translationsByOriginal(conv.translations.records, ourSide), [conv.translations.records, ourSide]);
  const trView = useMemo<TranslationsView>(
    () => ({ line, engine: conv.engine, me, ourSide, ourName, peerName, langs, byOriginal }),
    [line, conv.engine, me, ourSide, ourName, peerName, langs, byOriginal],
  );
  const trQueue = useMemo(
    () =>
      me?.role === 'interpreter' ? interpreterQueue(conv.timeline.records, byOriginal, { ourSide, langs, calls: calls.calls ?? [] }) : [],
    [me, conv.timeline.records, byOriginal, ourSide, langs, calls.calls],
  );
  const flash = useMemo(() => flashAlerts(trQueue), [trQueue]);
  const showCall = (callId: string) => {
    const el = document.getElementById(callAnchor(callId));
    if (el) {
      el.closest('details')?.setAttribute('open', '');
      el.scrollIntoView({ block: 'center' });
      el.focus();
    }
  };

  if (conv.summaryError?.notSeated) {
    return (
      <section className="page">
        <h1>{line}</h1>
        <ErrorAlert>{conv.summaryError.message}</ErrorAlert>
        <p>
          <Link to="/">Back to your lines</Link>
        </p>
      </section>
    );
  }

  return (
    <div className="conversation-layout">
      <section className="conversation" aria-labelledby="conversation-heading">
        <header className="conversation-head">
          <div>
            <h1 id="conversation-heading">{line}</h1>
            <p className="muted">
              with station {peerName}
              {conv.health && <> · last contact {formatAgo(conv.health.lastContactAt, now)}</>}
              {' · '}
              <Link to={readoutsPath(line)}>Readouts</Link>
            </p>
          </div>
          {conv.health && <HealthLamp health={conv.health.health} />}
        </header>
        <ConnectionBanner status={online ? conv.status : 'offline'} detail={conv.statusDetail} />
        <CallAlertBanner alerts={alerts} onShow={showCall} />
        <CallAlertBanner alerts={tests} testId="test-alerts" />
        <FlashTranslationAlert alerts={flash} />
        <EncryptionBanner conv={conv} />
        {conv.summaryError && <ErrorAlert>{conv.summaryError.message}</ErrorAlert>}
        <OlderHistory conv={conv} />
        <TranslationsProvider value={conv.summary ? trView : null}>
          <Timeline entries={entries} firstUnread={firstUnread} ourName={ourName} peerName={peerName} />
        </TranslationsProvider>
        <Composer line={line} peerName={peerName} defaultLang={langs.ours[0]} />
      </section>
      <aside className="side" aria-label="About this line">
        {me?.role === 'interpreter' && conv.summary && <InterpreterQueue view={trView} queue={trQueue} />}
        {conv.summary && <CallsPanel summary={conv.summary} me={me} state={calls} secrets={secrets} now={now} voice={voice} />}
        {conv.summary ? (
          <RosterPanel summary={conv.summary} ourName={ourName} engine={conv.engine} groupVersion={groupVersion} />
        ) : (
          <p aria-busy="true">Loading the roster…</p>
        )}
        <ContactHistoryPanel items={messageRecords} calls={calls.calls} side={conv.summary?.side} now={now} />
      </aside>
    </div>
  );
}

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting to your station…',
  open: 'Live',
  reconnecting: 'Connection to your station lost; reconnecting. Messages you send are kept on this device and sent when it is back.',
  offline: 'You are offline. Messages you send are kept on this device and sent when you are back online.',
  refused: 'Your station refused this line.',
};

function ConnectionBanner({ status, detail }: { status: ConnectionStatus; detail: string | undefined }) {
  return (
    <p className={`connection connection-${status}`} role="status" data-status={status}>
      {STATUS_TEXT[status]}
      {status === 'refused' && detail ? ` ${detail}` : ''}
    </p>
  );
}

const MEMBERSHIP_TEXT: Record<Membership | 'setting-up', string> = {
  'setting-up': 'Setting up this device’s end-to-end encryption…',
  waiting:
    'Waiting for the hub to add this device to the line’s encrypted group… Messages you write are kept on this device and sent once it is in.',
  member: 'End-to-end encrypted: only the devices listed in the roster can read this line.',
  removed: 'This device was removed from the line’s encrypted group: it can no longer read or send here.',
};

function EncryptionBanner({ conv }: { conv: ConversationState }) {
  const { e2ee } = useSession();
  const [, rerender] = useState(0);
  useEffect(() => e2ee.subscribe(() => rerender((n) => n + 1)), [e2ee]);
  const device = e2ee.status;
  if (device.state === 'failed') {
    return (
      <ErrorAlert onRetry={() => void e2ee.ready().catch(() => undefined)}>
        This device could not set up end-to-end encryption: {device.message}
      </ErrorAlert>
    );
  }
  if (conv.e2eeError) return <ErrorAlert>{conv.e2eeError}</ErrorAlert>;
  const m = conv.membership;
  return (
    <p className={`e2ee-status e2ee-${m}`} role="status" data-membership={m}>
      <span aria-hidden="true">{m === 'member' ? '✓ ' : m === 'removed' ? '⚠ ' : '… '}</span>
      {MEMBERSHIP_TEXT[m]}
    </p>
  );
}

function OlderHistory({ conv }: { conv: ConversationState }) {
  const n = beforeJoinCount(conv.timeline);
  const t = translationsBeforeJoinCount(conv.translations);
  const [state, setState] = useState<{ busy: boolean; error: string | null; none: boolean }>({ busy: false, error: null, none: false });
  if (n === 0 && t === 0) return null;
  const what =
    n === 0
      ? `${t === 1 ? '1 translation was' : `${t} translations were`} made`
      : `${n === 1 ? '1 message was' : `${n} messages were`} sent${t > 0 ? ` (and ${t === 1 ? '1 translation' : `${t} translations`} made)` : ''}`;
  const load = async () => {
    setState({ busy: true, error: null, none: false });
    try {
      const got = await conv.loadHistory();
      setState({ busy: false, error: null, none: got === 0 });
    } catch (e) {
      setState({ busy: false, error: describeError(e), none: false });
    }
  };
  return (
    <div className="older-history" data-testid="older-history">
      <p>
        {what} before this device joined the line’s encrypted group. This device has no keys for {n + t === 1 ? 'it' : 'them'}; your
        station’s recorder keeps your side’s archive.
      </p>
      <button type="button" className="button-secondary" disabled={state.busy} onClick={() => void load()}>
        {state.busy ? 'Loading…' : 'Load older history from your station’s recorder'}
      </button>
      {state.none && <p className="muted">The recorder has none of them.</p>}
      {state.error && <ErrorAlert>{state.error}</ErrorAlert>}
    </div>
  );
}

function Timeline({
  entries,
  firstUnread,
  ourName,
  peerName,
}: {
  entries: TimelineEntry[];
  firstUnread: string | undefined;
  ourName: string;
  peerName: string;
}) {
  const box = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const last = entries[entries.length - 1]?.key;
  useEffect(() => {
    const el = box.current;
    if (el && stick.current && last) el.scrollTop = el.scrollHeight;
  }, [last]);
  const announce = useMemo(() => {
    const e = entries[entries.length - 1];
    if (e?.kind !== 'record' || e.record.dir !== 'in') return '';
    return `New message from ${e.record.envelope.handle} at ${e.record.envelope.station}`;
  }, [entries]);

  if (entries.length === 0) {
    return (
      <div className="timeline timeline-empty">
        <p>No messages on this line yet. What you write below reaches every seat on both sides.</p>
      </div>
    );
  }
  return (
    <>
      <ol
        ref={box}
        className="timeline"
        aria-label="Messages"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll it
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {entries.map((e) =>
          e.kind === 'event' ? (
            e.record.body.t === 'call' ? (
              <CallEventEntry key={e.key} record={e.record} />
            ) : (
              <GroupEvent key={e.key} record={e.record} />
            )
          ) : (
            <Message key={e.key} entry={e} unreadStart={e.key === firstUnread} ourName={ourName} peerName={peerName} />
          ),
        )}
      </ol>
      <p className="visually-hidden" aria-live="polite">
        {announce}
      </p>
    </>
  );
}

function GroupEvent({ record }: { record: LineRecord }) {
  const body = record.body;
  if (body.t !== 'event') return null;
  return (
    <li className={`group-event group-event-${body.event}`} data-pos={record.pos} data-event={body.event}>
      <span aria-hidden="true">{body.event === 'error' ? '⚠ ' : '⚙ '}</span>
      {body.text}{' '}
      <time dateTime={new Date(record.sentAt).toISOString()} className="muted">
        {formatZulu(record.sentAt, true)}
      </time>
    </li>
  );
}

/** A call event: what the hub ordered (public), and its encrypted part as this device read it. */
function CallEventEntry({ record }: { record: LineRecord }) {
  const body = record.body;
  if (body.t !== 'call') return null;
  const alarm = body.event.action === 'escalate' || body.event.action === 'unanswered' || body.event.action === 'test_unanswered';
  return (
    <li
      className={`call-event${alarm ? ' call-event-alarm' : ''}`}
      data-pos={record.pos}
      data-action={body.event.action}
      data-call-id={'callId' in body.event ? body.event.callId : undefined}
    >
      <p className="call-event-text">
        <span aria-hidden="true">{alarm ? '⚠ ' : '☎ '}</span>
        {body.text}{' '}
        <time dateTime={new Date(body.event.at).toISOString()} className="muted">
          {formatZulu(body.event.at, true)}
        </time>
      </p>
      {body.secret?.ok && (
        <p className="call-event-secret">
          {body.secret.text}
          <span className="message-note note-verified">
            {' '}
            <span aria-hidden="true">✓ </span>
            {body.secret.own ? 'Encrypted by this device' : `Encrypted by ${body.secret.from.handle}@${body.secret.from.station}`}
          </span>
        </p>
      )}
      {body.secret?.ok && body.secret.warning && <p className="message-note note-warning">{body.secret.warning}</p>}
      {body.secret && !body.secret.ok && (
        <p className="message-note note-refused" data-code={body.secret.code}>
          <span aria-hidden="true">⚠ </span>This device cannot read its encrypted part: {body.secret.message} ({body.secret.code})
        </p>
      )}
    </li>
  );
}

/** What a record says, and who the device (not just the station) says sent it. */
function recordView(r: LineRecord): {
  who: { handle: string; station: string; deviceId?: string };
  text: string | null;
  lang?: string;
  note: { kind: 'verified' | 'warning' | 'info' | 'refused'; text: string; code?: string } | null;
} {
  const b = r.body;
  switch (b.t) {
    case 'text':
      return {
        who: b.from,
        text: b.text,
        ...(b.lang ? { lang: b.lang } : {}),
        note: b.warning
          ? { kind: 'warning', text: b.warning, code: 'SENDER_MISMATCH' }
          : {
              kind: 'verified',
              text: b.own ? 'Encrypted by this device' : 'Verified sender device (vouched for by its station)',
            },
      };
    case 'archived':
      return {
        who: b.from,
        text: b.text,
        ...(b.lang ? { lang: b.lang } : {}),
        note: b.error
          ? { kind: 'refused', text: `Your station’s recorder could not read it either: ${b.error}` }
          : { kind: 'info', text: 'From your station’s recorder archive (not verified by this device)' },
      };
    case 'before-join':
      return {
        who: r.envelope,
        text: null,
        note: { kind: 'info', text: 'Sent before this device joined — older history from your station’s recorder' },
      };
    case 'pending':
      return { who: r.envelope, text: null, note: { kind: 'info', text: 'Waiting for the change of keys it was sent after…' } };
    case 'refused':
      return {
        who: r.envelope,
        text: null,
        note: { kind: 'refused', text: `This device cannot read this message: ${b.message}`, code: b.code },
      };
    case 'unencrypted':
      return {
        who: r.envelope,
        text: b.text,
        note: {
          kind: 'warning',
          text: 'Sent without end-to-end encryption (an old client): the stations could read it',
          code: 'UNENCRYPTED',
        },
      };
    case 'translation': // shown beside its original, never as an entry (use-conversation.ts)
      return { who: r.envelope, text: null, note: null };
    case 'event':
    case 'call':
      return { who: r.envelope, text: b.text, note: null };
    case 'signal':
    case 'receipt':
      return { who: b.from, text: null, note: null };
  }
}

function Message({
  entry,
  unreadStart,
  ourName,
  peerName,
}: {
  entry: Exclude<TimelineEntry, { kind: 'event' }>;
  unreadStart: boolean;
  ourName: string;
  peerName: string;
}) {
  const { queue, session } = useSession();
  const dir = entry.kind === 'record' ? entry.record.dir : 'out';
  const at = entry.kind === 'record' ? entry.record.sentAt : entry.pending.createdAt;
  const view =
    entry.kind === 'record'
      ? recordView(entry.record)
      : {
          who: { handle: session.member.handle, station: ourName, deviceId: session.deviceId },
          text: entry.pending.text,
          ...(entry.pending.lang ? { lang: entry.pending.lang } : {}),
          note: null,
        };
  return (
    <li
      className={`message message-${dir}${unreadStart ? ' unread-start' : ''}`}
      data-state={entry.state}
      data-pos={entry.kind === 'record' ? entry.record.pos : undefined}
      data-body={entry.kind === 'record' ? entry.record.body.t : 'pending'}
    >
      {unreadStart && <p className="unread-divider">New since you last read</p>}
      <div className="message-meta">
        <span className="sender">{view.who.handle}</span>
        <span className="muted">@{view.who.station}</span>
        {view.who.deviceId && (
          <span className="muted device" title={`device ${view.who.deviceId}`}>
            device {view.who.deviceId.slice(0, 8)}
          </span>
        )}
        {view.lang && <span className="lang">{view.lang}</span>}
        <time dateTime={new Date(at).toISOString()} title={new Date(at).toLocaleString()}>
          {formatZulu(at, true)}
        </time>
      </div>
      {view.text !== null && (
        <p className="message-text" lang={view.lang}>
          {view.text}
        </p>
      )}
      {view.note && (
        <p className={`message-note note-${view.note.kind}`} data-code={view.note.code}>
          <span aria-hidden="true">{view.note.kind === 'verified' ? '✓ ' : view.note.kind === 'info' ? 'ⓘ ' : '⚠ '}</span>
          {view.note.text}
          {view.note.code && view.note.kind === 'refused' ? ` (${view.note.code})` : ''}
        </p>
      )}
      {entry.kind === 'record' && <MessageTranslations record={entry.record} />}
      <DeliveryBadge
        state={entry.state}
        ourName={ourName}
        peerName={peerName}
        readBy={entry.kind === 'record' ? entry.readBy : undefined}
      />
      {entry.kind === 'pending' && entry.state === 'failed' && (
        <div className="message-actions">
          <span>
            Not sent: {entry.pending.error?.message} ({entry.pending.error?.code})
          </span>
          <button type="button" className="button-secondary" onClick={() => void queue.retry(entry.pending.clientId)}>
            Try again
          </button>
        </div>
      )}
    </li>
  );
}

const BADGE: Record<DeliveryState, { icon: string; text: (our: string, peer: string) => string } | null> = {
  queued: { icon: '○', text: () => 'Queued on this device, sent when the connection is back' },
  sending: { icon: '↑', text: () => 'Sending…' },
  accepted: { icon: '✓', text: (our) => `Accepted by ${our}` },
  delivered: { icon: '✓✓', text: (_our, peer) => `Delivered to ${peer}` },
  read: { icon: '✓✓', text: (_our, peer) => `Read at ${peer}` },
  failed: { icon: '⚠', text: () => 'Not sent' },
  received: null,
};

function DeliveryBadge({
  state,
  ourName,
  peerName,
  readBy,
}: {
  state: DeliveryState;
  ourName: string;
  peerName: string;
  readBy?: readonly Reader[] | undefined;
}) {
  const b = BADGE[state];
  if (!b) return null;
  return (
    <p className={`delivery delivery-${state}`}>
      <span aria-hidden="true">{b.icon}</span>{' '}
      {state === 'read' && readBy && readBy.length > 0
        ? `Read by ${readBy.map((r) => `${r.handle}@${r.station}`).join(', ')}`
        : b.text(ourName, peerName)}
    </p>
  );
}

/** Languages offered for a message's tag; the app keeps the officer's last choice per line. */
const LANGUAGES: [string, string][] = [
  ['', 'not stated'],
  ['en', 'English'],
  ['ru', 'Русский'],
  ['zh', '中文'],
  ['fr', 'Français'],
  ['ar', 'العربية'],
  ['es', 'Español'],
];

function Composer({ line, peerName, defaultLang }: { line: string; peerName: string; defaultLang?: string | undefined }) {
  const { queue, drafts, store, scope } = useSession();
  const langKey = `${scope}:lang:${line}`;
  const [lang, setLang] = useState(() => defaultWritingLang(store.getItem(langKey), undefined));
  // Until the officer chooses, a message is in our side's main working language (the line's summary says which).
  useEffect(() => {
    if (defaultLang && store.getItem(langKey) === null) setLang(defaultWritingLang(null, { ours: [defaultLang], peer: [] }));
  }, [defaultLang, langKey, store]);
  const languages =
    defaultLang && !LANGUAGES.some(([t]) => t === defaultLang) ? [...LANGUAGES, [defaultLang, defaultLang] as [string, string]] : LANGUAGES;
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<'loading' | 'saving' | 'saved' | 'unsaved'>('loading');
  const typed = useRef(false);
  const id = useId();

  useEffect(() => {
    let alive = true;
    drafts.get(line).then(
      (t) => {
        if (!alive) return;
        if (!typed.current && t) setText(t);
        setDraft('saved');
      },
      () => alive && setDraft('saved'),
    );
    return () => {
      alive = false;
    };
  }, [drafts, line]);

  const change = (v: string) => {
    typed.current = true;
    setText(v);
    setError(null);
    // A draft survives a reload or a crashed tab (sealed on this device).
    setDraft('saving');
    drafts.set(line, v).then(
      () => setDraft((d) => (d === 'saving' ? 'saved' : d)),
      () => setDraft('unsaved'), // storage full: the text is still in the box
    );
  };

  const [saving, setSaving] = useState(false);
  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (text.trim() === '' || saving) return;
    if (contentBytes(text) > MAX_CONTENT_BYTES) {
      setError(`This message is too long: at most ${MAX_CONTENT_BYTES / 1024} KiB of text per message.`);
      return;
    }
    setSaving(true);
    try {
      await queue.add(line, text, lang ? { lang } : {});
    } catch {
      setError(
        'This browser refused to store the message, so it was not sent. It is still in the box; free some browser storage and try again.',
      );
      return;
    } finally {
      setSaving(false);
    }
    change('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void send(e)}>
      <label htmlFor={`${id}-text`}>Message to {peerName}</label>
      <div className="composer-row">
        <textarea
          id={`${id}-text`}
          rows={2}
          value={text}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={`${id}-help`}
        />
        <button type="submit" disabled={text.trim() === '' || saving}>
          Send
        </button>
      </div>
      <div className="composer-foot">
        <span id={`${id}-help`} className="field-help" data-draft={draft}>
          Enter sends; Shift+Enter starts a new line.{draft === 'unsaved' ? ' This browser refused to keep the draft.' : ''}
        </span>
        <label className="composer-lang">
          Language{' '}
          <select
            value={lang}
            onChange={(e) => {
              setLang(e.target.value);
              try {
                store.setItem(langKey, e.target.value);
              } catch {
                // not remembered; still used for this message
              }
            }}
          >
            {languages.map(([tag, name]) => (
              <option key={tag} value={tag}>
                {name}
                {tag ? ` (${tag})` : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </form>
  );
}

import { type FormEvent, type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from 'react';
import { ErrorAlert } from '../components/alert.js';
import { ContactHistoryPanel } from '../components/contact-history-panel.js';
import { HealthLamp } from '../components/health-lamp.js';
import { RosterPanel } from '../components/roster-panel.js';
import { useNow, useOnline, usePending, useTitle } from '../hooks.js';
import type { ConnectionStatus } from '../line-connection.js';
import { decodeMessage, MAX_PAYLOAD_BYTES, payloadBytes } from '../message-codec.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { formatAgo, formatZulu } from '../time-format.js';
import { type DeliveryState, type TimelineEntry, timelineEntries } from '../timeline.js';
import { useConversation } from '../use-conversation.js';

export function ConversationPage({ line }: { line: string }) {
  useTitle(line);
  const { session, queue, readMarks, store, scope } = useSession();
  const conv = useConversation(line);
  const pending = usePending(queue);
  const online = useOnline();
  const now = useNow();
  const connected = conv.status === 'open';
  const linePending = useMemo(() => pending.filter((p) => p.line === line), [pending, line]);
  const entries = useMemo(
    () => timelineEntries(conv.timeline, linePending, { connected, inFlight: conv.inFlight }),
    [conv.timeline, linePending, connected, conv.inFlight],
  );
  // Where "new since you last read" starts: the mark as it was when the page opened.
  const [readAtOpen] = useState(() => readMarks.get(line));
  const firstUnread = entries.find((e) => e.kind === 'item' && e.item.dir === 'in' && e.item.pos > readAtOpen)?.key;

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
            </p>
          </div>
          {conv.health && <HealthLamp health={conv.health.health} />}
        </header>
        <ConnectionBanner status={online ? conv.status : 'offline'} detail={conv.statusDetail} />
        {conv.summaryError && <ErrorAlert>{conv.summaryError.message}</ErrorAlert>}
        <Timeline entries={entries} firstUnread={firstUnread} ourName={ourName} peerName={peerName} />
        <Composer line={line} peerName={peerName} store={store} draftKey={`${scope}:draft:${line}`} />
      </section>
      <aside className="side" aria-label="About this line">
        {conv.summary ? <RosterPanel summary={conv.summary} ourName={ourName} /> : <p aria-busy="true">Loading the roster…</p>}
        <ContactHistoryPanel items={conv.timeline.items} now={now} />
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
    if (e?.kind !== 'item' || e.item.dir !== 'in') return '';
    return `New message from ${e.item.sender.handle} at ${e.item.sender.station}`;
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
        {entries.map((e) => (
          <Message key={e.key} entry={e} unreadStart={e.key === firstUnread} ourName={ourName} peerName={peerName} />
        ))}
      </ol>
      <p className="visually-hidden" aria-live="polite">
        {announce}
      </p>
    </>
  );
}

function Message({
  entry,
  unreadStart,
  ourName,
  peerName,
}: {
  entry: TimelineEntry;
  unreadStart: boolean;
  ourName: string;
  peerName: string;
}) {
  const { queue, session } = useSession();
  const dir = entry.kind === 'item' ? entry.item.dir : 'out';
  const sender = entry.kind === 'item' ? entry.item.sender : null;
  const at = entry.kind === 'item' ? entry.item.sentAt : entry.pending.createdAt;
  const decoded = entry.kind === 'item' ? decodeMessage(entry.item.payload) : { ok: true as const, text: entry.pending.text };
  return (
    <li
      className={`message message-${dir}${unreadStart ? ' unread-start' : ''}`}
      data-state={entry.state}
      data-pos={entry.kind === 'item' ? entry.item.pos : undefined}
    >
      {unreadStart && <p className="unread-divider">New since you last read</p>}
      <div className="message-meta">
        <span className="sender">{sender ? sender.handle : session.member.handle}</span>
        <span className="muted">{sender ? `@${sender.station}` : `@${ourName}`}</span>
        <time dateTime={new Date(at).toISOString()} title={new Date(at).toLocaleString()}>
          {formatZulu(at, true)}
        </time>
      </div>
      {decoded.ok ? (
        <p className="message-text">{decoded.text}</p>
      ) : (
        <p className="message-text muted">[cannot show this message: {decoded.reason}]</p>
      )}
      <DeliveryBadge state={entry.state} ourName={ourName} peerName={peerName} />
      {entry.kind === 'pending' && entry.state === 'failed' && (
        <div className="message-actions">
          <span>
            Not sent: {entry.pending.error?.message} ({entry.pending.error?.code})
          </span>
          <button type="button" className="button-secondary" onClick={() => queue.retry(entry.pending.clientId)}>
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
  failed: { icon: '⚠', text: () => 'Not sent' },
  received: null,
};

function DeliveryBadge({ state, ourName, peerName }: { state: DeliveryState; ourName: string; peerName: string }) {
  const b = BADGE[state];
  if (!b) return null;
  return (
    <p className={`delivery delivery-${state}`}>
      <span aria-hidden="true">{b.icon}</span> {b.text(ourName, peerName)}
    </p>
  );
}

function Composer({
  line,
  peerName,
  store,
  draftKey,
}: {
  line: string;
  peerName: string;
  store: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  draftKey: string;
}) {
  const { queue } = useSession();
  const [text, setText] = useState(() => store.getItem(draftKey) ?? '');
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const change = (v: string) => {
    setText(v);
    setError(null);
    // A draft survives a reload or a crashed tab.
    try {
      if (v) store.setItem(draftKey, v);
      else store.removeItem(draftKey);
    } catch {
      // Storage full: the text is still in the box.
    }
  };

  const send = (e?: FormEvent) => {
    e?.preventDefault();
    if (text.trim() === '') return;
    if (payloadBytes(text) > MAX_PAYLOAD_BYTES) {
      setError(`This message is too long: at most ${MAX_PAYLOAD_BYTES / 1024} KiB of text per message.`);
      return;
    }
    try {
      queue.add(line, text);
    } catch {
      setError(
        'This browser refused to store the message, so it was not sent. It is still in the box; free some browser storage and try again.',
      );
      return;
    }
    change('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <form className="composer" onSubmit={send}>
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
        <button type="submit" disabled={text.trim() === ''}>
          Send
        </button>
      </div>
      <span id={`${id}-help`} className="field-help">
        Enter sends; Shift+Enter starts a new line.
      </span>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </form>
  );
}

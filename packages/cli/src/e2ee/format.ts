// How a device's view of a line is printed: one line of text, or one JSON object, per record.
import { describeVoiceSignal, type VoiceSignal, voiceSignalOf } from './content.js';
import type { ArchiveEntry } from './station-api.js';
import type { MessageRecord, TimelineRecord } from './store.js';

/** A message as `read --json` prints it. */
export interface MessageJson {
  kind: 'message';
  pos: number;
  sentAt: number;
  text: string | null;
  lang: string | null;
  sender: { handle: string; station: string; deviceId: string | null };
  verified: boolean;
  error: string | null;
  /** ok, own (sent by this device), mismatch, pending, before-join, failed, unencrypted, archive */
  status: MessageRecord['status'] | 'archive';
  /** The message's id on the line (`inviter:12`): what `parley translate --message` takes. */
  ref: string | null;
  /** For a translation: the id of the original it renders. */
  translationOf?: string;
  /** A translation replaced by a later revision (same original, language and side). */
  revised?: boolean;
  /** A call's voice signal from the web app: its kind and call (text is null, error null). */
  voice?: VoiceSignal;
}

export interface EventJson {
  kind: 'event';
  pos: number;
  sentAt: number;
  event: string;
  epoch: number | null;
  text: string;
  added?: unknown[];
  removed?: unknown[];
  error?: string;
  call?: unknown;
}

export type ShownRecord = TimelineRecord | (Omit<MessageRecord, 'status'> & { status: 'archive' });

/** Fill messages this device cannot read with what the station's recorder archived (unverified). */
export function withArchive(records: TimelineRecord[], archive: Map<number, ArchiveEntry>): ShownRecord[] {
  return records.map((r) => {
    if (r.t !== 'msg' || r.text !== null || (r.status !== 'before-join' && r.status !== 'failed' && r.status !== 'pending')) return r;
    const a = archive.get(r.pos);
    if (!a) return r;
    // A translation is filled only from the archived translation of the same original.
    const of = a.translation ? `${a.translation.of.side}:${a.translation.of.seq}` : undefined;
    if (of !== r.translationOf) return r;
    const decoded = a.text === null ? null : archiveText(a.text);
    if (decoded?.hidden) return { ...r, hidden: decoded.hidden };
    if (decoded?.voice)
      return { ...r, sender: a.sender, text: null, error: null, voice: decoded.voice, verified: false, status: 'archive' as const };
    return {
      ...r,
      sender: a.sender,
      text: decoded?.text ?? null,
      // A translation keeps the language its item names.
      ...(decoded?.lang && !r.translationOf ? { lang: decoded.lang } : {}),
      verified: false,
      error: a.error ?? (decoded ? null : 'the station archive has no text for it either'),
      status: 'archive' as const,
    };
  });
}

function archiveText(b64: string): { text: string; lang?: string; hidden?: 'receipt'; voice?: VoiceSignal } {
  const raw = Buffer.from(b64, 'base64url').toString('utf8');
  try {
    const v = JSON.parse(raw) as { text?: unknown; lang?: unknown; type?: unknown; signal?: unknown };
    if (v && v.type === 'receipt') return { text: '', hidden: 'receipt' };
    const voice = v && typeof v === 'object' ? voiceSignalOf(v) : null;
    if (voice) return { text: '', voice };
    if (v && typeof v.text === 'string') return typeof v.lang === 'string' ? { text: v.text, lang: v.lang } : { text: v.text };
  } catch {
    // plain text
  }
  return { text: raw };
}

export function toJson(r: ShownRecord): MessageJson | EventJson {
  if (r.t === 'event') {
    const e: EventJson = { kind: 'event', pos: r.pos, sentAt: r.sentAt, event: r.event, epoch: r.epoch, text: r.text };
    if (r.added) e.added = r.added;
    if (r.removed) e.removed = r.removed;
    if (r.error) e.error = r.error;
    if (r.call) e.call = r.call;
    return e;
  }
  return {
    kind: 'message',
    pos: r.pos,
    sentAt: r.sentAt,
    text: r.text,
    lang: r.lang ?? null,
    sender: { handle: r.sender.handle, station: r.sender.station, deviceId: r.sender.deviceId },
    verified: r.verified,
    error: r.error,
    status: r.status,
    ref: r.ref ?? null,
    ...(r.translationOf ? { translationOf: r.translationOf } : {}),
    ...(r.revised ? { revised: true } : {}),
    ...(r.voice ? { voice: r.voice } : {}),
  };
}

/**
 * Translations under their originals: each translation moves to just after the message it
 * renders (when that message is in the list), and earlier revisions by the same side into the
 * same language are marked revised. Originals are never changed.
 */
export function underOriginals(records: ShownRecord[]): ShownRecord[] {
  const translations = new Map<string, ShownRecord[]>();
  const refs = new Set(records.flatMap((r) => (r.t === 'msg' && r.ref && !r.translationOf ? [r.ref] : [])));
  const latest = new Map<string, number>();
  for (const r of records) {
    if (r.t !== 'msg' || !r.translationOf) continue;
    latest.set(`${r.translationOf}\n${r.lang ?? ''}\n${r.sender.station}`, r.pos);
  }
  const mark = (r: ShownRecord): ShownRecord =>
    r.t === 'msg' && r.translationOf && latest.get(`${r.translationOf}\n${r.lang ?? ''}\n${r.sender.station}`) !== r.pos
      ? { ...r, revised: true }
      : r;
  const out: ShownRecord[] = [];
  for (const r of records) {
    if (r.t === 'msg' && r.translationOf && refs.has(r.translationOf)) {
      const list = translations.get(r.translationOf) ?? [];
      list.push(mark(r));
      translations.set(r.translationOf, list);
    }
  }
  for (const r of records) {
    if (r.t === 'msg' && r.translationOf && refs.has(r.translationOf)) continue;
    out.push(mark(r));
    if (r.t === 'msg' && r.ref && !r.translationOf) out.push(...(translations.get(r.ref) ?? []));
  }
  return out;
}

const MARK: Record<string, string> = {
  ok: '\u2713',
  own: '\u2713',
  mismatch: '\u2717',
  failed: '\u2717',
  pending: '\u2026',
  'before-join': '\u00b7',
  unencrypted: '!',
  archive: '~',
};

export function toText(r: ShownRecord): string {
  const at = new Date(r.sentAt).toISOString().replace('T', ' ').slice(0, 19);
  if (r.t === 'event') return `#${r.pos} ${at} \u2014 ${r.text}`;
  if (r.translationOf) {
    const by = `${r.sender.handle}@${r.sender.station}`;
    const revised = r.revised ? ', revised since' : '';
    const text = r.text ?? `(${r.error ?? 'cannot read'})`;
    const archived = r.status === 'archive' ? ' (from the station archive, not verified by this device)' : '';
    return `    \u21b3 translation of ${r.translationOf} [${r.lang ?? '?'}] by ${by}${revised}${archived}: ${text}`;
  }
  const id = r.ref ? ` (${r.ref})` : '';
  const who = `${r.sender.handle}@${r.sender.station}`;
  if (r.voice) return `#${r.pos} ${at} ${MARK[r.status] ?? '?'} ${who}: ${describeVoiceSignal(r.voice)}`;
  const lang = r.lang ? ` [${r.lang}]` : '';
  const mark = MARK[r.status] ?? '?';
  switch (r.status) {
    case 'ok':
      return `#${r.pos}${id} ${at} ${mark} ${who}${lang}: ${r.text ?? `(${r.error})`}`;
    case 'own':
      return `#${r.pos}${id} ${at} ${mark} ${who} (this device)${lang}: ${r.text ?? `(${r.error})`}`;
    case 'mismatch':
      return `#${r.pos} ${at} ${mark} ${who}${lang}: ${r.text ?? ''}  [${r.error}]`;
    case 'pending':
      return `#${r.pos} ${at} ${mark} ${who}: (waiting for an earlier change of keys to arrive)`;
    case 'before-join':
      return `#${r.pos} ${at} ${mark} ${who}: (sent before this device joined)`;
    case 'unencrypted':
      return `#${r.pos} ${at} ${mark} ${who} (NOT end-to-end encrypted): ${r.text ?? ''}`;
    case 'archive':
      return `#${r.pos} ${at} ${mark} ${who}${lang} (from the station archive, not verified by this device): ${r.text ?? `(${r.error})`}`;
    default:
      return `#${r.pos} ${at} ${mark} ${who}: cannot read \u2014 ${r.error}`;
  }
}

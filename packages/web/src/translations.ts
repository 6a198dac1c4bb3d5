import { sameLanguage } from '@parley/protocol/lang-tags';
import type { Call, Urgency } from './calls.js';
import type { LineRecord, Sender } from './e2ee/line-engine.js';

// Two languages on a line (issue 9), as the web app shows them. Pure: records of the timeline, the
// line's working languages and the station's calls come in; what each reader sees beside each
// message, and each interpreter's queue, come out.
//
// A message is named alike at both stations by the side whose stream carries it and its sequence
// number there (`acceptor:12`); a translation item names its original that way. A later
// translation of the same original into the same language by the same side is a revision: the
// latest is shown, the earlier ones are kept.

export type Side = 'inviter' | 'acceptor';
export interface MessageRef {
  side: Side;
  seq: number;
}

export const refKey = (r: MessageRef): string => `${r.side}:${r.seq}`;

export function otherSide(side: Side): Side {
  return side === 'inviter' ? 'acceptor' : 'inviter';
}

/** The name both stations give a record of our timeline: our outgoing stream is our side's. */
export function refOf(record: Pick<LineRecord, 'dir' | 'seq'>, ourSide: Side): MessageRef {
  return { side: record.dir === 'out' ? ourSide : otherSide(ourSide), seq: record.seq };
}

export interface TranslationVersion {
  pos: number;
  at: number;
  /** The decrypted text, or null with why not. */
  text: string | null;
  error: string | null;
  /** The interpreter as the station says (the MLS-verified device is in `from` when read). */
  by: { handle: string; station: string };
  from: Sender | null;
  own: boolean;
  /** Read from our station's recorder archive (made before this device joined): not verified by this device. */
  archived: boolean;
  warning?: string;
}

/** One side's rendering of a message into one language: the latest version and the earlier ones. */
export interface Rendering {
  lang: string;
  /** Whose interpreter made it. */
  side: Side;
  byOtherSide: boolean;
  latest: TranslationVersion;
  /** Oldest first. */
  earlier: TranslationVersion[];
}

/** Translations of every message, by the original's refKey; renderings in the order first made. */
export function translationsByOriginal(records: readonly LineRecord[], ourSide: Side): Map<string, Rendering[]> {
  const out = new Map<string, Rendering[]>();
  const sorted = [...records].filter((r) => r.body.t === 'translation').sort((a, b) => a.pos - b.pos);
  for (const r of sorted) {
    const b = r.body;
    if (b.t !== 'translation') continue;
    const side: Side = r.dir === 'out' ? ourSide : otherSide(ourSide);
    const version: TranslationVersion = {
      pos: r.pos,
      at: r.sentAt,
      text: b.secret.ok ? b.secret.text : null,
      error: b.secret.ok ? null : `${b.secret.message} (${b.secret.code})`,
      by: r.envelope,
      from: b.secret.ok ? b.secret.from : null,
      own: b.secret.ok && b.secret.own,
      archived: b.secret.ok && b.secret.archived === true,
      ...(b.secret.ok && b.secret.warning ? { warning: b.secret.warning } : {}),
    };
    const key = refKey(b.of);
    const list = out.get(key) ?? [];
    const same = list.find((x) => x.side === side && x.lang.toLowerCase() === b.lang.toLowerCase());
    if (same) {
      same.earlier.push(same.latest);
      same.latest = version;
    } else {
      list.push({ lang: b.lang, side, byOtherSide: side !== ourSide, latest: version, earlier: [] });
    }
    out.set(key, list);
  }
  return out;
}

/** The working languages of the line, each side's main one first (LineSummary.languages). */
export interface LineLangs {
  ours: readonly string[];
  peer: readonly string[];
}

/** Readable text of a message record (decrypted, or from the recorder's archive), with its language. */
export function messageText(r: LineRecord): { text: string; lang: string | undefined } | null {
  const b = r.body;
  if ((b.t === 'text' || b.t === 'archived') && b.text !== null) return { text: b.text, lang: b.lang };
  return null;
}

/**
 * The language a message was written in: its tag, else the main working language of its writer's
 * side (what the writer's app would have tagged it with).
 */
export function messageLang(r: LineRecord, langs: LineLangs): string | undefined {
  const t = messageText(r);
  if (t?.lang) return t.lang;
  return r.dir === 'out' ? langs.ours[0] : langs.peer[0];
}

/** What a reader of our side sees beside a message about its translation into our language. */
export type ReadingMark =
  /** Written in one of our languages (or we have none set): nothing to translate. */
  | { kind: 'none' }
  /** Awaiting a translation into our main language. */
  | { kind: 'pending'; into: string }
  | { kind: 'translated'; rendering: Rendering };

export function readingMark(r: LineRecord, renderings: readonly Rendering[], langs: LineLangs): ReadingMark {
  const into = langs.ours[0];
  if (!into || !messageText(r)) return { kind: 'none' };
  const done = renderings.find((x) => sameLanguage(x.lang, into));
  // Ours first: our own interpreter's rendering is the one our side reads by.
  const ours = renderings.find((x) => sameLanguage(x.lang, into) && !x.byOtherSide);
  if (done) return { kind: 'translated', rendering: ours ?? done };
  const lang = messageLang(r, langs);
  if (lang && langs.ours.some((l) => sameLanguage(l, lang))) return { kind: 'none' };
  return { kind: 'pending', into };
}

export interface QueueEntry {
  record: LineRecord;
  ref: MessageRef;
  text: string;
  lang: string | undefined;
  /** Our side's main language: what the interpreter translates into. */
  into: string;
  /** The urgency of the call request the message is tied to, if immediate or flash. */
  urgency: Extract<Urgency, 'flash' | 'immediate'> | null;
  callId: string | null;
}

/** The moment a call stopped being open (or null while it is). */
function closedAt(call: Call): number | null {
  const r = call.reached;
  const ends = [r.ended, r.declined, r.cancelled, r.expired].filter((s): s is NonNullable<typeof s> => s !== undefined).map((s) => s.at);
  return ends.length > 0 ? Math.min(...ends) : null;
}

/**
 * The immediate or flash call request a message is tied to: one requested before the message was
 * written and still open then. The most urgent wins.
 */
export function urgentCallOf(r: Pick<LineRecord, 'sentAt'>, calls: readonly Call[]): Call | null {
  let best: Call | null = null;
  for (const c of calls) {
    if (c.urgency !== 'flash' && c.urgency !== 'immediate') continue;
    const from = c.reached.requested.at;
    const to = closedAt(c);
    if (r.sentAt < from || (to !== null && r.sentAt > to)) continue;
    if (!best || (c.urgency === 'flash' && best.urgency !== 'flash')) best = c;
  }
  return best;
}

const URGENCY_RANK = { flash: 0, immediate: 1 } as const;

/**
 * An interpreter's queue: messages they can read, written in a language other than our side's
 * main one, that nobody (of either side) has translated into it yet. Messages tied to a flash,
 * then an immediate call request come first; otherwise the oldest first. Empty when our side has
 * no working language set (there is nothing to translate into).
 */
export function interpreterQueue(
  records: readonly LineRecord[],
  translations: ReadonlyMap<string, readonly Rendering[]>,
  opts: { ourSide: Side; langs: LineLangs; calls: readonly Call[] },
): QueueEntry[] {
  const into = opts.langs.ours[0];
  if (!into) return [];
  const out: QueueEntry[] = [];
  for (const r of records) {
    const t = messageText(r);
    if (!t) continue;
    const lang = messageLang(r, opts.langs);
    if (lang && sameLanguage(lang, into)) continue;
    const ref = refOf(r, opts.ourSide);
    if ((translations.get(refKey(ref)) ?? []).some((x) => sameLanguage(x.lang, into))) continue;
    const call = urgentCallOf(r, opts.calls);
    const urgency = call ? (call.urgency as 'flash' | 'immediate') : null;
    out.push({ record: r, ref, text: t.text, lang, into, urgency, callId: call?.callId ?? null });
  }
  return out.sort((a, b) => {
    const ua = a.urgency ? URGENCY_RANK[a.urgency] : 2;
    const ub = b.urgency ? URGENCY_RANK[b.urgency] : 2;
    return ua !== ub ? ua - ub : a.record.pos - b.record.pos;
  });
}

/** Untranslated messages tied to a flash call request: they alert the interpreters on duty. */
export function flashAlerts(queue: readonly QueueEntry[]): QueueEntry[] {
  return queue.filter((q) => q.urgency === 'flash');
}

/** Records that are translations, and the rest: the conversation shows only the rest as entries. */
export function splitTranslations(records: readonly LineRecord[]): { translations: LineRecord[]; others: LineRecord[] } {
  const translations: LineRecord[] = [];
  const others: LineRecord[] = [];
  for (const r of records) (r.body.t === 'translation' ? translations : others).push(r);
  return { translations, others };
}

/** The writing language a member starts with: their last choice on this line, else our side's main language. */
export function defaultWritingLang(remembered: string | null, langs: LineLangs | undefined): string {
  if (remembered !== null) return remembered;
  return langs?.ours[0] ?? '';
}

// Working languages of a line (issue 9): each side's BCP 47 tags, the first its main one. Set at
// the link ceremony (the invitation carries the inviter's, the link request the acceptor's, the
// answer the inviter's again), changed by an administrator and told to the peer signed
// (`POST /fed/v1/lines/:id/languages`, and again on every roster sync of the hub, so a change made
// while the peer was away still reaches it).
import { Type, type Static } from 'typebox';
import { ParleyError } from './errors.js';
import { knownLang, wellFormedLang } from './lang-tags.js';
import { LangTag } from './line-events.js';

const closed = { additionalProperties: false } as const;

/** At most this many working languages per side: a line is a conversation, not a conference. */
export const MAX_LINE_LANGS = 8;

export const LangList = Type.Array(LangTag, { maxItems: MAX_LINE_LANGS });
export type LangList = Static<typeof LangList>;

/** The other station's working languages changed: `POST /fed/v1/lines/:id/languages`. */
export const FedLanguagesRequest = Type.Object({ langs: LangList }, closed);
export type FedLanguagesRequest = Static<typeof FedLanguagesRequest>;

/** The answer: what the peer now holds for the sender's side, and its own side's languages. */
export const FedLanguagesResponse = Type.Object({ peerLangs: LangList, langs: LangList }, closed);
export type FedLanguagesResponse = Static<typeof FedLanguagesResponse>;

/** Both sides' working languages of a line, as stations show them. */
export const LineLanguages = Type.Object({ ours: LangList, peer: LangList }, closed);
export type LineLanguages = Static<typeof LineLanguages>;

/**
 * `en,fr` (as typed on a command line) → `['en', 'fr']`, checked: every tag well formed, none
 * twice (case-insensitively: BCP 47 tags are), at most MAX_LINE_LANGS. Refused with LANG_INVALID.
 */
export function parseLangList(text: string): string[] {
  const tags = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return checkLangList(tags);
}

export function checkLangList(tags: readonly string[]): string[] {
  if (tags.length === 0) throw new ParleyError('LANG_INVALID', 'no language given', 'give BCP 47 tags separated by commas, e.g. en,fr');
  if (tags.length > MAX_LINE_LANGS) throw new ParleyError('LANG_INVALID', `at most ${MAX_LINE_LANGS} working languages per side`);
  const seen = new Set<string>();
  for (const t of tags) {
    if (!knownLang(t)) {
      throw new ParleyError('LANG_INVALID', `"${t}" is not a known language tag`, 'use BCP 47 tags such as en, ru, zh-Hant, pt-BR');
    }
    const k = t.toLowerCase();
    if (seen.has(k)) throw new ParleyError('LANG_INVALID', `"${t}" is given twice`);
    seen.add(k);
  }
  return [...tags];
}

/** A stored list (JSON text in the database, or null for a line made before languages existed). */
export function storedLangs(json: string | null | undefined): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string' && wellFormedLang(t)) : [];
  } catch {
    return [];
  }
}

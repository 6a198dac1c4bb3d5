// Language tags as Parley takes them (issue 9), without schemas so the browser app can use them
// (see packages/web/test/bundle-imports.test.ts). The wire accepts any well-formed BCP 47 tag
// (LangTag); what people type is checked further against the languages that exist: a primary
// subtag of ISO 639-1 (two letters) or a three-letter ISO 639-2/3 code, so that "english" or
// "xx" is refused as unknown instead of becoming a line's language.

const FORM = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

/** ISO 639-1: every two-letter language code. */
const ISO_639_1 = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu ' +
    'fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ' +
    'ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os ' +
    'pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ' +
    'ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'
  ).split(' '),
);

/** Well formed as the wire takes it (the same rule as LangTag). */
export function wellFormedLang(tag: string): boolean {
  return FORM.test(tag) && tag.length <= 35;
}

/** Well formed, and its language exists: `en`, `ru`, `zh-Hant`, `pt-BR`, `yue`; not `english`, `xx`. */
export function knownLang(tag: string): boolean {
  if (!wellFormedLang(tag)) return false;
  const primary = (tag.split('-')[0] as string).toLowerCase();
  return primary.length === 3 || ISO_639_1.has(primary);
}

/** Whether two tags name the same language for a reader: `en-GB` reads `en` (primary subtags compared). */
export function sameLanguage(a: string, b: string): boolean {
  return (a.split('-')[0] as string).toLowerCase() === (b.split('-')[0] as string).toLowerCase();
}

import type { Item } from '@parley/protocol';
import { fromBase64url } from '@parley/protocol/bytes';

// The one place that turns what an officer types into bytes and back. What travels inside an MLS
// application message on a line is UTF-8 JSON `{text, lang?}` (lang: a BCP 47 tag), exactly as
// the CLI writes it (packages/cli/src/e2ee/content.ts): each message keeps its language so that
// interpreters can attach translations beside it. The station only ever sees the MLS ciphertext.

/** The station refuses payloads over 64 KiB; an MLS application message adds under 1 KiB. */
export const MAX_CONTENT_BYTES = 63 * 1024;

const LANG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

export function validLang(tag: string): boolean {
  return LANG.test(tag) && tag.length <= 35;
}

export function encodeContent(text: string, lang?: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(lang ? { text, lang } : { text }));
}

/**
 * The encrypted part of a call action (topics, a reason): `{type: 'call', text}`, as the CLI
 * writes it. Its text reads like a message's; the type keeps it apart from what people said.
 */
export function encodeCallContent(text: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: 'call', text }));
}

/** A call's WebRTC signal (offer, answer, ICE, hangup) inside the group: `{type: 'call-signal', signal}`. */
export function encodeSignalContent(signal: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: 'call-signal', signal }));
}

/** The signal in decrypted content, or undefined when it is not a call signal. */
export function decodeSignalContent(bytes: Uint8Array): unknown {
  try {
    const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { type?: unknown; signal?: unknown } | null;
    return v && typeof v === 'object' && v.type === 'call-signal' && v.signal !== undefined ? v.signal : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The JSON object in a line event's payload (a 'call' item: `{event, body}`), or undefined.
 * Kept here rather than taken from the root of @parley/protocol (see bundle-imports.test.ts).
 */
export function decodeLineEventPayload(payload: string): Record<string, unknown> | undefined {
  try {
    const bytes = fromBase64url(payload);
    if (!bytes) return undefined;
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** How many bytes a message takes inside the encryption, to refuse an oversized one before it is queued. */
export function contentBytes(text: string, lang?: string): number {
  return encodeContent(text, lang).length;
}

export type DecodedContent = { ok: true; text: string; lang?: string } | { ok: false; code: string; reason: string };

export function decodeContent(bytes: Uint8Array): DecodedContent {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, code: 'BAD_CONTENT', reason: 'the decrypted message is not Parley message JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, code: 'BAD_CONTENT', reason: 'the decrypted message is not Parley message JSON' };
  }
  const v = value as { text?: unknown; lang?: unknown; type?: unknown };
  if (typeof v.text !== 'string') {
    const what = typeof v.type === 'string' ? ` (${v.type})` : '';
    return { ok: false, code: 'NOT_TEXT', reason: `an encrypted message of another kind${what}, which this app cannot show yet` };
  }
  return typeof v.lang === 'string' && validLang(v.lang) ? { ok: true, text: v.text, lang: v.lang } : { ok: true, text: v.text };
}

/** Plain UTF-8, as items of kind 'message' carried text before end-to-end encryption. */
export function decodeLegacyText(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Whether an item is something people said (an application message, or an old unencrypted
 * message), rather than the group's plumbing (Welcomes, the hub's commits). Unread counts and
 * contact history count only these.
 */
export function isConversationItem(item: Pick<Item, 'kind' | 'payload'>): boolean {
  if (item.kind === 'message') return true;
  if (item.kind !== 'mls') return false;
  const b = fromBase64url(item.payload.slice(0, 200));
  return b !== undefined && isApplicationMessage(b) && !isCallSignalHeader(b);
}

/**
 * The authenticated data (sent in the clear, covered by the MLS signature) of a call's WebRTC
 * signal: that an item is voice plumbing for some call is metadata the stations may see, like
 * the call events themselves; what it says (SDP, candidates) stays encrypted.
 */
export const SIGNAL_AAD: Uint8Array = new TextEncoder().encode('parley/call-signal');

/** Whether an application message's header carries SIGNAL_AAD (read without decrypting). */
export function isCallSignalHeader(b: Uint8Array): boolean {
  return headerAadIs(b, SIGNAL_AAD);
}

/**
 * Whether a PrivateMessage's authenticated data (RFC 9420 §6.3: version, wire format, group_id<V>,
 * epoch, content_type, authenticated_data<V>, in the clear) equals `aad`: how plumbing (voice
 * signals, read receipts) is told from messages without decrypting.
 */
export function headerAadIs(b: Uint8Array, aad: Uint8Array): boolean {
  if (b.length < 5 || b[0] !== 0 || b[1] !== 1 || b[2] !== 0 || b[3] !== 2) return false;
  const g = mlsVarint(b, 4);
  if (!g) return false;
  const a = mlsVarint(b, g.next + g.value + 8 + 1);
  if (!a || a.value !== aad.length || a.next + a.value > b.length) return false;
  for (let i = 0; i < aad.length; i++) if (b[a.next + i] !== aad[i]) return false;
  return true;
}

/** An RFC 9000 variable-length integer at `at` (1, 2 or 4 bytes in MLS): its value and where what follows starts. */
function mlsVarint(b: Uint8Array, at: number): { value: number; next: number } | null {
  if (at >= b.length) return null;
  const first = b[at] as number;
  const prefix = first >> 6;
  if (prefix === 3) return null;
  const size = 1 << prefix;
  if (at + size > b.length) return null;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + (b[at + i] as number);
  return { value, next: at + size };
}

/**
 * Whether MLS bytes are a PrivateMessage carrying application data (RFC 9420 §6: version
 * mls10, wire format mls_private_message, group_id<V>, epoch, content_type application). Read
 * from the header alone, so the dashboard need not load the MLS library to count messages.
 */
export function isApplicationMessage(b: Uint8Array): boolean {
  if (b.length < 5 || b[0] !== 0 || b[1] !== 1 || b[2] !== 0 || b[3] !== 2) return false;
  // group_id: a QUIC-style variable-length integer (1, 2 or 4 bytes), then that many bytes.
  const first = b[4] as number;
  const prefix = first >> 6;
  if (prefix === 3) return false;
  const size = 1 << prefix;
  let len = first & 0x3f;
  for (let i = 1; i < size; i++) len = len * 256 + (b[4 + i] ?? 0);
  const contentType = b[4 + size + len + 8];
  return contentType === 1;
}

import { fromBase64url, fromUtf8, toBase64url, utf8 } from '@parley/protocol/bytes';

// The one place that turns what an officer types into an item payload and back. For now a
// payload is the message's UTF-8 text, base64url-encoded, exactly as the CLI sends it; end-to-end
// encryption (MLS) will replace both functions, and nothing else in the app looks inside a payload.

/** The station refuses payloads over 64 KiB of bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export type DecodedMessage = { ok: true; text: string } | { ok: false; reason: string };

export function encodeMessage(text: string): string {
  return toBase64url(utf8(text));
}

/** How many payload bytes a text takes, to refuse an oversized message before it is queued. */
export function payloadBytes(text: string): number {
  return utf8(text).length;
}

export function decodeMessage(payload: string): DecodedMessage {
  const bytes = fromBase64url(payload);
  if (!bytes) return { ok: false, reason: 'the payload is not valid base64url' };
  try {
    return { ok: true, text: fromUtf8(bytes) };
  } catch {
    return { ok: false, reason: 'the payload is not UTF-8 text (sent by a newer client?)' };
  }
}

import { checkLineEvent } from '@parley/calls';
import { checkMemberItem, checkPeerItem, type FrameVerdict } from '@parley/e2ee/frames';
import { decodeLineEvent } from '@parley/protocol';
import { parseRecordItem } from '../record/record-items.js';

/**
 * Whether an item on the peer's stream may be stored: MLS of the line's group (see
 * checkPeerItem), or, from the hub only, a line event it ordered: a well-formed call event with
 * an MLS body or none, or a joint-record entry.
 */
export function checkPeerStreamItem(lineId: string, kind: string, bytes: Uint8Array, peerIsHub: boolean): FrameVerdict {
  if (kind === 'translation') return { ok: true }; // checked with the database: checkPeerTranslation
  if (kind !== 'call' && kind !== 'record') return checkPeerItem(lineId, kind, bytes, peerIsHub);
  if (!peerIsHub) return { ok: false, reason: `only the hub sends ${kind} events` };
  const env = decodeLineEvent(bytes);
  if (!env) return { ok: false, reason: `a ${kind} event must be a JSON object` };
  if (kind === 'record') {
    // A joint-record entry the hub states (closed schema of its type, see record-items.ts).
    const rec = parseRecordItem(bytes);
    return rec.ok ? { ok: true } : { ok: false, reason: rec.reason };
  }
  const ev = checkLineEvent(env.event);
  if (!ev.ok) return { ok: false, reason: ev.error.message };
  if (env.body === null) return { ok: true };
  if (typeof env.body !== 'string') return { ok: false, reason: 'a call event\u2019s body is an MLS message or null' };
  const body = checkMemberItem(lineId, new Uint8Array(Buffer.from(env.body, 'base64url')));
  return body.ok ? body : { ok: false, reason: `the call event\u2019s body: ${body.reason}` };
}

// What a station may let onto a line, judged from the MLS framing alone (it holds no group state
// and reads no content). Clients send only application messages (PrivateMessage) of the line's
// group; the hub's stream also carries its commits (PublicMessage) and Welcomes. Anything else,
// plaintext above all, is refused at the door, so no station ever stores readable content.
import { encodeMlsMessage } from 'ts-mls';
import { decodeMls, peekMessage } from './message.js';

/** A line's MLS group id: the bytes of its line id. */
export function lineGroupId(lineId: string): Uint8Array {
  return new TextEncoder().encode(lineId);
}

export type FrameVerdict = { ok: true } | { ok: false; reason: string };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function peek(bytes: Uint8Array): ReturnType<typeof peekMessage> | undefined {
  try {
    return peekMessage(bytes);
  } catch {
    return undefined;
  }
}

/** A member's item on a line: an MLS application message of that line's group, nothing else. */
export function checkMemberItem(lineId: string, bytes: Uint8Array): FrameVerdict {
  const info = peek(bytes);
  if (!info) return { ok: false, reason: 'not an MLS message: only end-to-end encrypted messages may be sent on a line' };
  if (info.kind === 'handshake')
    return { ok: false, reason: 'commits are ordered by the line\u2019s hub: send them to the commits endpoint' };
  if (info.kind !== 'application') return { ok: false, reason: `an MLS ${info.kind.replace('_', ' ')} is not a message` };
  if (!sameBytes(info.groupId, lineGroupId(lineId))) return { ok: false, reason: 'the message belongs to another line\u2019s group' };
  return { ok: true };
}

/**
 * An item on the peer's stream. Only the hub (the inviting station) sends commits and Welcomes
 * on its stream; the other side's stream carries application messages only.
 */
export function checkPeerItem(lineId: string, kind: string, bytes: Uint8Array, peerIsHub: boolean): FrameVerdict {
  const info = peek(bytes);
  if (!info) return { ok: false, reason: 'not an MLS message' };
  if (kind === 'welcome') {
    if (!peerIsHub) return { ok: false, reason: 'only the hub sends Welcomes' };
    return info.kind === 'welcome' ? { ok: true } : { ok: false, reason: 'an item of kind welcome must be an MLS Welcome' };
  }
  if (kind !== 'mls') return { ok: false, reason: `items of kind ${kind} are not carried between stations` };
  if (info.kind === 'handshake') {
    if (!peerIsHub) return { ok: false, reason: 'only the hub sends commits on its stream' };
    if (!info.public || info.contentType !== 'commit') return { ok: false, reason: 'the hub sends commits as PublicMessage' };
  } else if (info.kind !== 'application') {
    return { ok: false, reason: `an MLS ${info.kind.replace('_', ' ')} does not travel on a line` };
  }
  if (!sameBytes(info.groupId, lineGroupId(lineId))) return { ok: false, reason: 'the message belongs to another line\u2019s group' };
  return { ok: true };
}

/**
 * For tests and benchmarks of the stations only: opaque bytes in the envelope of an MLS
 * application message of a line's group. The stations treat it like any member's message; no
 * member can decrypt it (recorders keep it as unreadable), and `opaqueBody` gets the bytes back.
 */
export function opaqueApplicationMessage(lineId: string, body: Uint8Array, epoch = 1n): Uint8Array {
  return encodeMlsMessage({
    version: 'mls10',
    wireformat: 'mls_private_message',
    privateMessage: {
      groupId: lineGroupId(lineId),
      epoch,
      contentType: 'application',
      authenticatedData: new Uint8Array(0),
      encryptedSenderData: new Uint8Array(32),
      ciphertext: body,
    },
  });
}

export function opaqueBody(bytes: Uint8Array): Uint8Array {
  const msg = decodeMls(bytes);
  if (msg.wireformat !== 'mls_private_message') throw new Error('not an opaque application message');
  return msg.privateMessage.ciphertext;
}

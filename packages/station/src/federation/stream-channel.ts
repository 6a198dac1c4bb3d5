import { createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';

// The line's item stream between two stations over one long-lived WebSocket (issue 3: an HTTP
// request and four Ed25519 operations per batch were most of a hop's cost). The upgrade request is
// signed like every federation request (station key, timestamp, nonce), with the sender's
// ephemeral X25519 key as the signed body; the receiver answers first with its own ephemeral key,
// signed and bound to that nonce. Both derive two MAC keys (one per direction) with HKDF over the
// shared secret, salted with the nonce, so every connection has fresh keys. Each frame then
// carries a counter and an HMAC-SHA-256: a frame altered, injected, replayed, reordered or
// reflected back fails its MAC or its counter. Primitives are Node's crypto (OpenSSL); nothing
// here is new cryptography, only the usual signed-ephemeral key agreement.

export const STREAM_EPHEMERAL_HEADER = 'parley-ephemeral';
const INFO = Buffer.from('parley fed stream v1');
const COUNTER_BYTES = 8;
const MAC_BYTES = 32;

export function streamPath(lineId: string): string {
  return `/fed/v1/lines/${lineId}/stream`;
}

export interface Ephemeral {
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

export function newEphemeral(): Ephemeral {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { publicKey: new Uint8Array(Buffer.from(x, 'base64url')), privateKey };
}

export interface ChannelKeys {
  send: Buffer;
  receive: Buffer;
}

/**
 * The two MAC keys of one connection. `role` says which side we are: the station that opened
 * the connection (and sends the items) or the one that accepted it.
 */
export function channelKeys(ours: Ephemeral, theirPublic: Uint8Array, nonce: string, role: 'opener' | 'acceptor'): ChannelKeys {
  if (theirPublic.length !== 32) throw new Error('an X25519 public key is 32 bytes');
  const theirs = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(theirPublic).toString('base64url') }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: ours.privateKey, publicKey: theirs });
  if (shared.every((b) => b === 0)) throw new Error('the peer sent a low-order key');
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.from(nonce), INFO, 64));
  const toAcceptor = okm.subarray(0, 32);
  const toOpener = okm.subarray(32, 64);
  return role === 'opener' ? { send: toAcceptor, receive: toOpener } : { send: toOpener, receive: toAcceptor };
}

function mac(key: Buffer, counter: Buffer, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(counter).update(body).digest();
}

/** counter (8 bytes, big-endian) ‖ HMAC(key, counter ‖ body) ‖ body */
export function sealFrame(key: Buffer, counter: number, body: Uint8Array): Buffer {
  const c = Buffer.alloc(COUNTER_BYTES);
  c.writeBigUInt64BE(BigInt(counter));
  return Buffer.concat([c, mac(key, c, body), body]);
}

/** The body of a frame sealed with `key` as number `expected`, or null if it is anything else. */
export function openFrame(key: Buffer, expected: number, frame: Uint8Array): Buffer | null {
  if (frame.length < COUNTER_BYTES + MAC_BYTES) return null;
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const c = buf.subarray(0, COUNTER_BYTES);
  const body = buf.subarray(COUNTER_BYTES + MAC_BYTES);
  const ok = timingSafeEqual(mac(key, c, body), buf.subarray(COUNTER_BYTES, COUNTER_BYTES + MAC_BYTES));
  if (!ok || c.readBigUInt64BE() !== BigInt(expected)) return null;
  return body;
}

import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, concatBytes, toHex, utf8 } from './bytes.js';

/**
 * A station's fingerprint: the first 20 bytes of SHA-256 over its raw Ed25519 public key, as
 * ten groups of four hex digits. Short enough to read aloud, long enough (160 bits) that
 * nobody can make a second key to match it.
 */
export function stationFingerprint(publicKey: Uint8Array): string {
  const hex = toHex(sha256(publicKey).subarray(0, 20));
  return hex.match(/.{4}/g)!.join(' ');
}

/** The fingerprint without spaces, as it travels in headers and invitations. */
export function compactFingerprint(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey).subarray(0, 20));
}

/**
 * The safety number of a pair of stations: the same on both sides because the keys are
 * sorted before hashing. Twelve groups of five digits, read out by the two operators over a
 * channel they already trust (a phone call, a diplomatic bag). If the digits differ, someone
 * is in the middle.
 */
export function safetyNumber(keyA: Uint8Array, keyB: Uint8Array): string {
  const [lo, hi] = compareBytes(keyA, keyB) <= 0 ? [keyA, keyB] : [keyB, keyA];
  const digest = sha256(concatBytes(utf8('parley-safety-number-v1'), lo, hi));
  const groups: string[] = [];
  for (let i = 0; i < 12; i++) {
    // 5 digits from 20 bits taken from successive bytes; bias is negligible for comparison use.
    const b = i * 2;
    const n = (((digest[b] as number) << 12) | ((digest[b + 1] as number) << 4) | ((digest[24 + (i % 8)] as number) >> 4)) % 100000;
    groups.push(n.toString().padStart(5, '0'));
  }
  return groups.join(' ');
}

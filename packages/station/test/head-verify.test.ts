import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { headSigningBytes, makeHead, nobleEd25519Verify, type TreeHead, verifyHeadSignature } from '@parley/record';
import { nodeEd25519Verify } from '../src/identity/station-key.js';

// The station checks the peer's record heads with Node's Ed25519 (OpenSSL) instead of the record
// package's pure-JS default. Both must give the same answer on every kind of signature the
// record package's own tests reject, or the two stations could disagree on what counts.

const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function addL(sig: Uint8Array): Uint8Array {
  // S (the second half, little-endian) + L: verifies under lenient checks, not under RFC 8032.
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] as number);
  s += L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return s === 0n ? out : sig; // S + L must still fit in 32 bytes
}

test('Node and the record package agree on which head signatures are valid', () => {
  const secret = ed25519.utils.randomSecretKey();
  const key = ed25519.getPublicKey(secret);
  const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const head: TreeHead = makeHead('line-verify-test', 3, new Uint8Array(32).fill(7), '2026-11-26T05:00:00.000Z');
  const good = ed25519.sign(headSigningBytes(head), secret);
  const withoutContext = ed25519.sign(new TextEncoder().encode(JSON.stringify(head)), secret);
  const smallOrderKey = new Uint8Array(32);
  smallOrderKey[0] = 1;
  const universal = new Uint8Array(64);
  universal[0] = 1;
  const flipped = good.slice();
  flipped[10] = (flipped[10] as number) ^ 1;
  const cases: [string, Uint8Array, Uint8Array, boolean][] = [
    ['valid', good, key, true],
    ['another key', good, other, false],
    ['a flipped bit', flipped, key, false],
    ['signed without the context', withoutContext, key, false],
    ['S + L (malleated)', addL(good), key, false],
    ['the small-order key and its universal signature', universal, smallOrderKey, false],
  ];
  for (const [what, sig, pub, expected] of cases) {
    assert.equal(verifyHeadSignature(head, sig, pub), expected, `record package: ${what}`);
    assert.equal(verifyHeadSignature(head, sig, pub, nodeEd25519Verify), expected, `node: ${what}`);
    assert.equal(nobleEd25519Verify(sig, headSigningBytes(head), pub), expected, `noble directly: ${what}`);
  }
  assert.notDeepEqual(addL(good), good, 'the malleated case really differs');
});

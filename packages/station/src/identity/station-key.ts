import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { compactFingerprint, stationFingerprint } from '@parley/protocol';

/**
 * The station's long-term Ed25519 identity. Node's crypto does the signing (OpenSSL); the
 * private key never leaves this object except through `exportPrivatePem` at init time.
 */
export class StationKey {
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly compactFingerprint: string;

  private constructor(private readonly privateKey: KeyObject) {
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
    this.fingerprint = stationFingerprint(this.publicKey);
    this.compactFingerprint = compactFingerprint(this.publicKey);
  }

  static generate(): StationKey {
    return new StationKey(generateKeyPairSync('ed25519').privateKey);
  }

  static fromPem(pem: string): StationKey {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('station key is not Ed25519');
    return new StationKey(key);
  }

  exportPrivatePem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.privateKey));
  }

  /** Keep the key out of logs and JSON, whatever a caller does with this object. */
  toJSON(): object {
    return { fingerprint: this.fingerprint };
  }
}

const publicKeyCache = new Map<string, KeyObject>();

export function publicKeyObject(raw: Uint8Array): KeyObject {
  const b64 = Buffer.from(raw).toString('base64url');
  let key = publicKeyCache.get(b64);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64 }, format: 'jwk' });
    publicKeyCache.set(b64, key);
  }
  return key;
}

export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

const strictKeys = new Map<string, boolean>();

/**
 * A key strict RFC 8032 verification can accept: canonically encoded, of full prime order.
 * OpenSSL checks S and R strictly but takes any point as the key, so with a small-order key
 * a fixed "signature" verifies for every message (test/head-verify.test.ts); a station that
 * pinned such a key could later disown whatever it signed. Decided once per key, by noble.
 */
function strictKey(publicKey: Uint8Array): boolean {
  const b64 = Buffer.from(publicKey).toString('base64url');
  let ok = strictKeys.get(b64);
  if (ok === undefined) {
    try {
      const point = ed25519.Point.fromBytes(publicKey, false);
      ok = !point.isSmallOrder() && point.isTorsionFree();
    } catch {
      ok = false;
    }
    if (strictKeys.size > 10_000) strictKeys.clear();
    strictKeys.set(b64, ok);
  }
  return ok;
}

/**
 * `@parley/record`'s Ed25519Verify done by OpenSSL: as strict as the record package's pure-JS
 * default (same answers, test/head-verify.test.ts) and ~30× faster, which matters because a
 * peer's head is checked on the event loop that delivers items.
 */
export const nodeEd25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean =>
  publicKey.length === 32 && strictKey(publicKey) && verifySignature(publicKey, message, signature);

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
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

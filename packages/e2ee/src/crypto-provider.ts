// The crypto provider Parley hands to ts-mls. It is ts-mls's own `nobleCryptoProvider` with two
// pieces swapped for faster implementations from the same audited libraries; nothing here is a
// new primitive, and the MLS test vectors run against this provider (test/mls-vectors.test.ts).
//
// Why: profiling one application message (encrypt + decrypt, ~4 ms with the stock providers)
// showed most of the time in WebCrypto key *imports*, not in cryptography: ts-mls imports the
// Ed25519 signing key from PKCS#8 on every signature and the HKDF key on every HMAC. Here
//  - HKDF runs in @noble/hashes (synchronous, no key objects), and
//  - Ed25519 keeps WebCrypto's native sign/verify but caches the imported CryptoKey per key
//    buffer, so the import happens once per member instead of once per message.
// Where WebCrypto has no Ed25519 (older browsers) signatures fall back to @noble/curves.
import { ed25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import {
  type Ciphersuite,
  type CiphersuiteImpl,
  type CryptoProvider,
  type Kdf,
  type KdfAlgorithm,
  nobleCryptoProvider,
  type Signature,
} from 'ts-mls';
import { bytesEqual } from './encoding.js';

function nobleHkdf(alg: KdfAlgorithm): Kdf {
  const hash = alg === 'HKDF-SHA256' ? sha256 : alg === 'HKDF-SHA384' ? sha384 : sha512;
  return {
    size: hash.outputLen,
    async extract(salt, ikm) {
      return extract(hash, ikm, salt);
    },
    async expand(prk, info, len) {
      return expand(hash, prk, info, len);
    },
  };
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): a fixed 16-byte DER prefix.
const PKCS8_ED25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

/** ts-mls hands us either a raw 32-byte seed or a PKCS#8 document (what WebCrypto exports). */
export function ed25519Seed(signKey: Uint8Array): Uint8Array {
  if (signKey.length === 32) return signKey;
  if (signKey.length === 48 && bytesEqual(signKey.subarray(0, 16), PKCS8_ED25519_PREFIX)) return signKey.subarray(16);
  throw new Error('Ed25519 signing key must be a 32-byte seed or PKCS#8');
}

function toPkcs8(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(48);
  out.set(PKCS8_ED25519_PREFIX);
  out.set(seed, 16);
  return out;
}

/**
 * Imported keys, cached by the identity of the key buffer. ts-mls passes the same Uint8Array for
 * a member's key on every message (states share it), so a WeakMap hit is the common case and
 * nothing is kept alive once the state is gone. The stored copy guards against a buffer whose
 * contents were changed after import.
 */
class KeyCache {
  private readonly map = new WeakMap<Uint8Array, { copy: Uint8Array; key: Promise<CryptoKey> }>();

  get(bytes: Uint8Array, importKey: (b: Uint8Array) => Promise<CryptoKey>): Promise<CryptoKey> {
    const hit = this.map.get(bytes);
    if (hit && bytesEqual(hit.copy, bytes)) return hit.key;
    const copy = bytes.slice();
    const key = importKey(copy);
    this.map.set(bytes, { copy, key });
    key.catch(() => this.map.delete(bytes));
    return key;
  }
}

export function webCryptoEd25519(subtle: SubtleCrypto): Signature {
  const signKeys = new KeyCache();
  const verifyKeys = new KeyCache();
  return {
    async sign(signKey, message) {
      const key = await signKeys.get(signKey, (k) => subtle.importKey('pkcs8', toPkcs8(ed25519Seed(k)), 'Ed25519', false, ['sign']));
      return new Uint8Array(await subtle.sign('Ed25519', key, message as Uint8Array<ArrayBuffer>));
    },
    async verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      let key: CryptoKey;
      try {
        key = await verifyKeys.get(publicKey, (k) => subtle.importKey('raw', k as Uint8Array<ArrayBuffer>, 'Ed25519', false, ['verify']));
      } catch {
        return false; // not a valid point
      }
      return subtle.verify('Ed25519', key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
    },
    async keygen() {
      const signKey = ed25519.utils.randomSecretKey();
      return { signKey, publicKey: ed25519.getPublicKey(signKey) };
    },
  };
}

export function nobleEd25519(): Signature {
  return {
    async sign(signKey, message) {
      return ed25519.sign(message, ed25519Seed(signKey));
    },
    async verify(publicKey, message, signature) {
      try {
        return ed25519.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    },
    async keygen() {
      const signKey = ed25519.utils.randomSecretKey();
      return { signKey, publicKey: ed25519.getPublicKey(signKey) };
    },
  };
}

// RFC 8032 §7.1 test 1: used once to decide whether this runtime's WebCrypto does Ed25519 right.
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

function hex(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

let ed25519Impl: Promise<Signature> | undefined;

/** The Ed25519 implementation for this runtime, chosen once. */
export function ed25519Signature(): Promise<Signature> {
  ed25519Impl ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle) {
      try {
        const key = await subtle.importKey('raw', hex(RFC8032_PUBLIC), 'Ed25519', false, ['verify']);
        if (await subtle.verify('Ed25519', key, hex(RFC8032_SIGNATURE), new Uint8Array(0))) return webCryptoEd25519(subtle);
      } catch {
        // no Ed25519 in this WebCrypto
      }
    }
    return nobleEd25519();
  })();
  return ed25519Impl;
}

export const parleyCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
    const base = await nobleCryptoProvider.getCiphersuiteImpl(cs);
    return {
      ...base,
      kdf: nobleHkdf(cs.hpke.kdf),
      signature: cs.signature === 'Ed25519' ? await ed25519Signature() : base.signature,
    };
  },
};

import { type CiphersuiteImpl, type CiphersuiteName, ciphersuites, getCiphersuiteFromName, getCiphersuiteImpl } from 'ts-mls';
import { parleyCryptoProvider } from './crypto-provider.js';

/**
 * Post-quantum hybrid: X-Wing (X25519 + ML-KEM-768) for every HPKE encryption in the tree and
 * the Welcome, ChaCha20-Poly1305 for messages, SHA-512, Ed25519 signatures. The parties Parley
 * serves record each other's traffic today to decrypt it later; a classical-only KEM would let
 * a future quantum computer open the recorded key exchanges, and with them every message.
 * Signatures stay classical: forging one later cannot change what was already delivered.
 */
export const PREFERRED_CIPHERSUITE = 'MLS_256_XWING_CHACHA20POLY1305_SHA512_Ed25519' satisfies CiphersuiteName;

/** Classical fallback (RFC 9420 suite 3), for peers that cannot run X-Wing. */
export const FALLBACK_CIPHERSUITE = 'MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519' satisfies CiphersuiteName;

export const SUPPORTED_CIPHERSUITES = [PREFERRED_CIPHERSUITE, FALLBACK_CIPHERSUITE] as const;
export type SupportedCiphersuite = (typeof SUPPORTED_CIPHERSUITES)[number];

export function isSupportedCiphersuite(name: unknown): name is SupportedCiphersuite {
  return (SUPPORTED_CIPHERSUITES as readonly unknown[]).includes(name);
}

export function ciphersuiteId(name: SupportedCiphersuite): number {
  return ciphersuites[name];
}

export function ciphersuiteFromId(id: number): SupportedCiphersuite | undefined {
  return SUPPORTED_CIPHERSUITES.find((s) => ciphersuites[s] === id);
}

const impls = new Map<SupportedCiphersuite, Promise<CiphersuiteImpl>>();

/** The ts-mls implementation of a suite, built once per process (it loads optional modules). */
export function suiteImpl(name: SupportedCiphersuite): Promise<CiphersuiteImpl> {
  let impl = impls.get(name);
  if (!impl) {
    impl = getCiphersuiteImpl(getCiphersuiteFromName(name), parleyCryptoProvider);
    impls.set(name, impl);
    impl.catch(() => impls.delete(name));
  }
  return impl;
}

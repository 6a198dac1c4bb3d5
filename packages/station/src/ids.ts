import { createHash, randomBytes } from 'node:crypto';

/** 128-bit random identifier, base64url (22 characters). */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** 256-bit random secret for enrollment and sessions, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Secrets with 256 bits of entropy need no slow hash: SHA-256 is enough to make a stolen
 * database useless for logging in, and it keeps lookups by hash possible.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

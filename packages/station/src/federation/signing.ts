import { createHash, randomBytes } from 'node:crypto';
import { FED_HEADERS } from '@parley/protocol';
import type { StationKey } from '../identity/station-key.js';
import { verifySignature } from '../identity/station-key.js';

// What a station signs on every federation request: method, path, time, a fresh nonce and
// the body's hash. Domain-separated from everything else the key signs.
function requestInput(method: string, path: string, timestamp: string, nonce: string, body: Uint8Array): Buffer {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`PARLEY-FED-REQ-V1\n${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`);
}

// A response is bound to the request's nonce, so an old response cannot be replayed as the
// answer to a new request (an attacker faking an acknowledgement).
function responseInput(nonce: string, status: number, body: Uint8Array): Buffer {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`PARLEY-FED-RES-V1\n${nonce}\n${status}\n${bodyHash}`);
}

export function signRequest(key: StationKey, method: string, path: string, body: Uint8Array, now = Date.now()): Record<string, string> {
  const timestamp = String(now);
  const nonce = randomBytes(16).toString('base64url');
  const signature = Buffer.from(key.sign(requestInput(method, path, timestamp, nonce, body))).toString('base64url');
  return {
    [FED_HEADERS.station]: key.compactFingerprint,
    [FED_HEADERS.timestamp]: timestamp,
    [FED_HEADERS.nonce]: nonce,
    [FED_HEADERS.signature]: signature,
  };
}

export function verifyRequest(
  publicKey: Uint8Array,
  method: string,
  path: string,
  headers: { timestamp: string; nonce: string; signature: string },
  body: Uint8Array,
): boolean {
  return verifySignature(
    publicKey,
    requestInput(method, path, headers.timestamp, headers.nonce, body),
    Buffer.from(headers.signature, 'base64url'),
  );
}

export function signResponse(key: StationKey, nonce: string, status: number, body: Uint8Array): string {
  return Buffer.from(key.sign(responseInput(nonce, status, body))).toString('base64url');
}

export function verifyResponse(publicKey: Uint8Array, nonce: string, status: number, body: Uint8Array, signature: string): boolean {
  return verifySignature(publicKey, responseInput(nonce, status, body), Buffer.from(signature, 'base64url'));
}

// Who may be in a line's group. The caller (client or station) supplies the line's policy: the
// pinned key of each station on the line and the seats the line has. A leaf is admitted only if
// its credential carries a binding signed by the station it names, and that (station, handle)
// holds a seat. Every member applies this to every leaf it learns about: key packages it adds,
// adds and update paths in commits it receives, the whole tree when it joins.
import type { AuthenticationService, Credential } from 'ts-mls';
import { bindingFromCredential, type SignedDeviceBinding, verifyBinding } from './binding.js';
import { toHex } from './encoding.js';
import { E2eeError } from './errors.js';

export interface Seat {
  readonly station: string;
  readonly handle: string;
}

export interface LinePolicy {
  /** Station name → that station's pinned Ed25519 identity key (32 bytes). */
  readonly stationKeys: ReadonlyMap<string, Uint8Array>;
  /** Every (station, handle) holding a seat on the line, the stations' recorders included. */
  readonly seats: readonly Seat[];
}

export type CredentialCheck =
  | { readonly ok: true; readonly binding: SignedDeviceBinding }
  | { readonly ok: false; readonly code: 'BAD_BINDING' | 'NOT_SEATED'; readonly reason: string };

export function assertPolicy(policy: LinePolicy): void {
  if (!policy || !(policy.stationKeys instanceof Map) || !Array.isArray(policy.seats)) {
    throw new E2eeError('INVALID_ARGUMENT', 'line policy needs stationKeys (a Map) and seats (an array)');
  }
  for (const [name, key] of policy.stationKeys) {
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      throw new E2eeError('INVALID_ARGUMENT', `line policy: the key of station ${JSON.stringify(name)} must be 32 bytes`);
    }
  }
}

// Verifying a station signature costs ~3 ms in pure JS, and the same leaves are checked again at
// every join and commit. The outcome depends only on these bytes, so successes are memoised.
const verified = new Set<string>();
const MAX_VERIFIED = 10_000;

function verifiedOnce(binding: SignedDeviceBinding, identity: Uint8Array, stationKey: Uint8Array): boolean {
  const key = `${toHex(stationKey)}.${toHex(identity)}.${toHex(binding.signatureKey)}`;
  if (verified.has(key)) return true;
  if (!verifyBinding(binding, stationKey)) return false;
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.add(key);
  return true;
}

function seated(policy: LinePolicy, station: string, handle: string): boolean {
  return policy.seats.some((s) => s.station === station && s.handle === handle);
}

export function checkCredential(credential: Credential, signatureKey: Uint8Array, policy: LinePolicy): CredentialCheck {
  if (credential.credentialType !== 'basic') {
    return { ok: false, code: 'BAD_BINDING', reason: `credential type ${credential.credentialType} is not a Parley device credential` };
  }
  let binding: SignedDeviceBinding;
  try {
    binding = bindingFromCredential(credential.identity, signatureKey);
  } catch (e) {
    return { ok: false, code: 'BAD_BINDING', reason: e instanceof Error ? e.message : 'unreadable credential' };
  }
  const who = `${binding.handle}@${binding.station} device ${binding.deviceId}`;
  const stationKey = policy.stationKeys.get(binding.station);
  if (!stationKey) return { ok: false, code: 'BAD_BINDING', reason: `${who}: station ${binding.station} is not on this line` };
  if (!verifiedOnce(binding, credential.identity, stationKey)) {
    return { ok: false, code: 'BAD_BINDING', reason: `${who}: binding is not signed by station ${binding.station}` };
  }
  if (!seated(policy, binding.station, binding.handle)) {
    return { ok: false, code: 'NOT_SEATED', reason: `${who}: ${binding.handle}@${binding.station} holds no seat on this line` };
  }
  return { ok: true, binding };
}

/** Collects why ts-mls's credential callback said no, so we can report our own code. */
export class CheckLog {
  readonly failures: Extract<CredentialCheck, { ok: false }>[] = [];

  first(): Extract<CredentialCheck, { ok: false }> | undefined {
    return this.failures[0];
  }
}

export function policyAuthService(policy: LinePolicy, log: CheckLog): AuthenticationService {
  return {
    async validateCredential(credential, signatureKey) {
      const result = checkCredential(credential, signatureKey, policy);
      if (!result.ok) log.failures.push(result);
      return result.ok;
    },
  };
}

/** For operations that must not admit anyone (encrypting, removing): fails closed if asked. */
export const denyAllAuthService: AuthenticationService = {
  async validateCredential() {
    return false;
  },
};

// Test fixtures: stations with real Ed25519 keys (Node's crypto, as the station package signs),
// bound devices, and the line policy that seats them.
import { generateKeyPairSync, sign } from 'node:crypto';
import assert from 'node:assert/strict';
import {
  attachBinding,
  createKeyPackage,
  type DeviceIdentity,
  E2eeError,
  type E2eeErrorCode,
  type GroupState,
  generateDevice,
  type LinePolicy,
  type Seat,
  serializeGroup,
  signBinding,
  type SupportedCiphersuite,
} from '../src/index.js';

export interface TestStation {
  readonly name: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function makeStation(name: string): TestStation {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    name,
    publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

let deviceCounter = 0;

/** A device whose binding `signer` signed (by default its own station, as it should be). */
export async function makeDevice(
  station: TestStation,
  handle: string,
  opts: { signer?: TestStation; ciphersuite?: SupportedCiphersuite; issuedAt?: number } = {},
): Promise<DeviceIdentity> {
  deviceCounter += 1;
  const deviceId = `dev-${handle}-${deviceCounter}`.padEnd(8, '0');
  const device = await generateDevice({
    station: station.name,
    handle,
    deviceId,
    ...(opts.ciphersuite ? { ciphersuite: opts.ciphersuite } : {}),
  });
  const binding = await signBinding(
    { station: station.name, handle, deviceId, signatureKey: device.signaturePublicKey, issuedAt: opts.issuedAt ?? Date.now() },
    (m) => (opts.signer ?? station).sign(m),
  );
  // attachBinding verifies against the key the device pinned: for a forged binding, pin the forger.
  return attachBinding(device, binding, (opts.signer ?? station).publicKey);
}

export function makePolicy(stations: readonly TestStation[], seats: readonly Seat[]): LinePolicy {
  return { stationKeys: new Map(stations.map((s) => [s.name, s.publicKey])), seats };
}

export async function keyPackageOf(device: DeviceIdentity) {
  return createKeyPackage(device);
}

/** Assert that `fn` rejects with an E2eeError of `code`. */
export async function rejectsWith(fn: () => Promise<unknown>, code: E2eeErrorCode): Promise<E2eeError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof E2eeError, `expected E2eeError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected E2eeError ${code}, but it resolved`);
}

/** Assert a state's full serialization (every secret included) did not change. */
export function assertUnchanged(state: GroupState, before: Uint8Array): void {
  assert.deepEqual(serializeGroup(state), before, 'state changed');
}

export const text = (s: string) => new TextEncoder().encode(s);
export const untext = (b: Uint8Array) => new TextDecoder().decode(b);

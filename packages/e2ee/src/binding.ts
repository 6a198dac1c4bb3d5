// Station vouching. A device's MLS credential is only as good as the station that stands behind
// it: each station signs, with its pinned Ed25519 identity key, a *binding* of one device's MLS
// signature key to (station, handle, device id). The signed binding travels inside the device's
// basic credential, so every member of a line's group can check every leaf on its own, offline,
// against the station keys both sides pinned in the link ceremony.
import { ed25519 } from '@noble/curves/ed25519.js';
import { Reader, utf8, Writer } from './encoding.js';
import { E2eeError } from './errors.js';

export interface DeviceBinding {
  /** The vouching station's name, as pinned in the link ceremony. */
  readonly station: string;
  /** The member's handle at that station. */
  readonly handle: string;
  /** The station's id for this device of the member. */
  readonly deviceId: string;
  /** The device's MLS signature public key (Ed25519, 32 bytes). */
  readonly signatureKey: Uint8Array;
  /** When the station vouched, in milliseconds since the Unix epoch. */
  readonly issuedAt: number;
}

export interface SignedDeviceBinding extends DeviceBinding {
  /** The station's Ed25519 signature over `bindingSigningInput(binding)`. */
  readonly stationSignature: Uint8Array;
}

/** Signs with the station's identity key. Node's crypto, an HSM, anything: we only need bytes. */
export type StationSigner = (message: Uint8Array) => Uint8Array | Promise<Uint8Array>;

// The same shapes the station and protocol packages accept (station config name, protocol
// Handle, protocol Id). Checked here too, so no credential can carry look-alike names.
const STATION_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const HANDLE = /^[a-z][a-z0-9_.-]{1,31}$/;
const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** What is wrong with a binding's fields, or undefined when they are well-formed. */
export function bindingFieldProblem(b: DeviceBinding): string | undefined {
  if (typeof b.station !== 'string' || !STATION_NAME.test(b.station)) return 'station name is not valid';
  if (typeof b.handle !== 'string' || !HANDLE.test(b.handle)) return 'handle is not valid';
  if (typeof b.deviceId !== 'string' || !DEVICE_ID.test(b.deviceId)) return 'device id is not valid';
  if (!(b.signatureKey instanceof Uint8Array) || b.signatureKey.length !== 32) return 'signature key must be 32 bytes';
  if (!Number.isSafeInteger(b.issuedAt) || b.issuedAt < 0) return 'issuedAt must be a non-negative integer (ms)';
  return undefined;
}

const SIGNING_DOMAIN = utf8('parley/device-binding/v1\0');

/** The exact bytes a station signs. Domain-separated so the signature means nothing elsewhere. */
export function bindingSigningInput(b: DeviceBinding): Uint8Array {
  const problem = bindingFieldProblem(b);
  if (problem) throw new E2eeError('INVALID_ARGUMENT', `device binding: ${problem}`);
  return new Writer()
    .raw(SIGNING_DOMAIN)
    .string(b.station)
    .string(b.handle)
    .string(b.deviceId)
    .raw(b.signatureKey)
    .u64(b.issuedAt)
    .finish();
}

/** Station side: vouch for a device. `sign` is the station's own Ed25519 signer. */
export async function signBinding(binding: DeviceBinding, sign: StationSigner): Promise<SignedDeviceBinding> {
  const input = bindingSigningInput(binding);
  const signature = await sign(input);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new E2eeError('INVALID_ARGUMENT', 'the station signer must return a 64-byte Ed25519 signature');
  }
  return freezeBinding({ ...binding, stationSignature: signature });
}

/** True when `stationPublicKey` signed exactly this binding. Strict RFC 8032 verification. */
export function verifyBinding(binding: SignedDeviceBinding, stationPublicKey: Uint8Array): boolean {
  if (bindingFieldProblem(binding) !== undefined) return false;
  if (!(binding.stationSignature instanceof Uint8Array) || binding.stationSignature.length !== 64) return false;
  if (!(stationPublicKey instanceof Uint8Array) || stationPublicKey.length !== 32) return false;
  try {
    return ed25519.verify(binding.stationSignature, bindingSigningInput(binding), stationPublicKey, { zip215: false });
  } catch {
    return false;
  }
}

function freezeBinding(b: SignedDeviceBinding): SignedDeviceBinding {
  return Object.freeze({
    station: b.station,
    handle: b.handle,
    deviceId: b.deviceId,
    signatureKey: b.signatureKey.slice(),
    issuedAt: b.issuedAt,
    stationSignature: b.stationSignature.slice(),
  });
}

// The credential identity carries everything but the signature key, which the MLS leaf node
// already holds: a binding is checked against the leaf's own key, so the two cannot disagree.
const IDENTITY_MAGIC = utf8('PRLY\x01');

export function credentialIdentity(b: SignedDeviceBinding): Uint8Array {
  const problem = bindingFieldProblem(b);
  if (problem) throw new E2eeError('INVALID_ARGUMENT', `device binding: ${problem}`);
  return new Writer()
    .raw(IDENTITY_MAGIC)
    .string(b.station)
    .string(b.handle)
    .string(b.deviceId)
    .u64(b.issuedAt)
    .raw(b.stationSignature)
    .finish();
}

/** The binding a leaf claims: its credential identity plus its signature key. Unverified. */
export function bindingFromCredential(identity: Uint8Array, signatureKey: Uint8Array): SignedDeviceBinding {
  const r = new Reader(identity, 'BAD_BINDING', 'credential identity');
  r.magic(IDENTITY_MAGIC);
  const station = r.string(64);
  const handle = r.string(32);
  const deviceId = r.string(64);
  const issuedAt = r.u64();
  const stationSignature = r.raw(64);
  r.end();
  const b = { station, handle, deviceId, signatureKey, issuedAt, stationSignature };
  const problem = bindingFieldProblem(b);
  if (problem) r.fail(problem);
  return freezeBinding(b);
}

/** A signed binding as bytes, for the station to hand to its device. */
export function encodeBinding(b: SignedDeviceBinding): Uint8Array {
  return new Writer().bytes(credentialIdentity(b)).raw(b.signatureKey).finish();
}

export function decodeBinding(bytes: Uint8Array): SignedDeviceBinding {
  const r = new Reader(bytes, 'MALFORMED', 'device binding');
  const identity = r.bytes(512);
  const signatureKey = r.raw(32);
  r.end();
  try {
    return bindingFromCredential(identity, signatureKey);
  } catch (e) {
    throw new E2eeError('MALFORMED', e instanceof Error ? e.message : 'device binding');
  }
}

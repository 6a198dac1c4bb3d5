// A device's long-term MLS identity: one Ed25519 signature key pair, and once its station has
// vouched for it, the station's signed binding. The private key never appears as a property: it
// lives in a WeakMap beside the frozen identity and leaves only through `exportDevice`, whose
// bytes the caller keeps wrapped (web app) or in a 0600 file (CLI).
import { ed25519 } from '@noble/curves/ed25519.js';
import { bindingFieldProblem, type SignedDeviceBinding, verifyBinding } from './binding.js';
import {
  ciphersuiteFromId,
  ciphersuiteId,
  isSupportedCiphersuite,
  PREFERRED_CIPHERSUITE,
  type SupportedCiphersuite,
  suiteImpl,
} from './ciphersuite.js';
import { bytesEqual, Reader, utf8, Writer } from './encoding.js';
import { E2eeError } from './errors.js';

export interface DeviceIdentity {
  readonly station: string;
  readonly handle: string;
  readonly deviceId: string;
  readonly ciphersuite: SupportedCiphersuite;
  /** The MLS signature public key: what the station binds and every member verifies. */
  readonly signaturePublicKey: Uint8Array;
  /** The station's binding, once it has vouched; a device cannot join a group before. */
  readonly binding: SignedDeviceBinding | undefined;
}

const signingKeys = new WeakMap<DeviceIdentity, Uint8Array>();

function makeDevice(fields: Omit<DeviceIdentity, 'signaturePublicKey'>, publicKey: Uint8Array, seed: Uint8Array): DeviceIdentity {
  const device: DeviceIdentity = Object.freeze({ ...fields, signaturePublicKey: publicKey.slice() });
  signingKeys.set(device, seed.slice());
  return device;
}

/** The device's signing key (32-byte Ed25519 seed). Package-internal. */
export function deviceSigningKey(device: DeviceIdentity): Uint8Array {
  const key = signingKeys.get(device);
  if (!key) throw new E2eeError('INVALID_ARGUMENT', 'not a device identity made by generateDevice or importDevice');
  return key;
}

export interface NewDevice {
  readonly station: string;
  readonly handle: string;
  readonly deviceId: string;
  readonly ciphersuite?: SupportedCiphersuite;
}

export async function generateDevice(opts: NewDevice): Promise<DeviceIdentity> {
  const ciphersuite = opts.ciphersuite ?? PREFERRED_CIPHERSUITE;
  if (!isSupportedCiphersuite(ciphersuite)) throw new E2eeError('WRONG_CIPHERSUITE', `unsupported ciphersuite ${String(ciphersuite)}`);
  const { signKey, publicKey } = await (await suiteImpl(ciphersuite)).signature.keygen();
  const fields = { station: opts.station, handle: opts.handle, deviceId: opts.deviceId };
  const problem = bindingFieldProblem({ ...fields, signatureKey: publicKey, issuedAt: 0 });
  if (problem) throw new E2eeError('INVALID_ARGUMENT', `new device: ${problem}`);
  return makeDevice({ ...fields, ciphersuite, binding: undefined }, publicKey, signKey);
}

/**
 * Device side: accept the binding the station returned, after checking that it is for this device
 * and key and that the station (whose key the device pinned at enrolment) really signed it.
 */
export function attachBinding(device: DeviceIdentity, binding: SignedDeviceBinding, stationPublicKey: Uint8Array): DeviceIdentity {
  const seed = deviceSigningKey(device);
  if (binding.station !== device.station || binding.handle !== device.handle || binding.deviceId !== device.deviceId) {
    throw new E2eeError('BAD_BINDING', 'the binding names another station, member or device');
  }
  if (!bytesEqual(binding.signatureKey, device.signaturePublicKey)) {
    throw new E2eeError('BAD_BINDING', 'the binding is for another signature key');
  }
  if (!verifyBinding(binding, stationPublicKey)) {
    throw new E2eeError('BAD_BINDING', `the binding is not signed by station ${device.station}`);
  }
  const { signaturePublicKey, ...fields } = device;
  return makeDevice({ ...fields, binding: Object.freeze({ ...binding }) }, signaturePublicKey, seed);
}

const DEVICE_MAGIC = utf8('PRLYDEV\x01');

/** The device's private state as bytes. Secret: whoever holds them can speak as this device. */
export function exportDevice(device: DeviceIdentity): Uint8Array {
  const w = new Writer()
    .raw(DEVICE_MAGIC)
    .u16(ciphersuiteId(device.ciphersuite))
    .string(device.station)
    .string(device.handle)
    .string(device.deviceId)
    .raw(deviceSigningKey(device))
    .raw(device.signaturePublicKey);
  if (device.binding) w.u8(1).u64(device.binding.issuedAt).raw(device.binding.stationSignature);
  else w.u8(0);
  return w.finish();
}

export function importDevice(bytes: Uint8Array): DeviceIdentity {
  const r = new Reader(bytes, 'BAD_STATE', 'device state');
  r.magic(DEVICE_MAGIC);
  const ciphersuite = ciphersuiteFromId(r.u16()) ?? r.fail('unsupported ciphersuite');
  const station = r.string(64);
  const handle = r.string(32);
  const deviceId = r.string(64);
  const seed = r.raw(32);
  const publicKey = r.raw(32);
  let binding: SignedDeviceBinding | undefined;
  const hasBinding = r.u8();
  if (hasBinding === 1) {
    binding = Object.freeze({ station, handle, deviceId, signatureKey: publicKey, issuedAt: r.u64(), stationSignature: r.raw(64) });
  } else if (hasBinding !== 0) r.fail('bad binding flag');
  r.end();
  const problem = bindingFieldProblem({ station, handle, deviceId, signatureKey: publicKey, issuedAt: binding?.issuedAt ?? 0 });
  if (problem) r.fail(problem);
  // Catches corrupted or mismatched key material before it produces unverifiable signatures.
  if (!bytesEqual(ed25519.getPublicKey(seed), publicKey)) r.fail('private and public keys do not match');
  return makeDevice({ station, handle, deviceId, ciphersuite, binding }, publicKey, seed);
}

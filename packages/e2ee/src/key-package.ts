// Key packages: how a device offers itself to be added to a line's group while it is offline.
// The device publishes the public half at its station and keeps the private half until a
// Welcome consumes it.
import {
  type CiphersuiteImpl,
  type Credential,
  defaultCapabilities,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  type KeyPackage,
  type PrivateKeyPackage,
} from 'ts-mls';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import { credentialIdentity } from './binding.js';
import { isSupportedCiphersuite, PREFERRED_CIPHERSUITE, type SupportedCiphersuite, suiteImpl } from './ciphersuite.js';
import { type DeviceIdentity, deviceSigningKey } from './device.js';
import { bytesEqual, Reader, toHex, utf8, Writer } from './encoding.js';
import { E2eeError } from './errors.js';
import { decodeMls } from './message.js';
import { assertPolicy, checkCredential, type LinePolicy } from './policy.js';
import { type MemberDevice, memberDevice } from './roster.js';

/** Key packages live four weeks unless the caller says otherwise. */
export const DEFAULT_KEY_PACKAGE_LIFETIME_MS = 28 * 24 * 3600 * 1000;
/** Accepted clock skew: a key package is valid from an hour before it was made. */
const NOT_BEFORE_SKEW_S = 3600;

export interface KeyPackageBundle {
  /** Public: the MLSMessage-framed KeyPackage to publish at the station. */
  readonly keyPackage: Uint8Array;
  /** Private: keep on the device until a Welcome uses it (see `joinFromWelcome`), then delete. */
  readonly secrets: Uint8Array;
  /** The KeyPackageRef (hex) by which Welcomes name it. */
  readonly ref: string;
  /** End of its lifetime, ms since the Unix epoch. */
  readonly notAfter: number;
}

export interface KeyPackageOptions {
  /** Current time in ms; defaults to the clock. */
  readonly now?: number;
  readonly lifetimeMs?: number;
}

export function deviceCredential(device: DeviceIdentity): Credential {
  if (!device.binding) throw new E2eeError('DEVICE_NOT_BOUND', 'the device has no binding from its station yet');
  return { credentialType: 'basic', identity: credentialIdentity(device.binding) };
}

const SECRETS_MAGIC = utf8('PRLYKPS\x01');

export async function createKeyPackage(device: DeviceIdentity, opts: KeyPackageOptions = {}): Promise<KeyPackageBundle> {
  const credential = deviceCredential(device);
  const now = opts.now ?? Date.now();
  const lifetimeMs = opts.lifetimeMs ?? DEFAULT_KEY_PACKAGE_LIFETIME_MS;
  if (!Number.isSafeInteger(now) || !Number.isSafeInteger(lifetimeMs) || lifetimeMs <= 0) {
    throw new E2eeError('INVALID_ARGUMENT', 'now and lifetimeMs must be positive integers (ms)');
  }
  const impl = await suiteImpl(device.ciphersuite);
  const nowS = Math.floor(now / 1000);
  const lifetime = { notBefore: BigInt(Math.max(0, nowS - NOT_BEFORE_SKEW_S)), notAfter: BigInt(Math.floor((now + lifetimeMs) / 1000)) };
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    credential,
    defaultCapabilities(),
    lifetime,
    [],
    { signKey: deviceSigningKey(device), publicKey: device.signaturePublicKey },
    impl,
  );
  const keyPackage = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage });
  const secrets = new Writer()
    .raw(SECRETS_MAGIC)
    .bytes(keyPackage)
    .bytes(privatePackage.initPrivateKey)
    .bytes(privatePackage.hpkePrivateKey)
    .finish();
  return Object.freeze({
    keyPackage,
    secrets,
    ref: toHex(await makeKeyPackageRef(publicPackage, impl.hash)),
    notAfter: Number(lifetime.notAfter) * 1000,
  });
}

export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const msg = decodeMls(bytes);
  if (msg.wireformat !== 'mls_key_package') throw new E2eeError('UNEXPECTED_MESSAGE', `expected a key package, got ${msg.wireformat}`);
  return msg.keyPackage;
}

/** A device's pending key package: its public half and the private keys to join with. */
export function readKeyPackageSecrets(bytes: Uint8Array): {
  keyPackage: KeyPackage;
  privateKeys: Omit<PrivateKeyPackage, 'signaturePrivateKey'>;
} {
  const r = new Reader(bytes, 'BAD_STATE', 'key package secrets');
  r.magic(SECRETS_MAGIC);
  const kp = r.bytes();
  const initPrivateKey = r.bytes(4096);
  const hpkePrivateKey = r.bytes(4096);
  r.end();
  return { keyPackage: decodeKeyPackage(kp), privateKeys: { initPrivateKey, hpkePrivateKey } };
}

export interface ValidKeyPackage {
  readonly device: MemberDevice;
  readonly ref: string;
  readonly ciphersuite: SupportedCiphersuite;
  /** Lifetime bounds, ms since the Unix epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Every check a member makes before adding a key package: suite, signatures, lifetime, binding, seat. */
export async function checkKeyPackage(
  kp: KeyPackage,
  policy: LinePolicy,
  ciphersuite: SupportedCiphersuite,
  now: number,
): Promise<ValidKeyPackage> {
  if (kp.version !== 'mls10') throw new E2eeError('BAD_KEY_PACKAGE', `unsupported MLS version ${kp.version}`);
  if (kp.cipherSuite !== ciphersuite) {
    throw new E2eeError('WRONG_CIPHERSUITE', `key package uses ${kp.cipherSuite}, the group uses ${ciphersuite}`);
  }
  const leaf = kp.leafNode;
  if (leaf.leafNodeSource !== 'key_package') throw new E2eeError('BAD_KEY_PACKAGE', 'leaf node is not from a key package');
  const impl: CiphersuiteImpl = await suiteImpl(ciphersuite);
  if (!(await verifyKeyPackage(kp, impl.signature)) || !(await verifyLeafNodeSignatureKeyPackage(leaf, impl.signature))) {
    throw new E2eeError('BAD_KEY_PACKAGE', 'key package signature does not verify');
  }
  if (bytesEqual(kp.initKey, leaf.hpkePublicKey)) throw new E2eeError('BAD_KEY_PACKAGE', 'init key and encryption key are the same');
  const nowS = BigInt(Math.floor(now / 1000));
  if (leaf.lifetime.notBefore > nowS || leaf.lifetime.notAfter < nowS) {
    throw new E2eeError('KEY_PACKAGE_EXPIRED', 'key package is outside its lifetime');
  }
  const check = checkCredential(leaf.credential, leaf.signaturePublicKey, policy);
  if (!check.ok) throw new E2eeError(check.code, check.reason);
  const toMs = (s: bigint) => (s > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000)) ? Number.MAX_SAFE_INTEGER : Number(s) * 1000);
  return Object.freeze({
    device: memberDevice(check.binding),
    ref: toHex(await makeKeyPackageRef(kp, impl.hash)),
    ciphersuite,
    notBefore: toMs(leaf.lifetime.notBefore),
    notAfter: toMs(leaf.lifetime.notAfter),
  });
}

export interface ValidateKeyPackageOptions {
  readonly now?: number;
  /** The line's ciphersuite; defaults to the preferred one. */
  readonly ciphersuite?: SupportedCiphersuite;
}

/** Check a received key package (for example, at the station before storing it). */
export async function validateKeyPackage(
  bytes: Uint8Array,
  policy: LinePolicy,
  opts: ValidateKeyPackageOptions = {},
): Promise<ValidKeyPackage> {
  assertPolicy(policy);
  const ciphersuite = opts.ciphersuite ?? PREFERRED_CIPHERSUITE;
  if (!isSupportedCiphersuite(ciphersuite)) throw new E2eeError('WRONG_CIPHERSUITE', `unsupported ciphersuite ${String(ciphersuite)}`);
  return checkKeyPackage(decodeKeyPackage(bytes), policy, ciphersuite, opts.now ?? Date.now());
}

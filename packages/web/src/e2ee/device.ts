import {
  attachBinding,
  createKeyPackage,
  type DeviceIdentity,
  decodeBinding,
  exportDevice,
  generateDevice,
  importDevice,
} from '@parley/e2ee';
import type { BindingResponse } from '@parley/protocol';
import { fromBase64url, toBase64url } from '@parley/protocol/bytes';
import { type Vault, withLock } from './vault.js';

// This browser's MLS device: one per login (the session's device id). Its signature key is made
// here and never leaves; the station vouches for it with a binding that the device checks against
// the station's key before using it. Key packages are made here too; their secrets stay in the
// vault until a Welcome uses one.

/** How many unused key packages the station should hold for this device. */
export const KEY_PACKAGE_TARGET = 5;
/** Secrets of key packages the station may still hand out; older ones are dropped. */
const MAX_KEY_PACKAGE_SECRETS = 60;

export interface DeviceRecord {
  v: 1;
  /** exportDevice(): the private key, and the binding once the station vouched. */
  device: Uint8Array;
  /** The station key that signed the binding: every line's policy must name the same key. */
  stationKey: Uint8Array | null;
  createdAt: number;
}

export interface KeyPackageSecret {
  ref: string;
  secrets: Uint8Array;
  createdAt: number;
  notAfter: number;
}

/** The calls to our station this module needs (api() in the app, a fake in tests). */
export type StationCall = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

export interface DeviceContext {
  vault: Vault;
  device: DeviceIdentity;
  stationKey: Uint8Array;
  /** Names Web Locks so that tabs of this browser take turns with this device's states. */
  lockPrefix: string;
  call: StationCall;
  now(): number;
}

export interface SessionIdentity {
  station: { name: string; fingerprint: string };
  handle: string;
  deviceId: string;
}

export class DeviceSetupError extends Error {
  override readonly name = 'DeviceSetupError';
}

const compact = (fp: string) => fp.replace(/\s+/g, '').toLowerCase();

/** SHA-256 of the bytes, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** First 20 bytes of SHA-256 of the key, hex: how the app names a station's key (as /me does). */
export async function keyFingerprint(key: Uint8Array): Promise<string> {
  return (await sha256Hex(key)).slice(0, 40);
}

/**
 * Load this login's device from the vault, or make it: a new key, kept (unbound) before the station
 * is asked to vouch for it, so a crash between the two never leaves the station holding a key this
 * browser lost. The binding is checked against the station key and kept beside the device.
 */
export async function setUpDevice(
  vault: Vault,
  who: SessionIdentity,
  call: StationCall,
  lockPrefix: string,
  now: () => number = Date.now,
): Promise<DeviceContext> {
  return withLock(`${lockPrefix}:device`, async () => {
    let rec = await vault.get<DeviceRecord>('device');
    let device: DeviceIdentity;
    if (rec) {
      device = importDevice(rec.device);
      if (device.station !== who.station.name || device.handle !== who.handle || device.deviceId !== who.deviceId) {
        throw new DeviceSetupError('the stored device belongs to another login; log out and in again');
      }
    } else {
      device = await generateDevice({ station: who.station.name, handle: who.handle, deviceId: who.deviceId });
      rec = { v: 1, device: exportDevice(device), stationKey: null, createdAt: now() };
      await vault.write([['device', rec]]);
    }
    if (!device.binding || !rec.stationKey) {
      const res = await call<BindingResponse>('POST', '/api/v1/devices/binding', { signatureKey: toBase64url(device.signaturePublicKey) });
      const stationKey = fromBase64url(res.station.publicKey);
      const binding = fromBase64url(res.binding);
      if (stationKey?.length !== 32 || !binding) throw new DeviceSetupError('the station sent a malformed binding');
      if (res.station.name !== who.station.name || res.deviceId !== who.deviceId) {
        throw new DeviceSetupError(`the binding names ${res.station.name}/${res.deviceId}, not this login`);
      }
      if ((await keyFingerprint(stationKey)) !== compact(who.station.fingerprint)) {
        throw new DeviceSetupError('the station vouched with a key whose fingerprint is not the station’s');
      }
      device = attachBinding(device, decodeBinding(binding), stationKey); // throws BAD_BINDING if not signed by it
      rec = { ...rec, device: exportDevice(device), stationKey };
      await vault.write([['device', rec]]);
    }
    return { vault, device, stationKey: rec.stationKey as Uint8Array, lockPrefix, call, now };
  });
}

export async function keyPackageSecrets(ctx: DeviceContext): Promise<KeyPackageSecret[]> {
  return (await ctx.vault.get<KeyPackageSecret[]>('key-packages')) ?? [];
}

/** A Welcome used these key packages: their secrets are of no further use and are deleted. */
export async function dropKeyPackages(ctx: DeviceContext, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return;
  await withLock(`${ctx.lockPrefix}:device`, async () => {
    const all = await keyPackageSecrets(ctx);
    await ctx.vault.write([['key-packages', all.filter((k) => !refs.includes(k.ref))]]);
  });
}

/**
 * Keep KEY_PACKAGE_TARGET unused key packages at the station (each line that adds this device
 * uses one). Secrets are stored before the key packages are uploaded.
 */
export async function topUpKeyPackages(ctx: DeviceContext): Promise<number> {
  return withLock(`${ctx.lockPrefix}:device`, async () => {
    const { unused } = await ctx.call<{ unused: number }>('GET', '/api/v1/devices/key-packages');
    const missing = KEY_PACKAGE_TARGET - unused;
    if (missing <= 0) return 0;
    const fresh = [];
    for (let i = 0; i < missing; i++) fresh.push(await createKeyPackage(ctx.device, { now: ctx.now() }));
    const now = ctx.now();
    const kept = (await keyPackageSecrets(ctx)).filter((k) => k.notAfter > now);
    const all = [...kept, ...fresh.map((k) => ({ ref: k.ref, secrets: k.secrets, createdAt: now, notAfter: k.notAfter }))].slice(
      -MAX_KEY_PACKAGE_SECRETS,
    );
    await ctx.vault.write([['key-packages', all]]);
    await ctx.call('POST', '/api/v1/devices/key-packages', { keyPackages: fresh.map((k) => toBase64url(k.keyPackage)) });
    return fresh.length;
  });
}

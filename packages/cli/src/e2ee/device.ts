// The CLI's MLS device: created once per station session (the station gives every login its own
// device id), vouched for by the station, and kept supplied with key packages so that the hub
// can add it to the groups of the lines its member holds a seat on.
import { attachBinding, createKeyPackage, type DeviceIdentity, decodeBinding, generateDevice } from '@parley/e2ee';
import { ParleyError, stationFingerprint } from '@parley/protocol';
import type { StationApi } from './station-api.js';
import type { DeviceStore, E2eeFile } from './store.js';

/** Key packages uploaded at once, and the level below which we top up. */
export const KEY_PACKAGE_BATCH = 5;
export const KEY_PACKAGE_LOW_WATER = 2;
const KEY_PACKAGE_CHECK_EVERY_MS = 60_000;

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
export const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));

/** Who this device is, as the profile knows it from the login. */
export interface DeviceOwner {
  stationName: string;
  stationFingerprint: string;
  handle: string;
  deviceId: string;
}

export interface DeviceContext {
  store: DeviceStore;
  api: StationApi;
  owner: DeviceOwner;
  device: DeviceIdentity;
  e2ee: E2eeFile;
  now: () => number;
}

const compact = (fp: string) => fp.replace(/\s+/g, '').toLowerCase();

/**
 * Load this profile's device, creating and binding it if needed, and top up its key packages.
 * Safe to call again after any interruption: the unbound device is saved before the station is
 * asked to vouch for it (the station binds one key per device id, forever).
 */
export async function ensureDevice(
  store: DeviceStore,
  api: StationApi,
  owner: DeviceOwner,
  opts: { now?: () => number; forceKeyPackageCheck?: boolean } = {},
): Promise<DeviceContext> {
  const now = opts.now ?? Date.now;
  let device = store.loadDevice();
  let e2ee = store.loadE2ee();
  const oldId = device?.deviceId ?? e2ee?.deviceId;
  if (oldId !== undefined && oldId !== owner.deviceId) {
    store.retireDevice(oldId);
    device = undefined;
    e2ee = undefined;
  }
  if (device && (device.station !== owner.stationName || device.handle !== owner.handle)) {
    throw new ParleyError(
      'PROFILE_MISSING',
      `the device in ${store.dir} belongs to ${device.handle}@${device.station}`,
      'use another --profile',
    );
  }
  if (!device) {
    device = await generateDevice({ station: owner.stationName, handle: owner.handle, deviceId: owner.deviceId });
    store.saveDevice(device);
  }
  if (!e2ee) {
    e2ee = {
      version: 1,
      deviceId: owner.deviceId,
      stationName: owner.stationName,
      stationPublicKey: null,
      keyPackages: [],
      lastKeyPackageCheck: 0,
    };
    store.saveE2ee(e2ee);
  }
  if (!device.binding || !e2ee.stationPublicKey) {
    const answer = await api.binding(b64(device.signaturePublicKey));
    if (answer.deviceId !== owner.deviceId || answer.station.name !== owner.stationName) {
      throw new ParleyError(
        'E2EE_REFUSED',
        `the station vouched for device ${answer.deviceId} of station ${answer.station.name}, not for this device (${owner.deviceId} at ${owner.stationName})`,
      );
    }
    const stationKey = unb64(answer.station.publicKey);
    if (stationKey.length !== 32 || compact(stationFingerprint(stationKey)) !== compact(owner.stationFingerprint)) {
      throw new ParleyError(
        'E2EE_REFUSED',
        `the station's key does not match the fingerprint this profile logged in with (${owner.stationFingerprint})`,
        'someone may be impersonating your station; ask your administrator',
      );
    }
    if (!device.binding) {
      let binding: ReturnType<typeof decodeBinding>;
      try {
        binding = decodeBinding(unb64(answer.binding));
      } catch (e) {
        throw new ParleyError('E2EE_REFUSED', `the station's device binding does not decode: ${(e as Error).message}`);
      }
      device = attachBinding(device, binding, stationKey); // checks it is for us and signed by the station
      store.saveDevice(device);
    }
    e2ee = { ...e2ee, stationPublicKey: answer.station.publicKey };
    store.saveE2ee(e2ee);
  }
  const ctx: DeviceContext = { store, api, owner, device, e2ee, now };
  await topUpKeyPackages(ctx, { force: opts.forceKeyPackageCheck ?? false });
  return ctx;
}

/**
 * Keep at least KEY_PACKAGE_LOW_WATER unused key packages at the station. The secrets are saved
 * before the public halves are uploaded: a key package the device cannot open is worse than none.
 */
export async function topUpKeyPackages(ctx: DeviceContext, opts: { force: boolean }): Promise<number> {
  const now = ctx.now();
  if (!opts.force && now - ctx.e2ee.lastKeyPackageCheck < KEY_PACKAGE_CHECK_EVERY_MS) return 0;
  const live = ctx.e2ee.keyPackages.filter((k) => k.notAfter > now);
  const { unused } = await ctx.api.unusedKeyPackages();
  let made = 0;
  if (unused < KEY_PACKAGE_LOW_WATER) {
    const bundles = [];
    for (let i = unused; i < KEY_PACKAGE_BATCH; i++) bundles.push(await createKeyPackage(ctx.device, { now }));
    ctx.e2ee = {
      ...ctx.e2ee,
      keyPackages: [...live, ...bundles.map((b) => ({ ref: b.ref, secrets: b64(b.secrets), notAfter: b.notAfter, createdAt: now }))],
    };
    ctx.store.saveE2ee(ctx.e2ee);
    await ctx.api.uploadKeyPackages(bundles.map((b) => b64(b.keyPackage)));
    made = bundles.length;
  }
  ctx.e2ee = { ...ctx.e2ee, keyPackages: made > 0 ? ctx.e2ee.keyPackages : live, lastKeyPackageCheck: now };
  ctx.store.saveE2ee(ctx.e2ee);
  return made;
}

/** Forget the secrets of key packages a Welcome has used. */
export function dropKeyPackages(ctx: DeviceContext, refs: readonly string[]): void {
  if (refs.length === 0) return;
  ctx.e2ee = { ...ctx.e2ee, keyPackages: ctx.e2ee.keyPackages.filter((k) => !refs.includes(k.ref)) };
  ctx.store.saveE2ee(ctx.e2ee);
}

import type { Profile } from '../profile.js';
import { type DeviceContext, ensureDevice } from './device.js';
import { withProfileLock } from './files.js';
import { type LineSession, openLine } from './line.js';
import { httpStationApi } from './station-api.js';
import { DeviceStore } from './store.js';

export function ownerOf(p: Profile) {
  return { stationName: p.stationName, stationFingerprint: p.stationFingerprint, handle: p.handle, deviceId: p.deviceId };
}

/** Hold the profile lock, make sure the device exists and is vouched for, then run `fn`. */
export function withDevice<T>(
  profileDir: string,
  p: Profile,
  fn: (ctx: DeviceContext) => Promise<T>,
  opts: { forceKeyPackageCheck?: boolean } = {},
): Promise<T> {
  const store = new DeviceStore(profileDir);
  return withProfileLock(store.dir, async () => fn(await ensureDevice(store, httpStationApi(p.station, p.token), ownerOf(p), opts)));
}

/** As withDevice, with the line opened (keys checked, state loaded). */
export function withLine<T>(profileDir: string, p: Profile, line: string, fn: (s: LineSession) => Promise<T>): Promise<T> {
  return withDevice(profileDir, p, async (ctx) => fn(await openLine(ctx, line)));
}

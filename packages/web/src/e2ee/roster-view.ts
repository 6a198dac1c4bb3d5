import type { RosterDevice } from './line-engine.js';

/** The reserved handle of each station's recorder device. */
export const RECORDER_HANDLE = 'recorder';

// Who can read a line: the devices in its MLS group, as the station's recorder sees them
// (GET /api/v1/lines/:line/roster) and as this device sees them (its own group state). The two
// are compared device by device; any difference at the same epoch is flagged, because the station
// could only show a roster other than the real one by lying.

export interface RosterRow extends RosterDevice {
  key: string;
  /** In this device's own view of the group. */
  inDevice: boolean;
  /** In the station's view. */
  inStation: boolean;
  /** The same device at another leaf or with another issue time in the two views. */
  differs: boolean;
  /** Not in the roster the officer last looked at. */
  isNew: boolean;
  isThisDevice: boolean;
}

export type RosterStatus =
  /** Both views agree, at the same epoch. */
  | 'match'
  /** Same epoch, different devices: something is wrong. */
  | 'mismatch'
  /** The two views are at different epochs: one of them has not processed the latest change yet. */
  | 'catching-up'
  /** This device is not in the group (yet): only the station's view can be shown. */
  | 'no-device-view'
  /** The station has not set up the group yet. */
  | 'no-station-view';

export interface RosterComparison {
  status: RosterStatus;
  deviceEpoch: number | null;
  stationEpoch: number | null;
  rows: RosterRow[];
  /** In the roster the officer last looked at, gone now. */
  removedSinceSeen: RosterRow[];
}

export function deviceKey(d: Pick<RosterDevice, 'station' | 'handle' | 'deviceId' | 'signatureKeyFingerprint'>): string {
  return `${d.station}\n${d.handle}\n${d.deviceId}\n${d.signatureKeyFingerprint}`;
}

export function compareRosters(
  device: { epoch: number; devices: readonly RosterDevice[] } | null,
  station: { epoch: number; devices: readonly RosterDevice[] } | null,
  opts: { seen: readonly string[] | null; thisDeviceId: string },
): RosterComparison {
  const rows = new Map<string, RosterRow>();
  const base = (d: RosterDevice, key: string) => ({
    leafIndex: d.leafIndex,
    station: d.station,
    handle: d.handle,
    deviceId: d.deviceId,
    signatureKeyFingerprint: d.signatureKeyFingerprint,
    issuedAt: d.issuedAt,
    key,
  });
  const seen = opts.seen === null ? null : new Set(opts.seen);
  for (const d of device?.devices ?? []) {
    const key = deviceKey(d);
    rows.set(key, { ...base(d, key), inDevice: true, inStation: false, differs: false, isNew: false, isThisDevice: false });
  }
  for (const d of station?.devices ?? []) {
    const key = deviceKey(d);
    const have = rows.get(key);
    if (have) {
      have.inStation = true;
      have.differs = have.leafIndex !== d.leafIndex || have.issuedAt !== d.issuedAt;
    } else rows.set(key, { ...base(d, key), inDevice: false, inStation: true, differs: false, isNew: false, isThisDevice: false });
  }
  for (const r of rows.values()) {
    r.isNew = seen !== null && !seen.has(r.key);
    r.isThisDevice = r.deviceId === opts.thisDeviceId;
  }
  const sorted = [...rows.values()].sort((a, b) => a.leafIndex - b.leafIndex || (a.key < b.key ? -1 : 1));
  const removedSinceSeen: RosterRow[] = [];
  if (seen) {
    for (const key of seen) {
      if (rows.has(key)) continue;
      const [st = '', handle = '', deviceId = '', fp = ''] = key.split('\n');
      removedSinceSeen.push({
        key,
        leafIndex: -1,
        station: st,
        handle,
        deviceId,
        signatureKeyFingerprint: fp,
        issuedAt: 0,
        inDevice: false,
        inStation: false,
        differs: false,
        isNew: false,
        isThisDevice: deviceId === opts.thisDeviceId,
      });
    }
  }
  let status: RosterStatus;
  if (!station) status = 'no-station-view';
  else if (!device) status = 'no-device-view';
  else if (device.epoch !== station.epoch) status = 'catching-up';
  else status = sorted.every((r) => r.inDevice && r.inStation && !r.differs) ? 'match' : 'mismatch';
  return { status, deviceEpoch: device?.epoch ?? null, stationEpoch: station?.epoch ?? null, rows: sorted, removedSinceSeen };
}

/** The keys to remember as "seen": the device's own view when it has one, else the station's. */
export function seenKeys(c: RosterComparison): string[] {
  const inView = c.deviceEpoch !== null ? c.rows.filter((r) => r.inDevice) : c.rows.filter((r) => r.inStation);
  return inView.map((r) => r.key).sort();
}

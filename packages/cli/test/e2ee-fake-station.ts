// An in-memory pair of stations for unit tests of the CLI's device logic: one shared timeline,
// the hub's recorder holding the line's MLS group (built with @parley/e2ee itself), bindings
// signed with real Ed25519 station keys, key packages handed out once. It follows the station
// contract the CLI is written against; it is not the station.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  addMembers,
  attachBinding,
  createGroup,
  type DeviceIdentity,
  encodeBinding,
  type GroupState,
  generateDevice,
  type LinePolicy,
  linePolicyFrom,
  processMessage,
  removeMembers,
  roster,
  signBinding,
  validateKeyPackage,
} from '@parley/e2ee';
import { type Item, ParleyError, stationFingerprint } from '@parley/protocol';
import type { E2eeLine, StationApi } from '../src/e2ee/station-api.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

interface FakeStation {
  name: string;
  key: KeyObject;
  publicKey: Uint8Array;
  fingerprint: string;
  seats: string[];
}

function makeStation(name: string, seats: string[]): FakeStation {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = unb64((publicKey.export({ format: 'jwk' }) as { x: string }).x);
  return { name, key: privateKey, publicKey: raw, fingerprint: stationFingerprint(raw), seats };
}

export interface Owner {
  stationName: string;
  stationFingerprint: string;
  handle: string;
  deviceId: string;
}

export class FakeLine {
  readonly id = 'line-id-0001';
  readonly name = 'chiefs';
  readonly hubStation: FakeStation;
  readonly peerStation: FakeStation;
  timeline: Item[] = [];
  hub!: GroupState;
  recorder!: DeviceIdentity;
  private keyPackages: { deviceId: string; station: string; keyPackage: Uint8Array; handedOut: boolean }[] = [];
  private boundKeys = new Map<string, string>();
  private nextDevice = 1;
  /** Set to make the next commit POST succeed at the hub but fail on the way back. */
  loseNextCommitAnswer = false;

  private constructor() {
    this.hubStation = makeStation('washington', ['chief', 'clerk']);
    this.peerStation = makeStation('moscow', ['chief']);
  }

  static async create(): Promise<FakeLine> {
    const f = new FakeLine();
    const rec = await generateDevice({ station: 'washington', handle: 'recorder', deviceId: 'recorder-washington' });
    f.recorder = attachBinding(rec, await f.bind(f.hubStation, 'recorder', rec.deviceId, rec.signaturePublicKey), f.hubStation.publicKey);
    f.hub = await createGroup(f.recorder, { groupId: f.id, policy: f.policy(), pastEpochs: 5 });
    return f;
  }

  station(name: string): FakeStation {
    return name === this.hubStation.name ? this.hubStation : this.peerStation;
  }

  policy(): LinePolicy {
    const side = (s: FakeStation) => ({ station: s.name, publicKey: s.publicKey, seats: s.seats.map((handle) => ({ handle })) });
    return linePolicyFrom({ ours: side(this.hubStation), peer: side(this.peerStation) });
  }

  private async bind(st: FakeStation, handle: string, deviceId: string, signatureKey: Uint8Array) {
    return signBinding(
      { station: st.name, handle, deviceId, signatureKey, issuedAt: Date.now() },
      (bytes) => new Uint8Array(sign(null, bytes, st.key)),
    );
  }

  /** A fresh login: a new session device id. */
  login(station: string, handle: string): Owner {
    const st = this.station(station);
    return {
      stationName: st.name,
      stationFingerprint: st.fingerprint,
      handle,
      deviceId: `device-${String(this.nextDevice++).padStart(4, '0')}`,
    };
  }

  private append(
    kind: 'mls' | 'welcome',
    payload: Uint8Array | string,
    sender: { station: string; handle: string },
    clientId: string | null,
  ): Item {
    const pos = this.timeline.length + 1;
    const item: Item = {
      pos,
      dir: 'out',
      seq: pos,
      kind: kind as Item['kind'],
      payload: typeof payload === 'string' ? payload : b64(payload),
      sender,
      clientId,
      sentAt: Date.now(),
      storedAt: Date.now(),
    };
    this.timeline.push(item);
    return item;
  }

  /** The hub adds every device with an unused key package whose member holds a seat. */
  async addPending(): Promise<number> {
    const present = new Set(roster(this.hub).map((m) => m.deviceId));
    const offers = this.keyPackages.filter((k) => !k.handedOut && !present.has(k.deviceId) && this.station(k.station).seats.length > 0);
    const chosen = new Map<string, (typeof offers)[number]>();
    for (const k of offers) if (!chosen.has(k.deviceId)) chosen.set(k.deviceId, k);
    if (chosen.size === 0) return 0;
    for (const k of chosen.values()) k.handedOut = true;
    const out = await addMembers(
      this.hub,
      [...chosen.values()].map((k) => k.keyPackage),
      this.policy(),
    );
    this.hub = out.state;
    this.append('mls', out.commit, { station: this.hubStation.name, handle: 'recorder' }, null);
    this.append('welcome', out.welcome, { station: this.hubStation.name, handle: 'recorder' }, null);
    return chosen.size;
  }

  async removeDevice(deviceId: string): Promise<void> {
    const leaf = roster(this.hub).find((m) => m.deviceId === deviceId);
    if (!leaf) throw new Error(`no device ${deviceId}`);
    const out = await removeMembers(this.hub, [leaf.leafIndex]);
    this.hub = out.state;
    this.append('mls', out.commit, { station: this.hubStation.name, handle: 'recorder' }, null);
  }

  /** Inject any item, as a misbehaving station might. */
  inject(kind: 'mls' | 'welcome', payload: string, sender: { station: string; handle: string }, clientId: string | null = null): Item {
    return this.append(kind, payload, sender, clientId);
  }

  summaryFor(station: string): E2eeLine {
    const us = this.station(station);
    const them = us === this.hubStation ? this.peerStation : this.hubStation;
    const seat = (handle: string) => ({ handle, name: handle, role: 'principal' as const });
    return {
      id: this.id,
      name: this.name,
      station: { name: us.name, publicKey: b64(us.publicKey) },
      peer: { name: them.name, fingerprint: them.fingerprint, urls: [], publicKey: b64(them.publicKey) },
      safetyNumber: '0',
      seats: us.seats.map(seat),
      peerSeats: them.seats.map(seat),
      health: 'up',
      lastContactAt: null,
      backlogOut: 0,
      backlogIn: 0,
      endpoint: null,
      lastPos: this.timeline.length,
      deliveredSeq: 0,
    } as E2eeLine;
  }

  apiFor(owner: Owner): StationApi {
    const st = this.station(owner.stationName);
    const seated = () => {
      if (!st.seats.includes(owner.handle)) throw new ParleyError('LINE_NOT_FOUND', 'no such line');
    };
    return {
      binding: async (signatureKey) => {
        const prior = this.boundKeys.get(owner.deviceId);
        if (prior && prior !== signatureKey) throw new ParleyError('FORBIDDEN', 'this device already has a different MLS key');
        this.boundKeys.set(owner.deviceId, signatureKey);
        const binding = await this.bind(st, owner.handle, owner.deviceId, unb64(signatureKey));
        return { binding: b64(encodeBinding(binding)), deviceId: owner.deviceId, station: { name: st.name, publicKey: b64(st.publicKey) } };
      },
      uploadKeyPackages: async (kps) => {
        const policy = { stationKeys: new Map([[st.name, st.publicKey]]), seats: [{ station: st.name, handle: owner.handle }] };
        for (const kp of kps) {
          const bytes = unb64(kp);
          const v = await validateKeyPackage(bytes, policy);
          if (v.device.deviceId !== owner.deviceId) throw new ParleyError('FORBIDDEN', 'not this device');
          this.keyPackages.push({ deviceId: owner.deviceId, station: st.name, keyPackage: bytes, handedOut: false });
        }
        return { stored: kps.length };
      },
      unusedKeyPackages: async () => ({ unused: this.keyPackages.filter((k) => k.deviceId === owner.deviceId && !k.handedOut).length }),
      line: async () => {
        seated();
        return this.summaryFor(st.name);
      },
      items: async (_line, after, limit) => {
        seated();
        const items = this.timeline.filter((i) => i.pos > after).slice(0, limit);
        return { items, nextCursor: items.length ? (items[items.length - 1] as Item).pos : after, deliveredSeq: 0 };
      },
      send: async (_line, body) => {
        seated();
        const dup = this.timeline.find((i) => i.clientId === body.clientId && i.sender.handle === owner.handle);
        if (dup) return { item: dup, duplicate: true };
        return { item: this.append('mls', body.payload, { station: st.name, handle: owner.handle }, body.clientId), duplicate: false };
      },
      commit: async (_line, commit) => {
        seated();
        const bytes = unb64(commit);
        let r: Awaited<ReturnType<typeof processMessage>>;
        try {
          r = await processMessage(this.hub, bytes, this.policy());
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'WRONG_EPOCH' || code === 'REPLAYED_HANDSHAKE') throw new ParleyError('WRONG_EPOCH', 'the group has moved on');
          throw new ParleyError('E2EE_REFUSED', (e as Error).message);
        }
        this.hub = r.state;
        this.append('mls', bytes, { station: st.name, handle: owner.handle }, null);
        if (this.loseNextCommitAnswer) {
          this.loseNextCommitAnswer = false;
          throw new ParleyError('INTERNAL', 'the answer was lost');
        }
        return { epoch: this.hub.epoch };
      },
      roster: async () => ({ epoch: this.hub.epoch, devices: roster(this.hub).map((m) => ({ ...m })) }),
      history: async () => ({ entries: [] }),
      translate: async () => {
        throw new ParleyError('NOT_FOUND', 'this fake station takes no translations');
      },
    };
  }
}

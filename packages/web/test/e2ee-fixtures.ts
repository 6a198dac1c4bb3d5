// A line's group as two stations and their hub would run it, in memory: real Ed25519 station
// keys (Node's crypto, as the station signs), real MLS (@parley/e2ee), and the timeline items our
// station would stream to the web app's device, so its engine is tested against the real thing.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import {
  addMembers,
  attachBinding,
  createGroup,
  createKeyPackage,
  type DeviceIdentity,
  encodeBinding,
  encrypt,
  type GroupState,
  generateDevice,
  joinFromWelcome,
  type LinePolicy,
  linePolicyFrom,
  peekMessage,
  processMessage,
  removeMembers,
  roster,
  signBinding,
} from '@parley/e2ee';
import type { HistoryResponse, Item, LineSummary } from '@parley/protocol';
import { ParleyError } from '@parley/protocol/errors';
import { type DeviceContext, type StationCall, setUpDevice } from '../src/e2ee/device.js';
import { memoryRawStore, Vault } from '../src/e2ee/vault.js';
import { encodeContent } from '../src/message-codec.js';

export interface TestStation {
  name: string;
  publicKey: Uint8Array;
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

export function fingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40).match(/.{4}/g)!.join(' ');
}

let counter = 0;

export async function makeDevice(
  station: TestStation,
  handle: string,
  deviceId = `dev-${handle}-${++counter}`.padEnd(8, '0'),
): Promise<DeviceIdentity> {
  const device = await generateDevice({ station: station.name, handle, deviceId });
  const binding = await signBinding(
    { station: station.name, handle, deviceId, signatureKey: device.signaturePublicKey, issuedAt: Date.now() },
    (m) => station.sign(m),
  );
  return attachBinding(device, binding, station.publicKey);
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/**
 * Our station (washington, the inviter and hub) and the peer (moscow), one line between them,
 * the hub's recorder holding the group, and the items of washington's timeline.
 */
export class FakeLine {
  readonly ours = makeStation('washington');
  readonly peer = makeStation('moscow');
  readonly lineId = 'line-0001-chiefs';
  readonly name = 'chiefs-of-staff';
  readonly items: Item[] = [];
  /** Key packages our web device uploaded, not yet handed out. */
  readonly uploaded: Uint8Array[] = [];
  readonly history: HistoryResponse['entries'] = [];
  hub!: GroupState;
  recorder!: DeviceIdentity;
  boris!: DeviceIdentity;
  borisState!: GroupState;
  /** The hub orders the next commit offered, but its answer is lost on the way back. */
  loseNextCommitAnswer = false;
  /** Runs before the hub looks at the next commit offered (e.g. the hub orders another one first). */
  beforeNextCommit: (() => Promise<unknown>) | null = null;
  private seq = { out: 0, in: 0 };

  static async create(): Promise<FakeLine> {
    const l = new FakeLine();
    l.recorder = await makeDevice(l.ours, 'recorder', `recorder-${l.lineId}`);
    l.boris = await makeDevice(l.peer, 'chief');
    l.hub = await createGroup(l.recorder, { groupId: l.lineId, policy: l.policy() });
    const kp = await createKeyPackage(l.boris);
    const add = await addMembers(l.hub, [kp.keyPackage], l.policy());
    l.hub = add.state;
    l.borisState = (
      await joinFromWelcome(l.boris, add.welcome as Uint8Array, [kp.secrets], l.policy(), {
        expectedGroupId: l.lineId,
        pastEpochs: 8,
      })
    ).state;
    l.push('out', 'recorder', 'mls', add.commit);
    l.push('out', 'recorder', 'welcome', add.welcome as Uint8Array);
    return l;
  }

  policy(): LinePolicy {
    return linePolicyFrom({
      ours: { station: this.ours.name, publicKey: this.ours.publicKey, seats: [{ handle: 'chief' }] },
      peer: { station: this.peer.name, publicKey: this.peer.publicKey, seats: [{ handle: 'chief' }] },
    });
  }

  summary(over: Partial<LineSummary> = {}): LineSummary {
    return {
      id: this.lineId,
      name: this.name,
      station: { name: this.ours.name, publicKey: b64(this.ours.publicKey) },
      peer: { name: this.peer.name, fingerprint: fingerprint(this.peer.publicKey), publicKey: b64(this.peer.publicKey), urls: [] },
      safetyNumber: '00000',
      seats: [{ handle: 'chief', name: 'Chairman', role: 'principal' }],
      peerSeats: [{ handle: 'chief', name: 'Chief of the General Staff', role: 'principal' }],
      health: 'up',
      lastContactAt: null,
      backlogOut: 0,
      backlogIn: 0,
      endpoint: null,
      lastPos: this.items.length,
      deliveredSeq: 0,
      ...over,
    };
  }

  push(dir: 'in' | 'out', handle: string, kind: Item['kind'], bytes: Uint8Array, clientId: string | null = null): Item {
    const pos = this.items.length + 1;
    const item: Item = {
      pos,
      dir,
      seq: ++this.seq[dir],
      kind,
      payload: b64(bytes),
      sender: { handle, station: dir === 'out' ? this.ours.name : this.peer.name },
      clientId,
      sentAt: 1_700_000_000_000 + pos * 1000,
      storedAt: 1_700_000_000_000 + pos * 1000,
    };
    this.items.push(item);
    return item;
  }

  /** Items after a position, as the stream or GET /items would give them. */
  after(pos: number): Item[] {
    return this.items.filter((i) => i.pos > pos);
  }

  /** The station side of a web device: vouching and key packages (GET/POST). */
  call(handle = 'chief'): StationCall {
    return (async (method: string, path: string, body?: unknown) => {
      if (method === 'POST' && path === '/api/v1/devices/binding') {
        const key = new Uint8Array(Buffer.from((body as { signatureKey: string }).signatureKey, 'base64url'));
        const signed = await signBinding(
          { station: this.ours.name, handle, deviceId: 'web-device-01', signatureKey: key, issuedAt: Date.now() },
          (m) => this.ours.sign(m),
        );
        return {
          binding: b64(encodeBinding(signed)),
          deviceId: 'web-device-01',
          station: { name: this.ours.name, publicKey: b64(this.ours.publicKey) },
        };
      }
      if (method === 'GET' && path === '/api/v1/devices/key-packages') return { unused: this.uploaded.length };
      const items = path.match(/^\/api\/v1\/lines\/([^/]+)\/items\?after=(\d+)&limit=(\d+)$/);
      if (method === 'GET' && items?.[1] === this.name) return { items: this.after(Number(items[2])).slice(0, Number(items[3])) };
      if (method === 'POST' && path === `/api/v1/lines/${this.name}/commits`) return this.orderCommit((body as { commit: string }).commit);
      if (method === 'POST' && path === '/api/v1/devices/key-packages') {
        for (const k of (body as { keyPackages: string[] }).keyPackages) this.uploaded.push(new Uint8Array(Buffer.from(k, 'base64url')));
        return { stored: (body as { keyPackages: string[] }).keyPackages.length };
      }
      throw new Error(`unexpected call ${method} ${path}`);
    }) as StationCall;
  }

  /** A web device of washington's chief, set up through the fake station. */
  async webDevice(raw = memoryRawStore()): Promise<{ ctx: DeviceContext; raw: ReturnType<typeof memoryRawStore> }> {
    const vault = new Vault(raw, 'parley:v1:fp:chief:web-device-01');
    const ctx = await setUpDevice(
      vault,
      { station: { name: 'washington', fingerprint: fingerprint(this.ours.publicKey) }, handle: 'chief', deviceId: 'web-device-01' },
      this.call(),
      'test',
    );
    return { ctx, raw };
  }

  /** The hub orders a member's own key update, as the station's recorder does (acceptCommit). */
  private async orderCommit(commit: string): Promise<{ epoch: number }> {
    const first = this.beforeNextCommit;
    this.beforeNextCommit = null;
    await first?.();
    const bytes = new Uint8Array(Buffer.from(commit, 'base64url'));
    const info = peekMessage(bytes);
    if (info.kind !== 'handshake') throw new ParleyError('E2EE_REFUSED', 'only commits are ordered here');
    if (info.epoch !== this.hub.epoch)
      throw new ParleyError('WRONG_EPOCH', `the group is at epoch ${this.hub.epoch}, the commit is for ${info.epoch}`);
    const r = await processMessage(this.hub, bytes, this.policy());
    if (r.kind !== 'commit' || r.added.length > 0 || r.removed.length > 0) throw new ParleyError('E2EE_REFUSED', 'only key updates');
    this.hub = r.state;
    this.borisState = (await processMessage(this.borisState, bytes, this.policy())).state;
    this.push('out', 'recorder', 'mls', bytes);
    if (this.loseNextCommitAnswer) {
      this.loseNextCommitAnswer = false;
      throw new Error('connection reset');
    }
    return { epoch: r.epoch };
  }

  /** The hub adds the web device with one of its uploaded key packages: commit, then Welcome. */
  async addWebDevice(): Promise<void> {
    const kp = this.uploaded.shift();
    if (!kp) throw new Error('no key package uploaded');
    const add = await addMembers(this.hub, [kp], this.policy());
    this.hub = add.state;
    this.borisState = (await processMessage(this.borisState, add.commit, this.policy())).state;
    this.push('out', 'recorder', 'mls', add.commit);
    this.push('out', 'recorder', 'welcome', add.welcome as Uint8Array);
  }

  /** The hub adds another device of washington's chief (the CLI, say): commit, then Welcome. */
  async addOtherDevice(): Promise<DeviceIdentity> {
    const d = await makeDevice(this.ours, 'chief');
    const kp = await createKeyPackage(d);
    const add = await addMembers(this.hub, [kp.keyPackage], this.policy());
    this.hub = add.state;
    this.borisState = (await processMessage(this.borisState, add.commit, this.policy())).state;
    this.push('out', 'recorder', 'mls', add.commit);
    this.push('out', 'recorder', 'welcome', add.welcome as Uint8Array);
    return d;
  }

  /** The hub removes a device (by device id). */
  async removeDevice(deviceId: string): Promise<void> {
    const leaf = roster(this.hub).find((r) => r.deviceId === deviceId);
    if (!leaf) throw new Error(`${deviceId} not in the group`);
    const out = await removeMembers(this.hub, [leaf.leafIndex]);
    this.hub = out.state;
    this.borisState = (await processMessage(this.borisState, out.commit, this.policy())).state;
    this.push('out', 'recorder', 'mls', out.commit);
  }

  /** Boris (moscow) writes; returns the MLS message (the item is pushed unless `push` is false). */
  async borisSays(text: string, opts: { push?: boolean; lang?: string } = {}): Promise<Uint8Array> {
    const out = await encrypt(this.borisState, encodeContent(text, opts.lang));
    this.borisState = out.state;
    if (opts.push !== false) {
      const item = this.push('in', 'chief', 'mls', out.message);
      this.history.push({
        pos: item.pos,
        sentAt: item.sentAt,
        sender: { station: 'moscow', handle: 'chief', deviceId: this.boris.deviceId },
        text: b64(encodeContent(text, opts.lang)),
        error: null,
      });
    }
    return out.message;
  }

  /** Boris reads an item the web device sent. */
  async borisReads(payload: string): Promise<string> {
    const r = await processMessage(this.borisState, new Uint8Array(Buffer.from(payload, 'base64url')), this.policy());
    this.borisState = r.state;
    if (r.kind !== 'application') throw new Error('not an application message');
    return JSON.parse(Buffer.from(r.plaintext).toString('utf8')).text as string;
  }

  /** Boris decrypts an item the web device sent and gets its plaintext as it is. */
  async borisReadsRaw(payload: string): Promise<string> {
    const r = await processMessage(this.borisState, new Uint8Array(Buffer.from(payload, 'base64url')), this.policy());
    this.borisState = r.state;
    if (r.kind !== 'application') throw new Error('not an application message');
    return Buffer.from(r.plaintext).toString('utf8');
  }

  /** GET /history, pages of `limit`. */
  historyPage(after: number, limit = 200): HistoryResponse {
    const entries = this.history.filter((e) => e.pos > after).slice(0, limit);
    return { entries, nextCursor: entries.length > 0 ? (entries[entries.length - 1]?.pos ?? after) : after };
  }
}

import {
  attachBinding,
  createKeyPackage,
  decodeBinding,
  type DeviceIdentity,
  encrypt,
  E2eeError,
  type GroupState,
  generateDevice,
  joinFromWelcome,
  type LinePolicy,
  type LineSeats,
  linePolicyFrom,
  processMessage,
  rememberSeats,
  type Seat,
} from '@parley/e2ee';
import type { Item, LineSummary } from '@parley/protocol';

/** A minimal end-to-end client device for station tests, speaking the client API directly. */
export class TestDevice {
  device!: DeviceIdentity;
  secrets: Uint8Array[] = [];
  group: GroupState | null = null;
  cursor = 0;
  readonly received: { pos: number; text: string; station: string; handle: string; deviceId: string }[] = [];
  readonly refused: { pos: number; code: string }[] = [];
  deviceId = '';
  /** Commits of ours the hub accepted: when they come back on the timeline they are already applied. */
  readonly ownCommits = new Set<string>();

  constructor(
    readonly url: string,
    readonly token: string,
    readonly handle: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as T & { error?: { code: string; message: string } };
    if (!res.ok)
      throw Object.assign(new Error(`${method} ${path}: ${json.error?.code} ${json.error?.message}`), { code: json.error?.code });
    return json;
  }

  async register(keyPackages = 3): Promise<void> {
    const me = await this.call<{ deviceId: string; station: { name: string } }>('GET', '/api/v1/me');
    this.deviceId = me.deviceId;
    const dev = await generateDevice({ station: me.station.name, handle: this.handle, deviceId: me.deviceId });
    const res = await this.call<{ binding: string; station: { publicKey: string } }>('POST', '/api/v1/devices/binding', {
      signatureKey: Buffer.from(dev.signaturePublicKey).toString('base64url'),
    });
    this.device = attachBinding(dev, decodeBinding(Buffer.from(res.binding, 'base64url')), Buffer.from(res.station.publicKey, 'base64url'));
    await this.uploadKeyPackages(keyPackages);
  }

  async uploadKeyPackages(n: number): Promise<void> {
    const kps = [];
    for (let i = 0; i < n; i++) kps.push(await createKeyPackage(this.device));
    this.secrets.push(...kps.map((k) => k.secrets));
    await this.call('POST', '/api/v1/devices/key-packages', {
      keyPackages: kps.map((k) => Buffer.from(k.keyPackage).toString('base64url')),
    });
  }

  /** Every seat this device has seen on the line, kept as real clients keep it. */
  knownSeats: Seat[] = [];

  /** The line's policy from its summary now, plus every seat seen before (as the CLI and web app build it). */
  async policy(line: string): Promise<LinePolicy> {
    const s = await this.call<LineSummary>('GET', `/api/v1/lines/${line}`);
    const key = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64url'));
    const sides: LineSeats = {
      ours: { station: s.station.name, publicKey: key(s.station.publicKey), seats: s.seats },
      peer: { station: s.peer.name, publicKey: key(s.peer.publicKey), seats: s.peerSeats },
    };
    this.knownSeats = rememberSeats(this.knownSeats, sides);
    return linePolicyFrom({ ...sides, formerSeats: this.knownSeats });
  }

  /** Process every new item of the timeline in order, exactly once. */
  async sync(line: string): Promise<void> {
    const policy = await this.policy(line);
    const lineId = (await this.call<LineSummary>('GET', `/api/v1/lines/${line}`)).id;
    for (;;) {
      const page = await this.call<{ items: Item[] }>('GET', `/api/v1/lines/${line}/items?after=${this.cursor}&limit=500`);
      if (page.items.length === 0) return;
      await this.process(page.items, policy, lineId);
    }
  }

  /** Process items in order; also used to feed a device items it could not fetch itself. */
  async process(items: Item[], policy: LinePolicy, lineId: string): Promise<void> {
    for (const item of items) {
      if (item.pos <= this.cursor) continue;
      this.cursor = item.pos;
      const bytes = new Uint8Array(Buffer.from(item.payload, 'base64url'));
      try {
        if (item.kind === 'welcome') {
          if (this.group) continue;
          const joined = await joinFromWelcome(this.device, bytes, this.secrets, policy, {
            expectedGroupId: new TextEncoder().encode(lineId),
            pastEpochs: 8,
          });
          this.group = joined.state;
        } else if (item.kind === 'mls' && this.group) {
          if (this.ownCommits.delete(item.payload)) continue;
          const res = await processMessage(this.group, bytes, policy);
          this.group = res.state;
          if (res.kind === 'application') {
            this.received.push({ pos: item.pos, text: new TextDecoder().decode(res.plaintext), ...res.sender });
          }
        }
      } catch (e) {
        const code = e instanceof E2eeError ? e.code : 'ERROR';
        if (code !== 'NO_MATCHING_KEY_PACKAGE' && code !== 'OWN_MESSAGE') this.refused.push({ pos: item.pos, code });
      }
    }
  }

  /** An interpreter's translation of message `of` (issue 9): the text encrypted in the group, `{text, lang}` as clients write it. */
  async translate(line: string, of: { side: 'inviter' | 'acceptor'; seq: number }, lang: string, text: string): Promise<void> {
    if (!this.group) throw new Error(`${this.handle}/${this.deviceId} is not in the group yet`);
    const out = await encrypt(this.group, new TextEncoder().encode(JSON.stringify({ text, lang })));
    this.group = out.state;
    await this.call('POST', `/api/v1/lines/${line}/translations`, {
      of,
      lang,
      body: Buffer.from(out.message).toString('base64url'),
      clientId: `t-${Math.random().toString(36).slice(2, 12)}`,
    });
  }

  async send(line: string, text: string): Promise<void> {
    if (!this.group) throw new Error(`${this.handle}/${this.deviceId} is not in the group yet`);
    const out = await encrypt(this.group, new TextEncoder().encode(text));
    this.group = out.state;
    await this.call('POST', `/api/v1/lines/${line}/items`, {
      kind: 'mls',
      payload: Buffer.from(out.message).toString('base64url'),
      clientId: `m-${Math.random().toString(36).slice(2, 12)}`,
    });
  }
}

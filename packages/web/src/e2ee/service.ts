import type { LineSummary } from '@parley/protocol';
import type { DeviceContext, SessionIdentity, StationCall } from './device.js';
import type { LineEngine } from './line-engine.js';
import { type RawStore, Vault } from './vault.js';

// MLS (ts-mls, X-Wing, …) is most of the app's code: it is loaded once someone has logged in,
// so the login page does not wait for it.
const mls = () => Promise.all([import('./device.js'), import('./line-engine.js')]);

export type DeviceStatus = { state: 'setting-up' } | { state: 'ready' } | { state: 'failed'; message: string };

/**
 * This login's end-to-end encryption: the device (made and vouched for on first use), its key
 * packages, and one engine per line. Shared by every page of the session and the background sender.
 */
export class E2eeService {
  private device: Promise<DeviceContext> | null = null;
  private readonly engines = new Map<string, Promise<LineEngine>>();
  private readonly listeners = new Set<() => void>();
  private current: DeviceStatus = { state: 'setting-up' };
  readonly vault: Vault;

  constructor(
    private readonly raw: RawStore,
    /** The member's scope; this device's is `${memberScope}:${deviceId}`. */
    private readonly memberScope: string,
    private readonly who: SessionIdentity,
    private readonly call: StationCall,
  ) {
    this.vault = new Vault(raw, `${memberScope}:${who.deviceId}`);
  }

  get status(): DeviceStatus {
    return this.current;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  private set(s: DeviceStatus): void {
    this.current = s;
    for (const fn of this.listeners) fn();
  }

  /** The device, once set up; a failed setup is tried again on the next call. */
  ready(): Promise<DeviceContext> {
    if (!this.device) {
      this.set({ state: 'setting-up' });
      const p = (async () => {
        const [{ setUpDevice, topUpKeyPackages }] = await mls();
        const ctx = await setUpDevice(this.vault, this.who, this.call, `parley:${this.vault.scope}`);
        await topUpKeyPackages(ctx);
        void this.forgetOldDevices();
        return ctx;
      })();
      this.device = p;
      p.then(
        () => this.set({ state: 'ready' }),
        (e: unknown) => {
          if (this.device === p) this.device = null;
          this.set({ state: 'failed', message: e instanceof Error ? e.message : String(e) });
        },
      );
    }
    return this.device;
  }

  /** The engine of a line (one per line and line id), opened against the line's summary. */
  async engine(line: string, summary: LineSummary): Promise<LineEngine> {
    const ctx = await this.ready();
    const have = this.engines.get(line);
    if (have) {
      const e = await have.catch(() => null);
      if (e && e.lineId === summary.id) {
        await e.updateSummary(summary);
        return e;
      }
    }
    const [, { LineEngine }] = await mls();
    const p = LineEngine.open(ctx, summary);
    this.engines.set(line, p);
    p.catch(() => {
      if (this.engines.get(line) === p) this.engines.delete(line);
    });
    return p;
  }

  /**
   * Earlier logins' devices of this member in this browser: their sessions are over, so their
   * states (keys, decrypted messages) are of no further use here.
   */
  private async forgetOldDevices(): Promise<void> {
    try {
      for (const scope of await this.raw.scopes(`${this.memberScope}:`)) {
        if (scope !== this.vault.scope) await new Vault(this.raw, scope).destroy();
      }
    } catch {
      // best effort
    }
  }

  /** Logging out: this device's keys and decrypted messages are deleted from the browser. */
  async destroy(): Promise<void> {
    this.engines.clear();
    this.device = null;
    await this.vault.destroy();
  }
}

import { toBase64url } from '@parley/protocol/bytes';
import { type Vault, withLock } from './e2ee/vault.js';

/**
 * Messages the officer has written that are not yet back from their station as stored items.
 * Every message goes through here, connected or not: it is written to the vault (sealed under
 * this browser's non-extractable key, never in plain localStorage) before the first attempt, and
 * removed only once the item with its clientId is in this device's timeline, so a closed tab, a
 * lost network or a station restart loses nothing. The text is encrypted for the line's group
 * only when it is sent, with the group's current epoch. Every attempt carries the same clientId
 * and the station stores one copy per clientId, so resending can never duplicate.
 */
export interface PendingMessage {
  clientId: string;
  line: string;
  text: string;
  lang?: string;
  createdAt: number;
  /** 'failed': the station (or this device) refused it for good; kept until the officer retries. */
  status: 'queued' | 'failed';
  error?: { code: string; message: string };
}

export function newClientId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return toBase64url(bytes);
}

export function isPendingList(v: unknown): v is PendingMessage[] {
  return (
    Array.isArray(v) &&
    v.every(
      (p) =>
        p &&
        typeof p === 'object' &&
        typeof p.clientId === 'string' &&
        typeof p.line === 'string' &&
        typeof p.text === 'string' &&
        typeof p.createdAt === 'number' &&
        (p.lang === undefined || typeof p.lang === 'string') &&
        (p.status === 'queued' || p.status === 'failed'),
    )
  );
}

const KEY = 'outbox';

export class OfflineQueue {
  private readonly listeners = new Set<() => void>();
  private cache: PendingMessage[] = [];
  /** Resolves once the stored queue has been read. */
  readonly ready: Promise<void>;

  /**
   * `changed` tells other tabs (a BroadcastChannel in the app); they call reload().
   */
  constructor(
    private readonly vault: Vault,
    private readonly lockName: string,
    private readonly changed: () => void = () => {},
  ) {
    this.ready = this.reload();
  }

  /** All pending messages, oldest first; for one line if given. The same array until something changes. */
  list(line?: string): PendingMessage[] {
    return line === undefined ? this.cache : this.cache.filter((p) => p.line === line);
  }

  /** Rejects if storage refuses the write: the caller must then keep the text in the composer. */
  async add(line: string, text: string, opts: { lang?: string; now?: number; clientId?: string } = {}): Promise<PendingMessage> {
    const p: PendingMessage = { clientId: opts.clientId ?? newClientId(), line, text, createdAt: opts.now ?? Date.now(), status: 'queued' };
    if (opts.lang) p.lang = opts.lang;
    await this.update((all) => [...all, p]);
    return p;
  }

  /** The station has it: forget it. Unknown ids are ignored (another tab got there first). */
  async remove(clientId: string): Promise<void> {
    if (!this.cache.some((p) => p.clientId === clientId)) return;
    await this.update((all) => (all.some((p) => p.clientId === clientId) ? all.filter((p) => p.clientId !== clientId) : null));
  }

  async markFailed(clientId: string, error: { code: string; message: string }): Promise<void> {
    await this.update((all) =>
      all.some((p) => p.clientId === clientId)
        ? all.map((p) => (p.clientId === clientId ? { ...p, status: 'failed' as const, error } : p))
        : null,
    );
  }

  /** Try a failed message again, with the same clientId. */
  async retry(clientId: string): Promise<void> {
    await this.update((all) =>
      all.map((p) => {
        if (p.clientId !== clientId) return p;
        const { error: _error, ...rest } = p;
        return { ...rest, status: 'queued' as const };
      }),
    );
  }

  /** Another tab changed the queue: read it again and tell the listeners. */
  async reload(): Promise<void> {
    const stored = await this.read();
    this.set(stored);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  private async read(): Promise<PendingMessage[]> {
    let v: unknown;
    try {
      v = await this.vault.get<unknown>(KEY);
    } catch {
      return []; // damaged or sealed under a key this browser no longer has
    }
    return isPendingList(v) ? v : [];
  }

  /** Read, change and write under the queue's lock (tabs share it); null: nothing to change. */
  private async update(change: (all: PendingMessage[]) => PendingMessage[] | null): Promise<void> {
    const next = await withLock(this.lockName, async () => {
      const all = await this.read();
      const n = change(all);
      if (n === null) return all;
      await this.vault.write(n.length === 0 ? [] : [[KEY, n]], n.length === 0 ? [KEY] : []);
      return n;
    });
    this.set(next);
    this.changed();
  }

  private set(next: PendingMessage[]): void {
    const same =
      next.length === this.cache.length &&
      next.every((p, i) => {
        const c = this.cache[i];
        return c && c.clientId === p.clientId && c.status === p.status;
      });
    if (same) return;
    this.cache = next;
    for (const fn of this.listeners) fn();
  }
}

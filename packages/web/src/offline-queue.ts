import { toBase64url } from '@parley/protocol/bytes';
import { type KeyValueStore, readJson, writeJson } from './storage.js';

/**
 * Messages the officer has sent that their station has not yet confirmed storing. Every message
 * goes through here, connected or not: it is written to storage before the first attempt and
 * removed only when the station answers 'accepted' (or the item shows up in the timeline), so a
 * closed tab, a lost network or a station restart loses nothing. Every attempt carries the same
 * clientId and the station stores one copy per clientId, so resending can never duplicate.
 */
export interface PendingMessage {
  clientId: string;
  line: string;
  text: string;
  createdAt: number;
  /** 'failed': the station refused it for good (e.g. too large); kept until the officer retries or discards it. */
  status: 'queued' | 'failed';
  error?: { code: string; message: string };
}

export function newClientId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return toBase64url(bytes);
}

function isPendingList(v: unknown): v is PendingMessage[] {
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
        (p.status === 'queued' || p.status === 'failed'),
    )
  );
}

export class OfflineQueue {
  private readonly key: string;
  private readonly listeners = new Set<() => void>();
  private cache: PendingMessage[] | null = null;

  constructor(
    private readonly store: KeyValueStore,
    scope: string,
  ) {
    this.key = `${scope}:outbox`;
  }

  /** All pending messages, oldest first; for one line if given. */
  list(line?: string): PendingMessage[] {
    this.cache ??= readJson(this.store, this.key, isPendingList, []);
    return line === undefined ? this.cache : this.cache.filter((p) => p.line === line);
  }

  /** Throws if storage refuses the write: the caller must then keep the text in the composer. */
  add(line: string, text: string, now = Date.now(), clientId = newClientId()): PendingMessage {
    const p: PendingMessage = { clientId, line, text, createdAt: now, status: 'queued' };
    this.save([...this.list(), p]);
    return p;
  }

  /** The station has it: forget it. Unknown ids are ignored (another tab got there first). */
  remove(clientId: string): void {
    const all = this.list();
    if (all.some((p) => p.clientId === clientId)) this.save(all.filter((p) => p.clientId !== clientId));
  }

  markFailed(clientId: string, error: { code: string; message: string }): void {
    this.save(this.list().map((p) => (p.clientId === clientId ? { ...p, status: 'failed' as const, error } : p)));
  }

  /** Try a failed message again, with the same clientId. */
  retry(clientId: string): void {
    this.save(
      this.list().map((p) =>
        p.clientId === clientId
          ? { clientId: p.clientId, line: p.line, text: p.text, createdAt: p.createdAt, status: 'queued' as const }
          : p,
      ),
    );
  }

  /** Another tab changed storage: drop the cached copy and tell the listeners. */
  reload(): void {
    this.cache = null;
    this.emit();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  private save(next: PendingMessage[]): void {
    if (next.length === 0) this.store.removeItem(this.key);
    else writeJson(this.store, this.key, next);
    this.cache = next;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}

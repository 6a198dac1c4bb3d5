// Where the app keeps what must survive a reload: unsent messages, drafts, read marks. A small
// interface over localStorage so the state modules run (and are tested) without a browser.

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function memoryStore(): KeyValueStore {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

/** localStorage, or memory where the browser refuses storage (some private modes). */
export function browserStore(): KeyValueStore {
  try {
    const ls = globalThis.localStorage;
    const probe = 'parley:probe';
    ls.setItem(probe, '1');
    ls.removeItem(probe);
    return ls;
  } catch {
    return memoryStore();
  }
}

/**
 * Keys are scoped by station and member: one browser may be used by several officers, and the
 * same origin never serves two stations, but the fingerprint keeps a re-initialised station's
 * data apart from its predecessor's.
 */
export function scopeOf(stationFingerprint: string, handle: string): string {
  return `parley:v1:${stationFingerprint}:${handle}`;
}

export function readJson<T>(store: KeyValueStore, key: string, guard: (v: unknown) => v is T, fallback: T): T {
  const raw = store.getItem(key);
  if (raw === null) return fallback;
  try {
    const v: unknown = JSON.parse(raw);
    return guard(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

export function writeJson(store: KeyValueStore, key: string, value: unknown): void {
  store.setItem(key, JSON.stringify(value));
}

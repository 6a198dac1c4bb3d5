import { fromBase64url, toBase64url } from '@parley/protocol/bytes';

// Where the web app keeps what must stay secret on this device: the MLS device key, key package
// secrets, each line's group state and cursor, the decrypted message cache and unsent messages.
// Every value is sealed with AES-GCM under a wrapping key that WebCrypto made non-extractable:
// page scripts can use it but never read it, so the stored bytes mean nothing outside this
// browser profile. The key itself is kept in IndexedDB (CryptoKey objects are
// structured-cloneable), one per scope, so forgetting a scope is deleting its key.

/** A value as stored: AES-GCM ciphertext and its nonce. */
export interface SealedValue {
  iv: Uint8Array<ArrayBuffer>;
  ct: ArrayBuffer;
}

/** Raw storage under the vault: IndexedDB in the browser, a Map in tests. Writes are atomic. */
export interface RawStore {
  get(key: string): Promise<SealedValue | undefined>;
  /** Every entry with lower <= key < upper, in key order. */
  range(lower: string, upper: string): Promise<[string, SealedValue][]>;
  /** All of these puts and deletes, or none. */
  write(puts: readonly (readonly [string, SealedValue])[], deletes: readonly string[]): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
  /** The scope's wrapping key; `make` is called when there is none yet (two callers agree on one). */
  wrappingKey(scope: string, make: () => Promise<CryptoKey>): Promise<CryptoKey>;
  dropKey(scope: string): Promise<void>;
  /** Scopes that have a wrapping key and start with `prefix`. */
  scopes(prefix: string): Promise<string[]>;
}

const END = '\uffff';

// JSON with byte arrays: a Uint8Array travels as {"$b": base64url}.
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $b: toBase64url(value) } : value;
}
function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const b = (value as { $b?: unknown }).$b;
    if (keys.length === 1 && typeof b === 'string') return fromBase64url(b) ?? new Uint8Array();
  }
  return value;
}

export function encodeValue(value: unknown): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(value, replacer));
}
export function decodeValue<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes), reviver) as T;
}

export function makeWrappingKey(): Promise<CryptoKey> {
  return globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
}

/** One scope's sealed key-value store. Names are plain strings; values are JSON (with bytes). */
export class Vault {
  private keyPromise: Promise<CryptoKey> | null = null;
  private destroyed = false;

  constructor(
    private readonly raw: RawStore,
    readonly scope: string,
  ) {}

  /** The scope's wrapping key, fetched (or made) on first use. */
  private key(): Promise<CryptoKey> {
    // A destroyed scope stays destroyed: late writers (a stream still closing) must not revive it.
    if (this.destroyed) return Promise.reject(new VaultError('this storage scope was deleted (logged out)'));
    this.keyPromise ??= this.raw.wrappingKey(this.scope, makeWrappingKey).then((k) => {
      if (k.extractable) throw new VaultError('the wrapping key must not be extractable');
      return k;
    });
    this.keyPromise.catch(() => {
      this.keyPromise = null; // try again next time (storage may come back)
    });
    return this.keyPromise;
  }

  private full(name: string): string {
    return `${this.scope}/${name}`;
  }

  private async seal(name: string, value: unknown): Promise<SealedValue> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(this.full(name)) },
      await this.key(),
      encodeValue(value),
    );
    return { iv, ct };
  }

  private async open<T>(name: string, sealed: SealedValue): Promise<T> {
    let plain: ArrayBuffer;
    try {
      plain = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: sealed.iv, additionalData: new TextEncoder().encode(this.full(name)) },
        await this.key(),
        sealed.ct,
      );
    } catch {
      throw new VaultError(`stored value ${name} cannot be unsealed (damaged, or sealed under another key)`);
    }
    return decodeValue<T>(new Uint8Array(plain));
  }

  async get<T>(name: string): Promise<T | undefined> {
    const sealed = await this.raw.get(this.full(name));
    return sealed ? this.open<T>(name, sealed) : undefined;
  }

  /** Every value whose name starts with `prefix`, in name order. */
  async list<T>(prefix: string): Promise<{ name: string; value: T }[]> {
    return this.between(prefix, prefix + END);
  }

  /** Every value with lower <= name < upper, in name order. */
  async between<T>(lower: string, upper: string): Promise<{ name: string; value: T }[]> {
    const rows = await this.raw.range(this.full(lower), this.full(upper));
    const cut = this.scope.length + 1;
    return Promise.all(
      rows.map(async ([k, v]) => {
        const name = k.slice(cut);
        return { name, value: await this.open<T>(name, v) };
      }),
    );
  }

  /** Seal every value first, then write them all in one transaction. */
  async write(puts: readonly (readonly [string, unknown])[], deletes: readonly string[] = []): Promise<void> {
    const sealed = await Promise.all(puts.map(async ([n, v]) => [this.full(n), await this.seal(n, v)] as const));
    await this.raw.write(
      sealed,
      deletes.map((n) => this.full(n)),
    );
  }

  /** Forget everything in this scope, the wrapping key first. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.keyPromise = null;
    await this.raw.dropKey(this.scope);
    await this.raw.deletePrefix(`${this.scope}/`);
  }
}

/** For tests (and browsers that refuse IndexedDB): the same contract, in memory. */
export function memoryRawStore(): RawStore & { entries: Map<string, SealedValue> } {
  const entries = new Map<string, SealedValue>();
  const keys = new Map<string, CryptoKey>();
  return {
    entries,
    get: async (k) => entries.get(k),
    range: async (lower, upper) =>
      [...entries.entries()].filter(([k]) => k >= lower && k < upper).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    write: async (puts, deletes) => {
      for (const [k, v] of puts) entries.set(k, v);
      for (const k of deletes) entries.delete(k);
    },
    deletePrefix: async (prefix) => {
      for (const k of [...entries.keys()]) if (k.startsWith(prefix)) entries.delete(k);
    },
    wrappingKey: async (scope, make) => {
      let key = keys.get(scope);
      if (!key) {
        key = await make();
        if (!keys.has(scope)) keys.set(scope, key);
        key = keys.get(scope) as CryptoKey;
      }
      return key;
    },
    dropKey: async (scope) => void keys.delete(scope),
    scopes: async (prefix) => [...keys.keys()].filter((k) => k.startsWith(prefix)),
  };
}

// ---------------------------------------------------------------------------------------------
// IndexedDB

const DB_NAME = 'parley';
const DB_VERSION = 1;
const ENTRIES = 'entries';
const KEYS = 'keys';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new VaultError('the storage transaction was aborted'));
  });
}

let dbPromise: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    const r = globalThis.indexedDB.open(DB_NAME, DB_VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(ENTRIES)) db.createObjectStore(ENTRIES);
      if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
    };
    r.onsuccess = () => {
      const db = r.result;
      // Another tab upgrades the schema: let it, and open again next time.
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    r.onerror = () => {
      dbPromise = null;
      reject(r.error ?? new VaultError('IndexedDB refused to open'));
    };
    r.onblocked = () => reject(new VaultError('IndexedDB is blocked by another tab of this app; close it and reload'));
  });
  return dbPromise;
}

/** IndexedDB, with keys in one store and sealed entries in another. */
export function indexedDbRawStore(): RawStore {
  return {
    async get(key) {
      const db = await openDb();
      return (await req(db.transaction(ENTRIES, 'readonly').objectStore(ENTRIES).get(key))) as SealedValue | undefined;
    },
    async range(lower, upper) {
      const db = await openDb();
      const store = db.transaction(ENTRIES, 'readonly').objectStore(ENTRIES);
      const range = IDBKeyRange.bound(lower, upper, false, true);
      const [keys, values] = await Promise.all([req(store.getAllKeys(range)), req(store.getAll(range))]);
      return keys.map((k, i) => [String(k), values[i] as SealedValue] as [string, SealedValue]);
    },
    async write(puts, deletes) {
      if (puts.length === 0 && deletes.length === 0) return;
      const db = await openDb();
      const tx = db.transaction(ENTRIES, 'readwrite', { durability: 'strict' });
      const store = tx.objectStore(ENTRIES);
      for (const [k, v] of puts) store.put(v, k);
      for (const k of deletes) store.delete(k);
      await done(tx);
    },
    async deletePrefix(prefix) {
      const db = await openDb();
      const tx = db.transaction(ENTRIES, 'readwrite');
      tx.objectStore(ENTRIES).delete(IDBKeyRange.bound(prefix, prefix + END, false, true));
      await done(tx);
    },
    async wrappingKey(scope, make) {
      const db = await openDb();
      const have = (await req(db.transaction(KEYS, 'readonly').objectStore(KEYS).get(scope))) as CryptoKey | undefined;
      if (have) return have;
      const fresh = await make();
      // Two tabs may both have made one: the first stored wins, and both use it.
      const tx = db.transaction(KEYS, 'readwrite', { durability: 'strict' });
      const store = tx.objectStore(KEYS);
      const chosen = await new Promise<CryptoKey>((resolve, reject) => {
        const g = store.get(scope);
        g.onsuccess = () => {
          const existing = g.result as CryptoKey | undefined;
          if (existing) resolve(existing);
          else {
            store.put(fresh, scope);
            resolve(fresh);
          }
        };
        g.onerror = () => reject(g.error);
      });
      await done(tx);
      return chosen;
    },
    async dropKey(scope) {
      const db = await openDb();
      const tx = db.transaction(KEYS, 'readwrite');
      tx.objectStore(KEYS).delete(scope);
      await done(tx);
    },
    async scopes(prefix) {
      const db = await openDb();
      const keys = await req(
        db
          .transaction(KEYS, 'readonly')
          .objectStore(KEYS)
          .getAllKeys(IDBKeyRange.bound(prefix, prefix + END, false, true)),
      );
      return keys.map(String);
    },
  };
}

/** IndexedDB where the browser offers it (not in some private modes), else memory. */
export function browserRawStore(): RawStore {
  return typeof globalThis.indexedDB === 'undefined' ? memoryRawStore() : indexedDbRawStore();
}

// ---------------------------------------------------------------------------------------------
// Locks across tabs

const localLocks = new Map<string, Promise<unknown>>();

/**
 * Run `fn` holding the named lock: across every tab of this origin (Web Locks), or within this
 * page where the browser has no Web Locks. Group states are read, changed and written only under
 * their line's lock, so two tabs never encrypt with the same ratchet generation.
 */
export function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = globalThis.navigator?.locks;
  if (locks) return locks.request(name, fn) as Promise<T>;
  const prev = localLocks.get(name) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  localLocks.set(name, tail);
  void tail.then(() => {
    if (localLocks.get(name) === tail) localLocks.delete(name);
  });
  return run;
}

// A line's record in memory: the entries, their Merkle tree, roots and proofs for any past
// size. The station rebuilds it from its database on start (RecordLog.fromEntries) and appends
// as entries are stored; it does no I/O itself.
import { toBase64url } from '@parley/protocol/bytes';
import { type Actor, type EntryEvent, entryLeafHash, isRealTime, type RecordEntry, validateEntry } from './entries.js';
import { RecordError } from './errors.js';
import { MerkleTree } from './merkle.js';
import { RecordRules } from './rules.js';
import { makeHead, type TreeHead } from './tree-head.js';

export interface RecordLogOptions {
  /**
   * Check the record's rules (rules.ts: entry 0 links the line, calls are requested before
   * they are answered, readouts cite existing contacts, …) on append. Default true. Turn off
   * only to load and examine a stored log that breaks them; index continuity, non-decreasing
   * times and the entry schema are checked regardless.
   */
  checkRules?: boolean;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class RecordLog {
  readonly lineId: string;
  private readonly tree = new MerkleTree();
  private readonly list: RecordEntry[] = [];
  private readonly rules: RecordRules | undefined;

  constructor(lineId: string, options: RecordLogOptions = {}) {
    this.lineId = lineId;
    this.rules = options.checkRules === false ? undefined : new RecordRules();
  }

  /** Rebuild a log from stored entries, in index order. Throws on the first entry that does not fit. */
  static fromEntries(lineId: string, entries: Iterable<RecordEntry>, options: RecordLogOptions = {}): RecordLog {
    const log = new RecordLog(lineId, options);
    for (const e of entries) log.append(e);
    return log;
  }

  get size(): number {
    return this.list.length;
  }

  /** The time of the last entry, if any. */
  get lastAt(): string | undefined {
    return this.list[this.list.length - 1]?.at;
  }

  entry(index: number): RecordEntry {
    const e = this.list[index];
    if (!e) throw new RecordError('OUT_OF_RANGE', `no entry ${index} in a log of ${this.size}`);
    return e;
  }

  /** Entries [from, to) (frozen). */
  entries(from = 0, to = this.size): readonly RecordEntry[] {
    return this.list.slice(from, to);
  }

  leafHash(index: number): Uint8Array {
    this.entry(index);
    return this.tree.leafHash(index);
  }

  /** The entry that would be appended next for this event: index = size. */
  nextEntry(event: EntryEvent, by: Actor, at: string): RecordEntry {
    return { index: this.size, at, by, ...event } as RecordEntry;
  }

  /**
   * Append one entry. It must be well-formed, carry index = size and a time no earlier than the
   * last entry's, and (unless checkRules is off) keep the record's rules. Returns its leaf hash.
   * The log keeps a frozen copy.
   */
  append(entry: RecordEntry): Uint8Array {
    const checked = validateEntry(entry);
    if (!checked.ok) {
      const details = checked.errors.map((e) => `${e.path || '/'}: ${e.message}`);
      throw new RecordError('MALFORMED', `entry ${this.size} is malformed (${details[0]})`, details);
    }
    if (entry.index !== this.size) {
      throw new RecordError(
        'ENTRY_OUT_OF_ORDER',
        `entry index ${entry.index} appended to a log of ${this.size} entries (expected ${this.size})`,
      );
    }
    const lastAt = this.lastAt;
    if (lastAt !== undefined && entry.at < lastAt) {
      throw new RecordError('ENTRY_OUT_OF_ORDER', `entry ${entry.index} at ${entry.at} is earlier than the last entry (${lastAt})`);
    }
    if (entry.type === 'line_linked' && entry.lineId !== this.lineId) {
      throw new RecordError('LINE_MISMATCH', `entry ${entry.index} links line ${entry.lineId}, not ${this.lineId}`);
    }
    if (this.rules) {
      const violations = this.rules.check(entry);
      const first = violations[0];
      if (first)
        throw new RecordError(
          first.code,
          first.message,
          violations.map((v) => v.message),
        );
    }
    const copy = deepFreeze(structuredClone(entry));
    const leaf = entryLeafHash(copy);
    this.tree.append(leaf);
    this.list.push(copy);
    this.rules?.accept(copy);
    return leaf;
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RecordError('OUT_OF_RANGE', `no tree of size ${size}: the log holds ${this.size} entries`);
    }
  }

  /** The RFC 9162 root of the first `size` entries (default: all). */
  root(size = this.size): Uint8Array {
    this.checkSize(size);
    return this.tree.root(size);
  }

  /** Inclusion proof of entry `index` in the tree of the first `size` entries. */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RecordError('OUT_OF_RANGE', `entry ${index} is not in a tree of size ${size}`);
    }
    return this.tree.inclusionProof(index, size);
  }

  /** Consistency proof from the tree of size `from` to the tree of size `to` (default: all). */
  consistencyProof(from: number, to = this.size): Uint8Array[] {
    this.checkSize(to);
    if (!Number.isSafeInteger(from) || from < 0 || from > to) {
      throw new RecordError('OUT_OF_RANGE', `no consistency proof from size ${from} to size ${to}`);
    }
    return this.tree.consistencyProof(from, to);
  }

  /**
   * An unsigned head of the first `size` entries (default: all), cut at `at`, which may not be
   * earlier than the last entry it covers. Both stations then sign headSigningBytes(head).
   */
  head(at: string, size = this.size): TreeHead {
    this.checkSize(size);
    if (!isRealTime(at))
      throw new RecordError('MALFORMED', `head time ${JSON.stringify(at)} is not an ISO-8601 UTC time with milliseconds`);
    const lastCovered = size > 0 ? this.list[size - 1]!.at : undefined;
    if (lastCovered !== undefined && at < lastCovered) {
      throw new RecordError('ENTRY_OUT_OF_ORDER', `a head at ${at} cannot cover entry ${size - 1} of ${lastCovered}`);
    }
    return makeHead(this.lineId, size, this.root(size), at);
  }

  /**
   * Before signing a head the peer cut (or presents): is it this log's head at its size? A
   * station signs only what its own copy of the record says.
   */
  checkHead(
    head: TreeHead,
  ): { ok: true } | { ok: false; reason: 'LINE_MISMATCH' | 'BEYOND_LOG' | 'ROOT_MISMATCH' | 'EARLIER_THAN_ENTRY'; message: string } {
    if (head.lineId !== this.lineId)
      return { ok: false, reason: 'LINE_MISMATCH', message: `the head is for line ${head.lineId}, not ${this.lineId}` };
    if (!Number.isSafeInteger(head.size) || head.size < 0 || head.size > this.size) {
      return { ok: false, reason: 'BEYOND_LOG', message: `the head covers ${head.size} entries; this log holds ${this.size}` };
    }
    if (head.rootHash !== this.rootHash(head.size)) {
      return {
        ok: false,
        reason: 'ROOT_MISMATCH',
        message: `the head's root for size ${head.size} is not this log's (${this.rootHash(head.size)})`,
      };
    }
    const lastCovered = head.size > 0 ? this.list[head.size - 1]!.at : undefined;
    if (lastCovered !== undefined && head.at < lastCovered) {
      return {
        ok: false,
        reason: 'EARLIER_THAN_ENTRY',
        message: `the head is dated ${head.at}, before entry ${head.size - 1} (${lastCovered})`,
      };
    }
    return { ok: true };
  }

  /** base64url of root(size). */
  rootHash(size = this.size): string {
    return toBase64url(this.root(size));
  }
}

import type { Item } from '@parley/protocol';
import { type KeyValueStore, readJson, writeJson } from './storage.js';

/** Messages from the peer's side after the last position this officer has read. */
export function countUnread(items: readonly Pick<Item, 'pos' | 'dir'>[], lastRead: number): number {
  let n = 0;
  for (const i of items) if (i.dir === 'in' && i.pos > lastRead) n++;
  return n;
}

const isMarks = (v: unknown): v is Record<string, number> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number');

/** The last timeline position read on each line, kept on this device. Only ever moves forward. */
export class ReadMarks {
  private readonly key: string;

  constructor(
    private readonly store: KeyValueStore,
    scope: string,
  ) {
    this.key = `${scope}:read`;
  }

  get(line: string): number {
    return readJson(this.store, this.key, isMarks, {})[line] ?? 0;
  }

  /** Returns true when the mark moved. */
  markRead(line: string, pos: number): boolean {
    const marks = readJson(this.store, this.key, isMarks, {});
    if ((marks[line] ?? 0) >= pos) return false;
    marks[line] = pos;
    writeJson(this.store, this.key, marks);
    return true;
  }
}

import type { Item } from '@parley/protocol';
import { fromBase64url } from '@parley/protocol/bytes';
import type { LineRecord } from './e2ee/line-engine.js';
import { headerAadIs } from './message-codec.js';
import { type KeyValueStore, readJson, writeJson } from './storage.js';

// Read receipts. When an officer's app shows the peer's messages, it tells the line, end-to-end
// encrypted like everything else, how far this member has read: an MLS application message whose
// content is `{type: 'receipt', readUpTo: {side, seq}}` (the side whose stream carries the
// messages read, and the sequence number of the newest one there). The sender's app shows
// "read by …" on its side's messages up to that point. Stations move the ciphertext only; the
// header says in the clear (RECEIPT_AAD, covered by the MLS signature) that the item is a
// receipt, so that unread counts, which do not decrypt, can leave it out. What it says stays
// encrypted (who read up to where can be guessed from timing anyway, not from the content).

export type Side = 'inviter' | 'acceptor';

export interface ReadUpTo {
  side: Side;
  seq: number;
}

/** The clear-text tag of a receipt's MLS header (authenticated data). */
export const RECEIPT_AAD: Uint8Array = new TextEncoder().encode('parley/receipt');

export function encodeReceiptContent(upTo: ReadUpTo): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: 'receipt', readUpTo: { side: upTo.side, seq: upTo.seq } }));
}

/** The receipt in decrypted content, or undefined when the content is not a (well-formed) receipt. */
export function decodeReceiptContent(bytes: Uint8Array): ReadUpTo | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || (v as { type?: unknown }).type !== 'receipt') return undefined;
  const r = (v as { readUpTo?: unknown }).readUpTo;
  if (!r || typeof r !== 'object') return undefined;
  const { side, seq } = r as { side?: unknown; seq?: unknown };
  if ((side !== 'inviter' && side !== 'acceptor') || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { side, seq };
}

/** Whether decrypted content says it is a receipt at all (even a malformed one): never shown as a message. */
export function isReceiptContent(bytes: Uint8Array): boolean {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return !!v && typeof v === 'object' && (v as { type?: unknown }).type === 'receipt';
  } catch {
    return false;
  }
}

/** Whether an item is a receipt, from its MLS header alone (no decryption). */
export function isReceiptItem(item: Pick<Item, 'kind' | 'payload'>): boolean {
  if (item.kind !== 'mls') return false;
  const b = fromBase64url(item.payload.slice(0, 200));
  return b !== undefined && headerAadIs(b, RECEIPT_AAD);
}

/** Someone who read: a member of the other side, as their receipt's MLS-authenticated device says. */
export interface Reader {
  station: string;
  handle: string;
  /** The sequence number on our side's stream up to which they have read. */
  seq: number;
}

/**
 * Who has read how far of our side's stream: each member of the other side by their newest
 * receipt (a receipt never moves a reader back). Receipts about the other side's own stream (sent
 * by our side's members) and our own receipts are not about our messages and are left out.
 */
export function readersOf(records: readonly LineRecord[], ourSide: Side | undefined): Reader[] {
  const by = new Map<string, Reader>();
  for (const r of records) {
    const b = r.body;
    if (b.t !== 'receipt' || b.own || r.dir !== 'in') continue;
    if (ourSide !== undefined && b.upTo.side !== ourSide) continue;
    const key = `${b.from.handle}@${b.from.station}`;
    const had = by.get(key);
    if (!had || had.seq < b.upTo.seq) by.set(key, { station: b.from.station, handle: b.from.handle, seq: b.upTo.seq });
  }
  return [...by.values()].sort((a, b) => (a.station === b.station ? a.handle.localeCompare(b.handle) : a.station.localeCompare(b.station)));
}

/** Those who have read our side's item with sequence number `seq`. */
export function readBy(readers: readonly Reader[], seq: number): Reader[] {
  return readers.filter((r) => r.seq >= seq);
}

/**
 * The receipt this member's app should send now, or null: the newest message of the other side
 * shown to them with its text, when it is beyond what they last said they read. Only what people
 * said counts (call events, group changes, voice signals and receipts are not "read").
 */
export function receiptToSend(records: readonly LineRecord[], peerSide: Side, lastSent: number): ReadUpTo | null {
  let newest = 0;
  for (const r of records) {
    if (r.dir !== 'in') continue;
    const t = r.body.t;
    // Shown with its text: a message this device could not read (yet) was not read.
    if ((t === 'text' || t === 'archived' || t === 'unencrypted') && r.seq > newest) newest = r.seq;
  }
  return newest > lastSent ? { side: peerSide, seq: newest } : null;
}

const isMarks = (v: unknown): v is Record<string, number> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number');

/**
 * How far this device last said its member read, per line, kept on the device so that a reload
 * does not send the same receipt again. Only moves forward. (Positions are not secret: the
 * station knows them; the text is never kept here.)
 */
export class ReceiptMarks {
  private readonly key: string;

  constructor(
    private readonly store: KeyValueStore,
    scope: string,
  ) {
    this.key = `${scope}:receipts`;
  }

  get(lineId: string): number {
    return readJson(this.store, this.key, isMarks, {})[lineId] ?? 0;
  }

  set(lineId: string, seq: number): void {
    const marks = readJson(this.store, this.key, isMarks, {});
    if ((marks[lineId] ?? 0) >= seq) return;
    marks[lineId] = seq;
    writeJson(this.store, this.key, marks);
  }
}

// What a CLI device keeps in its profile directory, beside profile.json:
//
//   device.bin              the MLS device identity (private signature key + station binding), 0600
//   e2ee.json               pinned station key, key package secrets not yet used by a Welcome
//   groups/<line>.bin       per line: processing cursor and metadata, the MLS group state, and a
//                           pending self-update's state — one file, replaced atomically, so the
//                           cursor and the state can never disagree after a crash
//   messages/<line>.jsonl   the device's own decrypted view of the line (plaintext: 0600), and
//                           the plaintext of what this device sent (MLS cannot decrypt one's own)
//
// Ordering rules that make crashes harmless: records are appended (and fsynced) before the
// state that produced them is saved, so a replay after a crash re-derives the same records
// from the old state (the cache keeps the last record per position); and a group state is
// saved before anything encrypted with it leaves the device, so no ratchet generation is used
// twice.
import { readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deserializeGroup, type GroupState, importDevice, type DeviceIdentity, exportDevice, serializeGroup } from '@parley/e2ee';
import type { LineEvent } from '@parley/calls';
import { ParleyError } from '@parley/protocol';
import type { VoiceSignal } from './content.js';
import { appendDurable, ensureDir, readIfExists, writeFileAtomic } from './files.js';

export interface StoredKeyPackage {
  ref: string;
  /** base64url of KeyPackageBundle.secrets */
  secrets: string;
  notAfter: number;
  createdAt: number;
}

export interface E2eeFile {
  version: 1;
  deviceId: string;
  stationName: string;
  /** base64url of the station's Ed25519 key, checked against the session's fingerprint. */
  stationPublicKey: string | null;
  keyPackages: StoredKeyPackage[];
  lastKeyPackageCheck: number;
}

export interface SeatRef {
  station: string;
  handle: string;
}

/** An application message that could not be processed yet: no group, or a later epoch. */
export interface Deferred {
  pos: number;
  epoch: number;
  sentAt: number;
  sender: SeatRef;
  clientId: string | null;
  payload: string;
  /** The message's line-wide id (`side:seq`), and for a translation what it renders. */
  ref?: string;
  of?: string;
  ofLang?: string;
}

export interface LineMeta {
  version: 1;
  line: string;
  lineId: string;
  /** Every timeline item up to here has been processed. */
  cursor: number;
  joinedPos: number | null;
  joinedEpoch: number | null;
  removedAt: number | null;
  lastUpdateAt: number | null;
  sendsSinceUpdate: number;
  /** SHA-256 (hex) of our own commits the hub accepted, to recognise them in the timeline. */
  ownCommits: string[];
  /** A self-update sent to the hub whose outcome we have not seen yet. */
  pending: { epoch: number; hash: string; at: number } | null;
  /** The peer station's key (base64url), pinned at the first sync. */
  peerStation: string;
  peerKey: string;
  /** Every (station, handle) ever seen seated on this line: commits made while they held a seat must still verify. */
  knownSeats: SeatRef[];
  deferred: Deferred[];
  /** The sequence number of the other side's stream up to which this device last sent a read receipt (`read --mark-read`). */
  receiptSeq?: number;
}

export interface LineState {
  meta: LineMeta;
  group: GroupState | null;
  pendingState: GroupState | null;
}

export interface RosterDevice {
  leafIndex: number;
  station: string;
  handle: string;
  deviceId: string;
  signatureKeyFingerprint: string;
  issuedAt: number;
}

export type MessageStatus = 'ok' | 'own' | 'mismatch' | 'pending' | 'before-join' | 'failed' | 'unencrypted';

export interface MessageRecord {
  t: 'msg';
  pos: number;
  sentAt: number;
  sender: { station: string; handle: string; deviceId: string | null };
  text: string | null;
  lang?: string;
  verified: boolean;
  error: string | null;
  status: MessageStatus;
  clientId: string | null;
  epoch?: number;
  /** The message's id on the line, the same at both stations: `inviter:12`, `acceptor:7`. */
  ref?: string;
  /** For a translation: the id of the message it renders (its language is `lang`). */
  translationOf?: string;
  /** Display only: a translation superseded by a later revision. */
  revised?: boolean;
  /** Not something anyone said: a read receipt (kept so a placeholder at its position is replaced, never printed). */
  hidden?: 'receipt';
  /** A call's voice signal from the web app (content.ts): printed as such, not as a message. */
  voice?: VoiceSignal;
}

export type EventKind = 'joined' | 'roster' | 'keys' | 'removed' | 'call' | 'error';

export interface EventRecord {
  t: 'event';
  pos: number;
  sentAt: number;
  event: EventKind;
  epoch: number | null;
  text: string;
  added?: RosterDevice[];
  removed?: RosterDevice[];
  error?: string;
  /** For 'call': the call event as the hub ordered it (public metadata). */
  call?: LineEvent;
}

export interface SentRecord {
  t: 'sent';
  clientId: string;
  text: string;
  lang?: string;
  at: number;
  /** A read receipt this device sent: its item comes back hidden. */
  hidden?: 'receipt';
}

export type CacheRecord = MessageRecord | EventRecord | SentRecord;
export type TimelineRecord = MessageRecord | EventRecord;

const LINE_MAGIC = Buffer.from('PRLYCLI\x01', 'latin1');

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function encodeLineState(s: LineState): Uint8Array {
  const meta = Buffer.from(JSON.stringify(s.meta), 'utf8');
  const group = s.group ? Buffer.from(serializeGroup(s.group)) : Buffer.alloc(0);
  const pending = s.pendingState ? Buffer.from(serializeGroup(s.pendingState)) : Buffer.alloc(0);
  return Buffer.concat([LINE_MAGIC, u32(meta.length), meta, u32(group.length), group, u32(pending.length), pending]);
}

export function decodeLineState(bytes: Buffer, where: string): LineState {
  const bad = (why: string): never => {
    throw new ParleyError('PROFILE_MISSING', `the line state ${where} is damaged (${why})`, 'log in again to start this device afresh');
  };
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(LINE_MAGIC)) bad('not a line state file');
  let at = 8;
  const part = (): Buffer => {
    if (at + 4 > bytes.length) bad('truncated');
    const n = bytes.readUInt32BE(at);
    at += 4;
    if (at + n > bytes.length) bad('truncated');
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const meta = JSON.parse(part().toString('utf8')) as LineMeta;
  if (meta.version !== 1) bad(`version ${String(meta.version)}`);
  const g = part();
  const p = part();
  if (at !== bytes.length) bad('trailing bytes');
  return {
    meta,
    group: g.length > 0 ? deserializeGroup(new Uint8Array(g)) : null,
    pendingState: p.length > 0 ? deserializeGroup(new Uint8Array(p)) : null,
  };
}

/** Everything one profile directory holds for end-to-end encryption. */
export class DeviceStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private get deviceFile(): string {
    return join(this.dir, 'device.bin');
  }
  private get e2eeFile(): string {
    return join(this.dir, 'e2ee.json');
  }
  lineFile(line: string): string {
    return join(this.dir, 'groups', `${line}.bin`);
  }
  messagesFile(line: string): string {
    return join(this.dir, 'messages', `${line}.jsonl`);
  }

  loadDevice(): DeviceIdentity | undefined {
    const bytes = readIfExists(this.deviceFile);
    if (!bytes) return undefined;
    return importDevice(new Uint8Array(bytes));
  }

  saveDevice(device: DeviceIdentity): void {
    writeFileAtomic(this.deviceFile, exportDevice(device));
  }

  loadE2ee(): E2eeFile | undefined {
    const bytes = readIfExists(this.e2eeFile);
    if (!bytes) return undefined;
    try {
      const v = JSON.parse(bytes.toString('utf8')) as E2eeFile;
      if (v.version !== 1) throw new Error(`version ${String(v.version)}`);
      return v;
    } catch (e) {
      throw new ParleyError('PROFILE_MISSING', `${this.e2eeFile} is damaged (${(e as Error).message})`, 'log in again');
    }
  }

  saveE2ee(v: E2eeFile): void {
    writeFileAtomic(this.e2eeFile, `${JSON.stringify(v, null, 2)}\n`);
  }

  /**
   * A new login is a new device (the station gives every session its own device id): keep the
   * old device's keys and group states aside, read-only for its owner, and start afresh. The
   * decrypted message caches and their cursors stay: they are this person's plaintext view and
   * the new device continues from where the old one stopped.
   */
  retireDevice(oldDeviceId: string): void {
    const dest = join(this.dir, 'retired', `${oldDeviceId}-${Date.now()}`);
    ensureDir(dest);
    for (const name of ['device.bin', 'e2ee.json']) {
      try {
        renameSync(join(this.dir, name), join(dest, name));
      } catch {
        // absent
      }
    }
    // Group states: keep the cursor (so messages are not processed twice) but drop the group.
    ensureDir(join(dest, 'groups'));
    for (const line of this.lineNames()) {
      const file = this.lineFile(line);
      const bytes = readIfExists(file);
      if (!bytes) continue;
      writeFileAtomic(join(dest, 'groups', `${line}.bin`), bytes);
      try {
        const s = decodeLineState(bytes, file);
        const meta: LineMeta = {
          ...s.meta,
          joinedPos: null,
          joinedEpoch: null,
          removedAt: null,
          lastUpdateAt: null,
          sendsSinceUpdate: 0,
          ownCommits: [],
          pending: null,
          deferred: [],
        };
        this.saveLine({ meta, group: null, pendingState: null });
      } catch {
        this.retireLine(line);
      }
    }
  }

  lineNames(): string[] {
    try {
      return readdirSync(join(this.dir, 'groups'))
        .filter((n) => n.endsWith('.bin'))
        .map((n) => n.slice(0, -4));
    } catch {
      return [];
    }
  }

  loadLine(line: string): LineState | undefined {
    const file = this.lineFile(line);
    const bytes = readIfExists(file);
    return bytes ? decodeLineState(bytes, file) : undefined;
  }

  saveLine(s: LineState): void {
    writeFileAtomic(this.lineFile(s.meta.line), encodeLineState(s));
  }

  /** The line was recreated under the same name: set the old state and cache aside. */
  retireLine(line: string): void {
    const stamp = Date.now();
    for (const [file, dest] of [
      [this.lineFile(line), join(this.dir, 'retired', 'groups', `${line}-${stamp}.bin`)],
      [this.messagesFile(line), join(this.dir, 'retired', 'messages', `${line}-${stamp}.jsonl`)],
    ] as const) {
      if (!readIfExists(file)) continue;
      ensureDir(join(dest, '..'));
      renameSync(file, dest);
    }
  }

  appendRecords(line: string, records: CacheRecord[]): void {
    if (records.length === 0) return;
    appendDurable(this.messagesFile(line), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** The cache as the device sees it: the last record per timeline position, and sent plaintexts by client id. */
  readCache(line: string): { timeline: TimelineRecord[]; sent: Map<string, SentRecord> } {
    const bytes = readIfExists(this.messagesFile(line));
    const byPos = new Map<string, TimelineRecord>();
    const sent = new Map<string, SentRecord>();
    if (bytes) {
      for (const raw of bytes.toString('utf8').split('\n')) {
        if (!raw) continue;
        let r: CacheRecord;
        try {
          r = JSON.parse(raw) as CacheRecord;
        } catch {
          continue; // a torn last line after a crash: its state was never saved, so it comes back
        }
        if (r.t === 'sent') sent.set(r.clientId, r);
        // Messages and events can share a position only if one replaces the other (a deferred
        // message decrypted later); an event never shares a position with a message.
        else byPos.set(`${r.pos}:${r.t}`, r);
      }
    }
    const timeline = [...byPos.values()].sort((a, b) => a.pos - b.pos || (a.t === b.t ? 0 : a.t === 'event' ? -1 : 1));
    return { timeline, sent };
  }
}

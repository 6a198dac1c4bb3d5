import {
  deserializeGroup,
  E2eeError,
  encrypt,
  type GroupState,
  isSelfUpdateDue,
  joinFromWelcome,
  type LinePolicy,
  type LineSeats,
  linePolicyFrom,
  type MessageInfo,
  offerSelfUpdateWithRetry,
  peekMessage,
  processMessage,
  type RosterEntry,
  rememberSeats,
  roster,
  type SelfUpdateOutcome,
  serializeGroup,
  updateOwnKeys,
} from '@parley/e2ee';
import { checkLineEvent, describeCallEvent, type LineEvent } from '@parley/calls';
import type { HistoryEntry, HistoryResponse, Item, ItemsPage, LineSummary } from '@parley/protocol';
import { fromBase64url, toBase64url } from '@parley/protocol/bytes';
import { ERROR_STATUS, ParleyError } from '@parley/protocol/errors';
import { wellFormedLang } from '@parley/protocol/lang-tags';
import {
  decodeContent,
  decodeLegacyText,
  decodeLineEventPayload,
  decodeSignalContent,
  encodeCallContent,
  encodeContent,
  encodeSignalContent,
  headerAadIs,
  SIGNAL_AAD,
} from '../message-codec.js';
import { decodeReceiptContent, encodeReceiptContent, isReceiptContent, RECEIPT_AAD, type ReadUpTo } from '../receipts.js';
import { type DeviceContext, dropKeyPackages, keyFingerprint, keyPackageSecrets, sha256Hex, topUpKeyPackages } from './device.js';
import { withLock } from './vault.js';

// One line as this device sees it: the timeline processed strictly in position order, each item
// exactly once (a Welcome for us joins the group, a commit moves it to the next epoch, an
// application message is decrypted, once: MLS deletes each message key after use), and what it
// showed kept in a local cache. Everything runs under the line's lock, reading the state from the
// vault and writing it back in one transaction with the records it produced, so several tabs of
// one browser take turns and never use one ratchet generation twice.

/** The code of a call's or translation's encrypted part sent before this device joined (history may have it). */
export const BEFORE_JOIN = 'BEFORE_JOIN';

/** Keys of this many past epochs are kept for messages that arrive after a commit. */
export const PAST_EPOCHS = 8;
const MAX_DEFERRED = 500;
/** Plaintexts of sent messages whose item never came back are forgotten after this long. */
const SENT_TTL_MS = 30 * 24 * 3600_000;
/** A key update whose outcome is unknown for this long is given up (the hub never ordered it). */
const PENDING_STALE_MS = 10 * 60_000;
const MAX_OWN_COMMITS = 32;
const MAX_CALL_SIDES = 500;
/** After a failed key refresh, the next try waits this long. */
const REFRESH_RETRY_MS = 60_000;
const PAGE = 500;

export interface SeatRef {
  station: string;
  handle: string;
}

export interface Sender {
  station: string;
  handle: string;
  deviceId: string;
}

/** What the timeline shows for one item. */
export type RecordBody =
  /** Decrypted (or our own, from the local copy): the sender is the MLS-authenticated device. */
  | { t: 'text'; text: string; lang?: string; from: Sender; verified: boolean; own: boolean; warning?: string }
  /** Sent before this device joined: it has no keys for it; the station's recorder may have it. */
  | { t: 'before-join'; epoch: number }
  /** Sent after a change of keys that has not reached this device yet. */
  | { t: 'pending'; epoch: number }
  /** Loaded from our station's recorder archive, on the officer's request. */
  | { t: 'archived'; text: string | null; lang?: string; from: Sender; error: string | null }
  /** The device could not read it, and why (DECRYPT_FAILED, UNKNOWN_SENDER, WRONG_EPOCH …). */
  | { t: 'refused'; code: string; message: string }
  /** An item of kind 'message': sent without end-to-end encryption by an old client. */
  | { t: 'unencrypted'; text: string | null }
  /**
   * An interpreter's translation (issue 9) of the message `of` (the side whose stream carries it
   * and its sequence number there) into `lang`: public which and into what, the text end-to-end
   * encrypted by the interpreter, read like a call's encrypted part. Never shown as a message of
   * its own: the conversation puts it beside its original (translations.ts).
   */
  | { t: 'translation'; of: { side: 'inviter' | 'acceptor'; seq: number }; lang: string; secret: CallSecret }
  /**
   * A call event the hub ordered (public metadata, described in `text`), with its end-to-end
   * encrypted part (topics, a reason) decrypted like a message from the member who acted.
   */
  | { t: 'call'; event: LineEvent; station: string; text: string; secret: CallSecret | null }
  /**
   * A call's WebRTC signalling (offer, answer, ICE, hangup) sent in the group: not shown in the
   * conversation; the voice panel checks it (checkSignal) and hands it to the browser.
   */
  | { t: 'signal'; signal: unknown; from: Sender; own: boolean }
  /** A read receipt: `from` has read the messages of `upTo.side`'s stream up to `upTo.seq` (receipts.ts). Not shown as a message. */
  | { t: 'receipt'; upTo: ReadUpTo; from: Sender; own: boolean }
  /** The group changed: this device joined or was removed, devices were added or removed. */
  | {
      t: 'event';
      event: 'joined' | 'roster' | 'removed' | 'keys' | 'error';
      text: string;
      added?: RosterDevice[];
      removed?: RosterDevice[];
    };

/** The encrypted part of a call event, as this device could read it. */
export type CallSecret =
  /** `archived`: a translation's text loaded from our station's recorder archive, not verified by this device. */
  { ok: true; text: string; from: Sender; own: boolean; warning?: string; archived?: true } | { ok: false; code: string; message: string };

export interface LineRecord {
  pos: number;
  dir: 'in' | 'out';
  seq: number;
  sentAt: number;
  storedAt: number;
  clientId: string | null;
  /** Who the station says sent it. */
  envelope: SeatRef;
  body: RecordBody;
}

export interface RosterDevice {
  leafIndex: number;
  station: string;
  handle: string;
  deviceId: string;
  signatureKeyFingerprint: string;
  issuedAt: number;
}

interface Deferred {
  pos: number;
  epoch: number;
  payload: string;
}

interface SentCopy {
  text: string;
  lang?: string;
  at: number;
  /** A WebRTC signal of a call (offer, answer, hangup), not something to show. */
  signal?: unknown;
  /** A read receipt this device sent. */
  receipt?: ReadUpTo;
}

interface Sealed {
  epoch: number;
  payload: string;
}

export interface LineMeta {
  v: 1;
  lineId: string;
  line: string;
  /** The last timeline position processed. */
  cursor: number;
  joinedPos: number | null;
  joinedEpoch: number | null;
  removedAt: number | null;
  /** The peer station and key first seen on this line: a change is refused. */
  peerStation: string;
  peerKey: string;
  /** Every seat ever seen on the line: commits by devices of a seat removed since still verify. */
  knownSeats: SeatRef[];
  /** Application messages waiting for the Welcome or commit that gives their epoch's keys. */
  deferred: (Deferred & { item: Omit<LineRecord, 'body'> })[];
  /** Our own messages' text by clientId, until their item comes back (MLS cannot decrypt one's own). */
  sent: Record<string, SentCopy>;
  /** Each queued message's ciphertext, made once per epoch, so a retry sends the same bytes. */
  sealed: Record<string, Sealed>;
  /** Bumped on every write: an unchanged number means the cached group state is still current. */
  rev: number;
  /** Messages encrypted since this device last refreshed its keys, and when it did (or joined). */
  sendsSinceUpdate: number;
  lastUpdateAt: number | null;
  /**
   * A key update offered to the hub whose answer has not come (its would-be state is stored
   * beside): adopted when its commit comes back on the timeline, dropped if another commit wins.
   */
  pending: { epoch: number; hash: string; at: number } | null;
  /** SHA-256 of our own key updates the hub accepted: applied already when they come back. */
  ownCommits: string[];
  /** The side that requested each recent call: an escalation alerts the other side's officers. */
  callSides: Record<string, 'inviter' | 'acceptor'>;
}

export type Membership = 'waiting' | 'member' | 'removed';

/** The line's station keys are not the ones this device trusts: the line stops, with this said. */
export class LineKeyError extends Error {
  override readonly name = 'LineKeyError';
}

export function isLineKeyError(e: unknown): boolean {
  return e instanceof Error && e.name === 'LineKeyError';
}

const recKey = (lineId: string, pos: number) => `line/${lineId}/rec/${String(pos).padStart(16, '0')}`;
const metaKey = (lineId: string) => `line/${lineId}/meta`;
const groupKey = (lineId: string) => `line/${lineId}/group`;
const seenKey = (lineId: string) => `line/${lineId}/roster-seen`;
const pendingKey = (lineId: string) => `line/${lineId}/pending-group`;

/** Any refusal by the station: it did not order the commit. Anything else leaves the outcome unknown. */
function refused(e: unknown): boolean {
  return e instanceof ParleyError && ERROR_STATUS[e.code] >= 400 && ERROR_STATUS[e.code] < 500;
}

export function describeDevice(d: { handle: string; station: string; deviceId: string }): string {
  return `${d.handle}@${d.station} (device ${d.deviceId.slice(0, 8)})`;
}

function errorCode(e: unknown): { code: string; message: string } {
  if (e instanceof E2eeError) return { code: e.code, message: e.message };
  if (e instanceof ParleyError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

function rosterDevice(r: RosterEntry): RosterDevice {
  return {
    leafIndex: r.leafIndex,
    station: r.station,
    handle: r.handle,
    deviceId: r.deviceId,
    signatureKeyFingerprint: r.signatureKeyFingerprint,
    issuedAt: r.issuedAt,
  };
}

/** The line's two stations and their seats, as the policy needs them. */
function lineSeats(summary: LineSummary): LineSeats {
  return {
    ours: { station: summary.station.name, publicKey: fromBase64url(summary.station.publicKey) ?? new Uint8Array(), seats: summary.seats },
    peer: { station: summary.peer.name, publicKey: fromBase64url(summary.peer.publicKey) ?? new Uint8Array(), seats: summary.peerSeats },
  };
}

/** The MLS policy of a line: both stations' pinned keys, every seat known on it, both recorders. */
export function linePolicy(summary: LineSummary, knownSeats: readonly SeatRef[]): LinePolicy {
  return linePolicyFrom({ ...lineSeats(summary), formerSeats: knownSeats });
}

interface Loaded {
  meta: LineMeta;
  group: GroupState | null;
}

interface Batch {
  records: Map<number, LineRecord>;
  usedKeyPackages: string[];
  groupChanged: boolean;
  /** Our pending key update was adopted or lost: forget its stored state. */
  pendingDone: boolean;
}

/**
 * One line's end-to-end state for this device. Every public method is queued behind the previous
 * one and runs under the line's cross-tab lock.
 */
export class LineEngine {
  private summary: LineSummary;
  private chain: Promise<unknown> = Promise.resolve();
  private cache: { rev: number; group: GroupState | null } | null = null;
  private refreshPausedUntil = 0;
  private status: {
    membership: Membership;
    cursor: number;
    epoch: number | null;
    keys: { sendsSinceUpdate: number; lastUpdateAt: number | null; pending: boolean };
  } = { membership: 'waiting', cursor: 0, epoch: null, keys: { sendsSinceUpdate: 0, lastUpdateAt: null, pending: false } };

  private constructor(
    private readonly ctx: DeviceContext,
    summary: LineSummary,
  ) {
    this.summary = summary;
  }

  /** Check the line's station keys against what this device pinned, and load (or start) its state. */
  static async open(ctx: DeviceContext, summary: LineSummary): Promise<LineEngine> {
    const engine = new LineEngine(ctx, summary);
    await engine.checkKeys(summary);
    await engine.run(async (s) => {
      engine.note(s);
      return false;
    });
    return engine;
  }

  get lineId(): string {
    return this.summary.id;
  }
  get membership(): Membership {
    return this.status.membership;
  }
  /** The last position processed: a stream resumes after it. */
  get cursor(): number {
    return this.status.cursor;
  }
  get epoch(): number | null {
    return this.status.epoch;
  }
  /** Time to refresh this device's keys in the group (post-compromise security; the CLI's rule). */
  get selfUpdateDue(): boolean {
    return this.status.membership === 'member' && isSelfUpdateDue(this.status.keys, this.ctx.now());
  }

  /** The summary changes (seats, health): keep the newest for the policy. Keys must not change. */
  async updateSummary(summary: LineSummary): Promise<void> {
    if (summary.id !== this.summary.id) throw new LineKeyError('the line was recreated under the same name; reload the page');
    await this.checkKeys(summary);
    this.summary = summary;
  }

  private async checkKeys(summary: LineSummary): Promise<void> {
    const own = fromBase64url(summary.station.publicKey);
    if (summary.station.name !== this.ctx.device.station || !own || toBase64url(own) !== toBase64url(this.ctx.stationKey)) {
      throw new LineKeyError(
        `the line names station ${summary.station.name} with a key other than the one that vouched for this device — someone may be impersonating your station; tell your administrator`,
      );
    }
    const peer = fromBase64url(summary.peer.publicKey);
    if (peer?.length !== 32 || (await keyFingerprint(peer)) !== summary.peer.fingerprint.replace(/\s+/g, '').toLowerCase()) {
      throw new LineKeyError(`the key given for station ${summary.peer.name} does not match its pinned fingerprint`);
    }
  }

  private freshMeta(): LineMeta {
    return {
      v: 1,
      lineId: this.summary.id,
      line: this.summary.name,
      cursor: 0,
      joinedPos: null,
      joinedEpoch: null,
      removedAt: null,
      peerStation: this.summary.peer.name,
      peerKey: this.summary.peer.publicKey,
      knownSeats: [],
      deferred: [],
      sent: {},
      sealed: {},
      rev: 0,
      sendsSinceUpdate: 0,
      lastUpdateAt: null,
      pending: null,
      ownCommits: [],
      callSides: {},
    };
  }

  private async load(): Promise<Loaded> {
    const { vault } = this.ctx;
    const id = this.summary.id;
    // Fields added since a state was stored take their fresh values.
    const meta: LineMeta = { ...this.freshMeta(), ...(await vault.get<Partial<LineMeta>>(metaKey(id))) };
    if (meta.peerStation !== this.summary.peer.name || meta.peerKey !== this.summary.peer.publicKey) {
      throw new LineKeyError(
        `station ${this.summary.peer.name}'s key is not the one this device saw on this line before — compare the safety number with the other side`,
      );
    }
    let group: GroupState | null;
    if (this.cache && this.cache.rev === meta.rev) group = this.cache.group;
    else {
      const bytes = await vault.get<Uint8Array>(groupKey(id));
      group = bytes ? deserializeGroup(bytes) : null;
    }
    // Seats seen now join those seen before.
    meta.knownSeats = rememberSeats(meta.knownSeats, lineSeats(this.summary));
    return { meta, group };
  }

  /**
   * Write the state and what it produced in one transaction. `pendingGroup`: the would-be state of
   * our key update to store (a state) or to forget (null).
   */
  private async save(
    s: Loaded,
    groupChanged: boolean,
    records: Iterable<LineRecord> = [],
    pendingGroup?: GroupState | null,
  ): Promise<void> {
    const id = this.summary.id;
    s.meta.rev++;
    const puts: [string, unknown][] = [[metaKey(id), s.meta]];
    if (groupChanged && s.group) puts.push([groupKey(id), serializeGroup(s.group)]);
    for (const r of records) puts.push([recKey(id, r.pos), r]);
    if (pendingGroup) puts.push([pendingKey(id), serializeGroup(pendingGroup)]);
    await this.ctx.vault.write(puts, pendingGroup === null ? [pendingKey(id)] : []);
    this.cache = { rev: s.meta.rev, group: s.group };
  }

  private note(s: Loaded): void {
    this.status = {
      membership: !s.group ? 'waiting' : s.group.active ? 'member' : 'removed',
      cursor: s.meta.cursor,
      epoch: s.group?.active ? s.group.epoch : null,
      keys: { sendsSinceUpdate: s.meta.sendsSinceUpdate, lastUpdateAt: s.meta.lastUpdateAt, pending: s.meta.pending !== null },
    };
  }

  /** Run fn after every earlier call, under the line's lock, with the state fresh from the vault. */
  private run<T>(fn: (s: Loaded) => Promise<T>): Promise<T> {
    const next = this.chain.then(() =>
      withLock(`${this.ctx.lockPrefix}:line:${this.summary.id}`, async () => {
        const s = await this.load();
        const result = await fn(s);
        this.note(s);
        return result;
      }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Every record kept for this line (or those from..to), in timeline order. */
  async records(from = 0, to = Number.MAX_SAFE_INTEGER): Promise<LineRecord[]> {
    const id = this.summary.id;
    return (await this.ctx.vault.between<LineRecord>(recKey(id, from), recKey(id, to))).map((r) => r.value);
  }

  /**
   * Process these timeline items, in position order, skipping those already processed (by this
   * tab or another). Returns the records of every given position that has one (new, or made
   * earlier by another tab), plus earlier messages that a join or commit made readable.
   */
  async ingest(items: readonly Item[]): Promise<LineRecord[]> {
    if (items.length === 0) return [];
    const sorted = [...items].sort((a, b) => a.pos - b.pos);
    const { produced, used, skipped } = await this.run(async (s) => {
      const b: Batch = { records: new Map(), usedKeyPackages: [], groupChanged: false, pendingDone: false };
      const start = s.meta.cursor;
      let skipped = false;
      for (const item of sorted) {
        if (item.pos <= s.meta.cursor) {
          skipped = true;
          continue;
        }
        await this.handle(s, item, b);
        s.meta.cursor = item.pos;
      }
      if (s.meta.cursor !== start) {
        this.pruneSent(s);
        await this.save(s, b.groupChanged, b.records.values(), b.pendingDone ? null : undefined);
      }
      return { produced: b.records, used: b.usedKeyPackages, skipped };
    });
    if (used.length > 0) {
      await dropKeyPackages(this.ctx, used);
      // Joins are rare: replace the used key package now (the next page load tries again if this fails).
      await topUpKeyPackages(this.ctx).catch(() => undefined);
    }
    // Positions processed before (by another tab, or before a reconnect): read what was recorded.
    if (skipped) {
      const first = sorted[0]?.pos ?? 0;
      const last = sorted[sorted.length - 1]?.pos ?? 0;
      for (const r of await this.records(first, last + 1)) if (!produced.has(r.pos)) produced.set(r.pos, r);
    }
    return [...produced.values()].sort((a, b) => a.pos - b.pos);
  }

  private pruneSent(s: Loaded): void {
    const cutoff = this.ctx.now() - SENT_TTL_MS;
    for (const [id, c] of Object.entries(s.meta.sent)) {
      if (c.at < cutoff) {
        delete s.meta.sent[id];
        delete s.meta.sealed[id];
      }
    }
  }

  private policy(s: Loaded): LinePolicy {
    return linePolicy(this.summary, s.meta.knownSeats);
  }

  private envelope(item: Item): Omit<LineRecord, 'body'> {
    return {
      pos: item.pos,
      dir: item.dir,
      seq: item.seq,
      sentAt: item.sentAt,
      storedAt: item.storedAt,
      clientId: item.clientId,
      envelope: { station: item.sender.station, handle: item.sender.handle },
    };
  }

  private async handle(s: Loaded, item: Item, b: Batch): Promise<void> {
    const env = this.envelope(item);
    const put = (body: RecordBody) => b.records.set(item.pos, { ...env, body });
    const kind = item.kind as string;
    const bytes = fromBase64url(item.payload);
    if (kind === 'message') {
      put({ t: 'unencrypted', text: bytes ? decodeLegacyText(bytes) : null });
      return;
    }
    if (!bytes) {
      put({ t: 'refused', code: 'MALFORMED', message: 'the payload is not valid base64url' });
      return;
    }
    if (kind === 'welcome') return this.welcome(s, item, bytes, b);
    if (kind === 'call') return this.callEvent(s, item, b);
    if (kind === 'record') return; // the joint record's bookkeeping, not shown in the conversation
    if (kind === 'translation') return this.translation(s, item, b);
    if (kind !== 'mls') {
      put({ t: 'refused', code: 'UNSUPPORTED_MESSAGE', message: `an item of kind ${kind}, which this app does not know` });
      return;
    }
    let info: MessageInfo;
    try {
      info = peekMessage(bytes);
    } catch (e) {
      const { code, message } = errorCode(e);
      put({ t: 'refused', code, message });
      return;
    }
    if (info.kind === 'handshake') {
      if (!info.public || info.contentType !== 'commit') {
        if (s.group?.active) put({ t: 'event', event: 'error', text: 'UNSUPPORTED_MESSAGE: a handshake message Parley does not use' });
        return;
      }
      return this.commit(s, item, bytes, info.epoch, b);
    }
    if (info.kind !== 'application') {
      put({ t: 'refused', code: 'UNEXPECTED_MESSAGE', message: `an MLS ${info.kind} as a line item` });
      return;
    }
    // Our own message: MLS cannot decrypt it, the text was kept when it was encrypted.
    const own = item.clientId ? s.meta.sent[item.clientId] : undefined;
    if (own && item.dir === 'out' && item.sender.handle === this.ctx.device.handle && item.clientId) {
      const me = { station: this.ctx.device.station, handle: this.ctx.device.handle, deviceId: this.ctx.device.deviceId };
      put(
        own.receipt !== undefined
          ? { t: 'receipt', upTo: own.receipt, from: me, own: true }
          : own.signal !== undefined
            ? { t: 'signal', signal: own.signal, from: me, own: true }
            : this.ownBody(own),
      );
      delete s.meta.sent[item.clientId];
      delete s.meta.sealed[item.clientId];
      return;
    }
    // A read receipt or a call's voice signal (each tagged in its clear header) that this device
    // cannot read (yet) leaves no placeholder: it is not something anyone said.
    const receipt = headerAadIs(bytes, RECEIPT_AAD) || headerAadIs(bytes, SIGNAL_AAD);
    const group = s.group;
    if (!group) {
      if (!receipt) put({ t: 'before-join', epoch: info.epoch });
      this.defer(s, { pos: item.pos, epoch: info.epoch, payload: item.payload, item: env }, b); // readable if a later Welcome covers it
      return;
    }
    if (!group.active) {
      put({
        t: 'refused',
        code: 'NOT_A_MEMBER',
        message: `this device was removed from the line${s.meta.removedAt !== null ? ` at #${s.meta.removedAt}` : ''}`,
      });
      return;
    }
    if (s.meta.joinedEpoch !== null && info.epoch < s.meta.joinedEpoch) {
      if (!receipt) put({ t: 'before-join', epoch: info.epoch });
      return;
    }
    if (info.epoch > group.epoch) {
      if (!receipt) put({ t: 'pending', epoch: info.epoch });
      this.defer(s, { pos: item.pos, epoch: info.epoch, payload: item.payload, item: env }, b);
      return;
    }
    await this.decryptInto(s, env, bytes, b);
  }

  /**
   * A 'call' item: the hub's stream carries it (its station is the sender's, side 'inviter'),
   * payload `{event, body}`. The event is public metadata; the body is an MLS application
   * message from the member who acted, decrypted now (it is never deferred: in the hub's order
   * it comes after every commit of the epoch it was sent in).
   */
  private async callEvent(s: Loaded, item: Item, b: Batch): Promise<void> {
    const env = this.envelope(item);
    const put = (body: RecordBody) => b.records.set(item.pos, { ...env, body });
    const payload = decodeLineEventPayload(item.payload);
    const checked = checkLineEvent(payload?.event);
    if (!checked.ok) {
      put({ t: 'event', event: 'error', text: `A call event that cannot be read: ${checked.error.message}` });
      return;
    }
    const ev = checked.value;
    const hub = item.sender.station;
    const other = hub === this.summary.station.name ? this.summary.peer.name : this.summary.station.name;
    const station = ev.by.side === 'inviter' ? hub : other;
    let text = describeCallEvent(ev, station, station === hub ? other : hub);
    if (ev.action === 'request') {
      const sides = s.meta.callSides;
      sides[ev.callId] = ev.by.side;
      const ids = Object.keys(sides);
      for (const old of ids.slice(0, Math.max(0, ids.length - MAX_CALL_SIDES))) delete sides[old];
    } else if (ev.action === 'escalate') {
      // The scheduler acts for the hub, but the officers alerted are those of the side called.
      const requester = s.meta.callSides[ev.callId];
      const called = requester === undefined ? 'the called side' : requester === 'inviter' ? other : hub;
      text = `call ${ev.callId.slice(0, 6)} not acknowledged: ${ev.level === 'deputy' ? 'deputies' : 'duty officers'} of ${called} alerted`;
    }
    let secret: CallSecret | null = null;
    if (typeof payload?.body === 'string' && 'handle' in ev.by) {
      secret = await this.callSecret(s, item, payload.body, { station, handle: ev.by.handle }, b);
    }
    put({ t: 'call', event: ev, station, text, secret });
  }

  private async callSecret(s: Loaded, item: Item, payload: string, by: SeatRef, b: Batch): Promise<CallSecret> {
    const bytes = fromBase64url(payload);
    if (!bytes) return { ok: false, code: 'MALFORMED', message: 'the encrypted part is not valid base64url' };
    const me = this.ctx.device;
    const own = item.clientId ? s.meta.sent[item.clientId] : undefined;
    if (own && item.clientId && by.station === me.station && by.handle === me.handle) {
      delete s.meta.sent[item.clientId];
      delete s.meta.sealed[item.clientId];
      return { ok: true, text: own.text, from: { station: me.station, handle: me.handle, deviceId: me.deviceId }, own: true };
    }
    const group = s.group;
    if (!group?.active) return { ok: false, code: 'NOT_A_MEMBER', message: 'this device was not in the line’s encrypted group then' };
    try {
      const info = peekMessage(bytes);
      if (info.kind !== 'application') return { ok: false, code: 'UNEXPECTED_MESSAGE', message: `an MLS ${info.kind} as a call’s body` };
      if (s.meta.joinedEpoch !== null && info.epoch < s.meta.joinedEpoch) {
        return { ok: false, code: BEFORE_JOIN, message: 'sent before this device joined the line’s encrypted group' };
      }
      const r = await processMessage(group, bytes, this.policy(s));
      if (r.kind !== 'application') throw new E2eeError('UNEXPECTED_MESSAGE', 'a commit as a call’s body');
      s.group = r.state;
      b.groupChanged = true;
      const c = decodeContent(r.plaintext);
      const from = { station: r.sender.station, handle: r.sender.handle, deviceId: r.sender.deviceId };
      if (!c.ok) return { ok: false, code: c.code, message: c.reason };
      const secret: CallSecret = { ok: true, text: c.text, from, own: false };
      if (from.station !== by.station || from.handle !== by.handle) {
        secret.warning = `SENDER_MISMATCH: the event says ${by.handle}@${by.station} acted, but its encrypted part is signed by ${describeDevice(from)}`;
      }
      return secret;
    } catch (e) {
      const { code, message } = errorCode(e);
      if (code === 'OWN_MESSAGE') return { ok: false, code, message: 'sent from this device, but its text was not kept here' };
      return { ok: false, code, message };
    }
  }

  /**
   * A 'translation' item: `{of, lang, body}` on the interpreter's own stream. Both stations
   * checked that it names a message they hold and that its sender is an interpreter; the body is
   * decrypted here like a call's encrypted part (our own from the copy kept when it was sealed),
   * and a body signed by someone other than the item's sender is flagged (SENDER_MISMATCH).
   */
  private async translation(s: Loaded, item: Item, b: Batch): Promise<void> {
    const env = this.envelope(item);
    const p = decodeLineEventPayload(item.payload);
    const of = p?.of as { side?: unknown; seq?: unknown } | undefined;
    const side = of?.side;
    const seq = of?.seq;
    const lang = p?.lang;
    if (
      (side !== 'inviter' && side !== 'acceptor') ||
      typeof seq !== 'number' ||
      !Number.isSafeInteger(seq) ||
      seq < 1 ||
      typeof lang !== 'string' ||
      !wellFormedLang(lang) ||
      typeof p?.body !== 'string'
    ) {
      b.records.set(item.pos, { ...env, body: { t: 'event', event: 'error', text: 'A translation that cannot be read (malformed)' } });
      return;
    }
    // Made before this device joined: no keys for it here; the recorder's archive may have it.
    const secret: CallSecret = s.group
      ? await this.callSecret(s, item, p.body, env.envelope, b)
      : { ok: false, code: BEFORE_JOIN, message: 'sent before this device joined the line’s encrypted group' };
    b.records.set(item.pos, { ...env, body: { t: 'translation', of: { side, seq }, lang, secret } });
  }

  private ownBody(own: SentCopy): RecordBody {
    const body: RecordBody = {
      t: 'text',
      text: own.text,
      from: { station: this.ctx.device.station, handle: this.ctx.device.handle, deviceId: this.ctx.device.deviceId },
      verified: true,
      own: true,
    };
    if (own.lang) body.lang = own.lang;
    return body;
  }

  private async decryptInto(s: Loaded, env: Omit<LineRecord, 'body'>, bytes: Uint8Array, b: Batch): Promise<void> {
    const put = (body: RecordBody) => b.records.set(env.pos, { ...env, body });
    const group = s.group as GroupState;
    try {
      const r = await processMessage(group, bytes, this.policy(s));
      if (r.kind !== 'application') throw new E2eeError('UNEXPECTED_MESSAGE', 'a commit inside an application message');
      s.group = r.state;
      b.groupChanged = true;
      const from = { station: r.sender.station, handle: r.sender.handle, deviceId: r.sender.deviceId };
      if (isReceiptContent(r.plaintext)) {
        // A read receipt: kept for the "read by" marks, never shown as a message. A malformed one says nothing.
        const upTo = decodeReceiptContent(r.plaintext);
        if (upTo) put({ t: 'receipt', upTo, from, own: false });
        else put({ t: 'event', event: 'error', text: `A read receipt that cannot be read (from ${describeDevice(from)})` });
        return;
      }
      const signal = decodeSignalContent(r.plaintext);
      if (signal !== undefined) {
        // Who sent it is the MLS-authenticated device; the voice panel checks they are in the call.
        put({ t: 'signal', signal, from, own: false });
        return;
      }
      const c = decodeContent(r.plaintext);
      if (!c.ok) {
        put({ t: 'refused', code: c.code, message: `${c.reason} (from ${describeDevice(from)})` });
        return;
      }
      const same = from.station === env.envelope.station && from.handle === env.envelope.handle;
      const body: RecordBody = { t: 'text', text: c.text, from, verified: same, own: false };
      if (c.lang) body.lang = c.lang;
      if (!same) {
        body.warning = `SENDER_MISMATCH: the station says ${env.envelope.handle}@${env.envelope.station} sent this, but it is signed by ${describeDevice(from)}`;
      }
      put(body);
    } catch (e) {
      const { code, message } = errorCode(e);
      if (code === 'OWN_MESSAGE') {
        put({ t: 'refused', code, message: 'sent from this device, but its text was not kept here' });
        return;
      }
      put({ t: 'refused', code, message });
    }
  }

  private defer(s: Loaded, d: LineMeta['deferred'][number], b: Batch): void {
    const list = s.meta.deferred;
    list.push(d);
    while (list.length > MAX_DEFERRED) {
      const dropped = list.shift() as LineMeta['deferred'][number];
      if (s.group) {
        b.records.set(dropped.pos, {
          ...dropped.item,
          body: { t: 'refused', code: 'WRONG_EPOCH', message: 'the change of keys this message was sent after never arrived' },
        });
      }
    }
  }

  /** After the group moved on (joined, or a commit), decrypt what was waiting for it. */
  private async retryDeferred(s: Loaded, b: Batch): Promise<void> {
    const group = s.group;
    if (!group?.active || s.meta.deferred.length === 0) return;
    const keep: LineMeta['deferred'] = [];
    for (const d of s.meta.deferred) {
      if (d.epoch > group.epoch) keep.push(d);
      else if (s.meta.joinedEpoch !== null && d.epoch < s.meta.joinedEpoch) {
        // sent before this device joined: its record says so already
      } else {
        const bytes = fromBase64url(d.payload);
        if (bytes) await this.decryptInto(s, d.item, bytes, b);
      }
    }
    s.meta.deferred = keep;
  }

  private async welcome(s: Loaded, item: Item, bytes: Uint8Array, b: Batch): Promise<void> {
    if (s.group?.active) return; // a Welcome for some other device
    const secrets = await keyPackageSecrets(this.ctx);
    if (secrets.length === 0) return;
    let joined: Awaited<ReturnType<typeof joinFromWelcome>>;
    try {
      joined = await joinFromWelcome(
        this.ctx.device,
        bytes,
        secrets.map((k) => k.secrets),
        this.policy(s),
        { expectedGroupId: this.summary.id, pastEpochs: PAST_EPOCHS },
      );
    } catch (e) {
      const { code, message } = errorCode(e);
      if (code === 'NO_MATCHING_KEY_PACKAGE' || code === 'WRONG_CIPHERSUITE') return; // not for this device
      b.records.set(item.pos, {
        ...this.envelope(item),
        body: { t: 'event', event: 'error', text: `A Welcome for this device was refused: ${code}: ${message}` },
      });
      return;
    }
    s.group = joined.state;
    b.groupChanged = true;
    s.meta.joinedPos = item.pos;
    s.meta.joinedEpoch = joined.state.epoch;
    s.meta.removedAt = null;
    // Joined with the key package's keys: as fresh as when it was made.
    s.meta.lastUpdateAt = secrets.find((k) => k.ref === joined.keyPackageRef)?.createdAt ?? this.ctx.now();
    s.meta.sendsSinceUpdate = 0;
    s.meta.ownCommits = [];
    if (s.meta.pending) {
      s.meta.pending = null;
      b.pendingDone = true;
    }
    b.usedKeyPackages.push(joined.keyPackageRef);
    b.records.set(item.pos, {
      ...this.envelope(item),
      body: {
        t: 'event',
        event: 'joined',
        text: `This device joined the line’s encrypted group (epoch ${joined.state.epoch}, ${joined.roster.length} devices).`,
        added: joined.roster.map(rosterDevice),
      },
    });
    await this.retryDeferred(s, b);
  }

  private async commit(s: Loaded, item: Item, bytes: Uint8Array, epoch: number, b: Batch): Promise<void> {
    const group = s.group;
    if (!group?.active) return; // before this device joined, or after it was removed
    if (s.meta.joinedEpoch !== null && epoch < s.meta.joinedEpoch) return; // the commit that added us, or older
    const put = (body: RecordBody) => b.records.set(item.pos, { ...this.envelope(item), body });
    const hash = await sha256Hex(bytes);
    if (s.meta.ownCommits.includes(hash)) {
      put({ t: 'event', event: 'keys', text: `This device refreshed its keys (epoch ${epoch + 1}).` });
      return;
    }
    try {
      const r = await processMessage(group, bytes, this.policy(s));
      if (r.kind !== 'commit') throw new E2eeError('UNEXPECTED_MESSAGE', 'an application message in a PublicMessage');
      s.group = r.state;
      b.groupChanged = true;
      if (s.meta.pending) {
        // Another commit won this epoch: our own key update can never apply.
        s.meta.pending = null;
        b.pendingDone = true;
      }
      const by = describeDevice(r.committer);
      if (r.removedSelf) {
        s.meta.removedAt = item.pos;
        s.meta.deferred = [];
        put({
          t: 'event',
          event: 'removed',
          text: `This device was removed from the line by ${by}.`,
          removed: r.removed.map(rosterDevice),
        });
        return;
      }
      if (r.added.length === 0 && r.removed.length === 0) {
        put({ t: 'event', event: 'keys', text: `${by} refreshed its keys (epoch ${r.epoch}).` });
      } else {
        const parts = [];
        if (r.added.length) parts.push(`added ${r.added.map(describeDevice).join(', ')}`);
        if (r.removed.length) parts.push(`removed ${r.removed.map(describeDevice).join(', ')}`);
        put({
          t: 'event',
          event: 'roster',
          text: `${by} ${parts.join('; ')} (epoch ${r.epoch}).`,
          added: r.added.map(rosterDevice),
          removed: r.removed.map(rosterDevice),
        });
      }
      await this.retryDeferred(s, b);
    } catch (e) {
      const { code, message } = errorCode(e);
      if (code === 'OWN_MESSAGE' && s.meta.pending?.hash === hash) {
        // Our key update, ordered by the hub though its answer never reached us.
        const pending = await this.ctx.vault.get<Uint8Array>(pendingKey(this.summary.id));
        if (pending) {
          this.adoptPending(s, deserializeGroup(pending));
          b.groupChanged = true;
          b.pendingDone = true;
          put({ t: 'event', event: 'keys', text: `This device refreshed its keys (epoch ${s.group?.epoch}).` });
          await this.retryDeferred(s, b);
          return;
        }
      }
      const why =
        code === 'OWN_MESSAGE'
          ? 'the hub ordered a key update of this device whose new keys this device no longer has; log out and in again to get a new device'
          : `${code}: ${message}`;
      put({ t: 'event', event: 'error', text: `A change of the group could not be applied: ${why}` });
    }
  }

  private adoptPending(s: Loaded, state: GroupState): void {
    const meta = s.meta;
    s.group = state;
    if (meta.pending) meta.ownCommits = [...meta.ownCommits, meta.pending.hash].slice(-MAX_OWN_COMMITS);
    meta.pending = null;
    meta.lastUpdateAt = this.ctx.now();
    meta.sendsSinceUpdate = 0;
  }

  /**
   * Post-compromise security: fresh keys for this device's leaf, committed and offered to the
   * hub (POST /api/v1/lines/:line/commits). The would-be state is stored before the commit
   * leaves, so that if the hub orders it and the answer is lost, the commit coming back on the
   * timeline is recognised and adopted. One attempt; see refreshKeysIfDue for the whole rule.
   */
  async updateOwnKeys(): Promise<SelfUpdateOutcome> {
    return this.run(async (s) => {
      const group = s.group;
      if (!group?.active) throw new ParleyError('UNAVAILABLE', 'this device is not in the line’s group');
      if (s.meta.pending && this.ctx.now() - s.meta.pending.at < PENDING_STALE_MS) {
        throw new ParleyError('UNAVAILABLE', 'an earlier key update of this device has not come back from the hub yet');
      }
      const out = await updateOwnKeys(group);
      s.meta.pending = { epoch: group.epoch, hash: await sha256Hex(out.commit), at: this.ctx.now() };
      await this.save(s, false, [], out.state);
      try {
        await this.ctx.call('POST', `/api/v1/lines/${encodeURIComponent(this.summary.name)}/commits`, { commit: toBase64url(out.commit) });
      } catch (e) {
        // Not ordered (a refusal): forget it. No answer: the timeline will tell (see commit()).
        if (!refused(e)) throw e;
        s.meta.pending = null;
        await this.save(s, false, [], null);
        if (e instanceof ParleyError && e.code === 'WRONG_EPOCH') return { ok: false, reason: 'WRONG_EPOCH' } as const;
        throw e;
      }
      this.adoptPending(s, out.state);
      await this.save(s, true, [], null);
      return { ok: true, epoch: out.epoch } as const;
    });
  }

  /** Process what our station's timeline holds beyond this device's cursor (GET …/items). */
  async catchUp(): Promise<void> {
    for (;;) {
      const path = `/api/v1/lines/${encodeURIComponent(this.summary.name)}/items?after=${this.cursor}&limit=${PAGE}`;
      const page = await this.ctx.call<ItemsPage>('GET', path);
      if (page.items.length === 0) return;
      await this.ingest(page.items);
      if (page.items.length < PAGE) return;
    }
  }

  /**
   * Refresh this device's keys if the rule says so (after so many messages, or a day): catch up,
   * offer the update to the hub, and if another commit got there first, catch up and offer once
   * more. Returns whether the keys were refreshed.
   */
  async refreshKeysIfDue(): Promise<boolean> {
    if (!this.selfUpdateDue || this.ctx.now() < this.refreshPausedUntil) return false;
    try {
      await this.catchUp();
      if (!this.selfUpdateDue) return false;
      const r = await offerSelfUpdateWithRetry({
        offer: () => this.updateOwnKeys(),
        epoch: () => this.epoch,
        catchUp: () => this.catchUp(),
      });
      if (!r.ok) throw new ParleyError('WRONG_EPOCH', 'the hub ordered other changes of the group first, twice');
      return true;
    } catch (e) {
      // Sending goes on with the current keys; not every send tries again.
      this.refreshPausedUntil = this.ctx.now() + REFRESH_RETRY_MS;
      throw e;
    }
  }

  /**
   * The ciphertext of a queued message, made with the group's current epoch. The new group state
   * and the plaintext are stored before the ciphertext is returned (so before it can leave the
   * device): a crash never reuses a ratchet generation, and our copy of the text is kept for when
   * the item comes back. A retry in the same epoch returns the same bytes.
   */
  async seal(p: {
    clientId: string;
    text: string;
    lang?: string;
    /** The encrypted part of a call action (topics, a reason) rather than a message. */
    call?: boolean;
    /** A call's WebRTC signal (`text` is then unused). */
    signal?: unknown;
  }): Promise<{ payload: string } | { membership: Exclude<Membership, 'member'> }> {
    return this.run(async (s) => {
      const group = s.group;
      if (!group) return { membership: 'waiting' as const };
      if (!group.active) return { membership: 'removed' as const };
      const had = s.meta.sealed[p.clientId];
      // A retry of the same text in the same epoch: the same bytes. Another text is sealed anew.
      if (had && had.epoch === group.epoch && s.meta.sent[p.clientId]?.text === p.text) return { payload: had.payload };
      const content =
        p.signal !== undefined ? encodeSignalContent(p.signal) : p.call ? encodeCallContent(p.text) : encodeContent(p.text, p.lang);
      // A call signal says so in the clear header (SIGNAL_AAD), so unread counts can leave it out.
      const out = await encrypt(group, content, p.signal !== undefined ? { authenticatedData: SIGNAL_AAD } : {});
      const payload = toBase64url(out.message);
      s.group = out.state;
      const copy: SentCopy = { text: p.text, at: this.ctx.now() };
      if (p.lang) copy.lang = p.lang;
      if (p.signal !== undefined) copy.signal = p.signal;
      s.meta.sent[p.clientId] = copy;
      s.meta.sealed[p.clientId] = { epoch: group.epoch, payload };
      s.meta.sendsSinceUpdate++;
      await this.save(s, true);
      return { payload };
    });
  }

  /**
   * A read receipt (receipts.ts), encrypted with the group's current epoch and tagged RECEIPT_AAD
   * in the clear header. Its own item comes back as a receipt record. Never queued: a lost one is
   * simply sent again, newer, when the officer reads on.
   */
  async sealReceipt(clientId: string, upTo: ReadUpTo): Promise<{ payload: string } | { membership: Exclude<Membership, 'member'> }> {
    return this.run(async (s) => {
      const group = s.group;
      if (!group) return { membership: 'waiting' as const };
      if (!group.active) return { membership: 'removed' as const };
      const out = await encrypt(group, encodeReceiptContent(upTo), { authenticatedData: RECEIPT_AAD });
      s.group = out.state;
      s.meta.sent[clientId] = { text: '', at: this.ctx.now(), receipt: upTo };
      s.meta.sendsSinceUpdate++;
      await this.save(s, true);
      return { payload: toBase64url(out.message) };
    });
  }

  /** The officer gave up on a queued message: forget its copies. */
  async forget(clientId: string): Promise<void> {
    await this.run(async (s) => {
      if (!s.meta.sent[clientId] && !s.meta.sealed[clientId]) return;
      delete s.meta.sent[clientId];
      delete s.meta.sealed[clientId];
      await this.save(s, false);
    });
  }

  /** This device's own view of the group: who is in it, at which epoch. */
  async deviceRoster(): Promise<{ epoch: number; devices: RosterDevice[] } | null> {
    return this.run(async (s) => (s.group?.active ? { epoch: s.group.epoch, devices: roster(s.group).map(rosterDevice) } : null));
  }

  /**
   * Fill the records of messages and translations sent before this device joined from our
   * station's recorder archive (plaintext it decrypted as a member of the group). A translation is
   * filled only from the archived translation of the same original. Returns the records it changed.
   */
  async loadHistory(fetchPage: (after: number) => Promise<HistoryResponse>): Promise<LineRecord[]> {
    const waiting = (await this.records()).filter(awaitsArchive).sort((a, b) => a.pos - b.pos);
    if (waiting.length === 0) return [];
    const want = new Map(waiting.map((r) => [r.pos, r]));
    const last = waiting[waiting.length - 1]?.pos ?? 0;
    const found: LineRecord[] = [];
    let after = (waiting[0]?.pos ?? 1) - 1;
    for (let page = 0; page < 100 && after < last; page++) {
      const res = await fetchPage(after);
      if (res.entries.length === 0) break;
      for (const e of res.entries) {
        const r = want.get(e.pos);
        if (!r) continue;
        const body = r.body.t === 'translation' ? archivedTranslation(r.body, e) : archivedMessage(e);
        if (body) found.push({ ...r, body });
      }
      after = res.nextCursor > after ? res.nextCursor : last;
    }
    if (found.length === 0) return [];
    // Under the lock, so that a record another tab changed meanwhile is not overwritten.
    return this.run(async () => {
      const now = new Map((await this.records()).map((r) => [r.pos, r]));
      const keep = found.filter((r) => {
        const cur = now.get(r.pos);
        return cur !== undefined && awaitsArchive(cur);
      });
      await this.ctx.vault.write(keep.map((r) => [recKey(this.summary.id, r.pos), r] as const));
      return keep;
    });
  }

  /** The roster keys the officer last saw in the panel (null: never opened). */
  async rosterSeen(): Promise<string[] | null> {
    return (await this.ctx.vault.get<string[]>(seenKey(this.summary.id))) ?? null;
  }

  async markRosterSeen(keys: readonly string[]): Promise<void> {
    await this.ctx.vault.write([[seenKey(this.summary.id), [...keys]]]);
  }
}

/** A record this device cannot read because it was sent before it joined: the archive may have it. */
export function awaitsArchive(r: LineRecord): boolean {
  return r.body.t === 'before-join' || (r.body.t === 'translation' && !r.body.secret.ok && r.body.secret.code === BEFORE_JOIN);
}

/** A message's record from its archive entry (undefined: nothing to show, e.g. a malformed receipt). */
function archivedMessage(e: HistoryEntry): RecordBody | undefined {
  const bytes = e.text === null ? undefined : fromBase64url(e.text);
  if (!bytes) return { t: 'archived', text: null, from: e.sender, error: e.error ?? 'the recorder could not read this message' };
  if (isReceiptContent(bytes)) {
    const upTo = decodeReceiptContent(bytes);
    return upTo ? { t: 'receipt', upTo, from: e.sender, own: false } : undefined;
  }
  const c = decodeContent(bytes);
  return c.ok
    ? { t: 'archived', text: c.text, from: e.sender, error: null, ...(c.lang ? { lang: c.lang } : {}) }
    : { t: 'archived', text: null, from: e.sender, error: `${c.code}: ${c.reason}` };
}

/** A translation's record with its text from the archive, if the entry is the same translation. */
function archivedTranslation(body: Extract<RecordBody, { t: 'translation' }>, e: HistoryEntry): RecordBody | undefined {
  const t = e.translation;
  if (!t || t.of.side !== body.of.side || t.of.seq !== body.of.seq) return undefined;
  const bytes = e.text === null ? undefined : fromBase64url(e.text);
  const c = bytes ? decodeContent(bytes) : null;
  const secret: CallSecret = c?.ok
    ? { ok: true, text: c.text, from: e.sender, own: false, archived: true }
    : {
        ok: false,
        code: 'ARCHIVE_UNREADABLE',
        message: `your station’s recorder could not read it either: ${c && !c.ok ? `${c.code}: ${c.reason}` : (e.error ?? 'no text')}`,
      };
  return { ...body, secret };
}

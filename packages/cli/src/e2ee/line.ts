// One line, from this device's point of view: sync the timeline through the MLS group (join from
// a Welcome, process the hub's commits, decrypt application messages), encrypt and send, and
// refresh this device's keys (post-compromise security).
//
// Every function here runs with the profile lock held (see files.ts), so one process at a time
// owns the device's states.
import { createHash, randomBytes } from 'node:crypto';
import {
  E2eeError,
  encrypt,
  type GroupState,
  isSelfUpdateDue,
  joinFromWelcome,
  type LinePolicy,
  type LineSeats,
  linePolicyFrom,
  offerSelfUpdateWithRetry,
  peekMessage,
  processMessage,
  type RosterEntry,
  rememberSeats,
  roster,
  SELF_UPDATE_SCHEDULE,
  type SelfUpdateOutcome,
  type SelfUpdateSchedule,
  updateOwnKeys,
} from '@parley/e2ee';
import { checkLineEvent, describeCallEvent } from '@parley/calls';
import { decodeLineEvent, type Item, ParleyError, type SendResponse, stationFingerprint } from '@parley/protocol';
import { decodeContent, encodeContent } from './content.js';
import { b64, type DeviceContext, dropKeyPackages, topUpKeyPackages, unb64 } from './device.js';
import type { E2eeLine, StationRoster } from './station-api.js';
import type {
  Deferred,
  EventRecord,
  LineMeta,
  LineState,
  MessageRecord,
  RosterDevice,
  SeatRef,
  SentRecord,
  TimelineRecord,
} from './store.js';

/**
 * Keys of this many past epochs are kept for application messages that arrive after a commit
 * (a message in flight from the other station while the hub orders a roster change). More is
 * kinder to slow links; fewer is better forward secrecy.
 */
export const PAST_EPOCHS = 8;
/** When to self-update (the shared rule); PARLEY_SELF_UPDATE_EVERY changes the count, for tests. */
export const SELF_UPDATE: SelfUpdateSchedule = {
  ...SELF_UPDATE_SCHEDULE,
  every: Number(process.env.PARLEY_SELF_UPDATE_EVERY) || SELF_UPDATE_SCHEDULE.every,
};
const PAGE = 500;
const MAX_DEFERRED = 500;
const MAX_OWN_COMMITS = 32;
/** A self-update whose outcome is unknown for this long is given up (the hub never ordered it). */
const PENDING_STALE_MS = 10 * 60_000;

export interface LineSession {
  ctx: DeviceContext;
  line: E2eeLine;
  state: LineState;
  policy: LinePolicy;
}

const compact = (fp: string) => fp.replace(/\s+/g, '').toLowerCase();
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function errorText(e: unknown): string {
  if (e instanceof E2eeError) return `${e.code}: ${e.message}`;
  if (e instanceof ParleyError) return `${e.code}: ${e.message}`;
  return `INTERNAL: ${(e as Error)?.message ?? String(e)}`;
}

function device(r: RosterEntry): RosterDevice {
  return {
    leafIndex: r.leafIndex,
    station: r.station,
    handle: r.handle,
    deviceId: r.deviceId,
    signatureKeyFingerprint: r.signatureKeyFingerprint,
    issuedAt: r.issuedAt,
  };
}

export function describeDevice(d: { handle: string; station: string; deviceId: string }): string {
  return `${d.handle}@${d.station} (device ${d.deviceId.slice(0, 8)})`;
}

/** The line's two stations and their seats, as the policy needs them. */
function lineSeats(line: E2eeLine): LineSeats {
  return {
    ours: { station: line.station.name, publicKey: unb64(line.station.publicKey), seats: line.seats },
    peer: { station: line.peer.name, publicKey: unb64(line.peer.publicKey), seats: line.peerSeats },
  };
}

/** The MLS policy of a line: both stations' keys, every seat ever seen on it, and both recorders. */
export function linePolicy(line: E2eeLine, knownSeats: readonly SeatRef[]): LinePolicy {
  return linePolicyFrom({ ...lineSeats(line), formerSeats: knownSeats });
}

function freshMeta(line: E2eeLine): LineMeta {
  return {
    version: 1,
    line: line.name,
    lineId: line.id,
    cursor: 0,
    joinedPos: null,
    joinedEpoch: null,
    removedAt: null,
    lastUpdateAt: null,
    sendsSinceUpdate: 0,
    ownCommits: [],
    pending: null,
    peerStation: line.peer.name,
    peerKey: line.peer.publicKey,
    knownSeats: [],
    deferred: [],
  };
}

/** Fetch the line, check both station keys against what this device pinned, and load its state. */
export async function openLine(ctx: DeviceContext, name: string): Promise<LineSession> {
  const line = await ctx.api.line(name);
  if (!line.station || !line.peer?.publicKey) {
    throw new ParleyError('E2EE_REFUSED', 'the station does not offer end-to-end encryption on this line yet', 'upgrade the station');
  }
  if (line.station.name !== ctx.e2ee.stationName || line.station.publicKey !== ctx.e2ee.stationPublicKey) {
    throw new ParleyError(
      'E2EE_REFUSED',
      `the line names station ${line.station.name} with a key other than the one this device pinned at login`,
      'someone may be impersonating your station; ask your administrator',
    );
  }
  const peerKey = unb64(line.peer.publicKey);
  if (peerKey.length !== 32 || compact(stationFingerprint(peerKey)) !== compact(line.peer.fingerprint)) {
    throw new ParleyError('E2EE_REFUSED', `the key given for station ${line.peer.name} does not match its pinned fingerprint`);
  }
  let state = ctx.store.loadLine(name);
  if (state && state.meta.lineId !== line.id) {
    ctx.store.retireLine(name); // the line was recreated under the same name
    state = undefined;
  }
  state ??= { meta: freshMeta(line), group: null, pendingState: null };
  if (state.meta.peerStation !== line.peer.name || state.meta.peerKey !== line.peer.publicKey) {
    throw new ParleyError(
      'E2EE_REFUSED',
      `station ${line.peer.name}'s key is not the one this device saw on this line before`,
      'compare the safety number with the other side before trusting this line again',
    );
  }
  state.meta.knownSeats = rememberSeats(state.meta.knownSeats, lineSeats(line));
  return { ctx, line, state, policy: linePolicy(line, state.meta.knownSeats) };
}

// ---------------------------------------------------------------------------------------------
// Sync

interface Batch {
  records: TimelineRecord[];
  usedKeyPackages: string[];
  sent: Map<string, SentRecord>;
}

function envelopeSender(item: Pick<Item, 'sender'>): MessageRecord['sender'] {
  return { station: item.sender.station, handle: item.sender.handle, deviceId: null };
}

function isOurs(s: LineSession, sender: SeatRef): boolean {
  return sender.station === s.ctx.owner.stationName && sender.handle === s.ctx.owner.handle;
}

function ownRecord(
  d: { pos: number; sentAt: number; clientId: string | null; epoch?: number },
  s: LineSession,
  sent: SentRecord | undefined,
) {
  const r: MessageRecord = {
    t: 'msg',
    pos: d.pos,
    sentAt: d.sentAt,
    sender: { station: s.ctx.owner.stationName, handle: s.ctx.owner.handle, deviceId: s.ctx.owner.deviceId },
    text: sent?.text ?? null,
    verified: true,
    error: sent ? null : 'OWN_MESSAGE: sent by this device, but its text was not kept',
    status: 'own',
    clientId: d.clientId,
  };
  if (sent?.lang) r.lang = sent.lang;
  if (sent?.hidden) r.hidden = sent.hidden;
  if (d.epoch !== undefined) r.epoch = d.epoch;
  return r;
}

function event(
  pos: number,
  sentAt: number,
  kind: EventRecord['event'],
  epoch: number | null,
  text: string,
  extra: Partial<EventRecord> = {},
) {
  return { t: 'event', pos, sentAt, event: kind, epoch, text, ...extra } as EventRecord;
}

/** Decrypt one application message with the current group state (which must be active). */
async function decryptInto(s: LineSession, d: Deferred, bytes: Uint8Array, b: Batch): Promise<void> {
  const group = s.state.group as GroupState;
  try {
    const r = await processMessage(group, bytes, s.policy);
    if (r.kind !== 'application') throw new E2eeError('UNEXPECTED_MESSAGE', 'a commit inside an application message');
    s.state.group = r.state;
    const c = decodeContent(r.plaintext);
    const claimed = d.sender;
    const same = r.sender.station === claimed.station && r.sender.handle === claimed.handle;
    const rec: MessageRecord = {
      t: 'msg',
      pos: d.pos,
      sentAt: d.sentAt,
      sender: { station: r.sender.station, handle: r.sender.handle, deviceId: r.sender.deviceId },
      text: c.text,
      verified: same && c.error === null,
      error: same
        ? c.error
        : `SENDER_MISMATCH: the station says ${claimed.handle}@${claimed.station} sent this, but it is signed by ${describeDevice(r.sender)}`,
      status: same ? 'ok' : 'mismatch',
      clientId: d.clientId,
      epoch: r.epoch,
    };
    if (c.lang) rec.lang = c.lang;
    if (c.hidden) rec.hidden = c.hidden;
    if (c.voice) rec.voice = c.voice;
    b.records.push(tagged(rec, d));
  } catch (e) {
    if (e instanceof E2eeError && e.code === 'OWN_MESSAGE') {
      b.records.push(tagged(ownRecord({ ...d }, s, d.clientId ? b.sent.get(d.clientId) : undefined), d));
      return;
    }
    b.records.push(
      tagged(
        {
          t: 'msg',
          pos: d.pos,
          sentAt: d.sentAt,
          sender: { ...d.sender, deviceId: null },
          text: null,
          verified: false,
          error: errorText(e),
          status: 'failed',
          clientId: d.clientId,
          epoch: d.epoch,
        },
        d,
      ),
    );
  }
}

/** Carry a message's line-wide id, and what it translates, from its envelope to its record. */
function tagged(rec: MessageRecord, d: Pick<Deferred, 'ref' | 'of' | 'ofLang'>): MessageRecord {
  if (d.ref) rec.ref = d.ref;
  if (d.of) {
    rec.translationOf = d.of;
    if (d.ofLang) rec.lang = d.ofLang;
  }
  return rec;
}

function placeholder(d: Deferred, status: 'before-join' | 'pending'): MessageRecord {
  return tagged(
    {
      t: 'msg',
      pos: d.pos,
      sentAt: d.sentAt,
      sender: { ...d.sender, deviceId: null },
      text: null,
      verified: false,
      error: null,
      status,
      clientId: d.clientId,
      epoch: d.epoch,
    },
    d,
  );
}

function defer(s: LineSession, d: Deferred, b: Batch): void {
  const list = s.state.meta.deferred;
  list.push(d);
  while (list.length > MAX_DEFERRED) {
    const dropped = list.shift() as Deferred;
    if (s.state.group) {
      b.records.push({
        ...placeholder(dropped, 'pending'),
        status: 'failed',
        error: 'WRONG_EPOCH: the change of keys this message was sent after never arrived',
      });
    }
  }
}

/** After the group moved on (joined, or processed a commit), decrypt what was waiting for it. */
async function retryDeferred(s: LineSession, b: Batch): Promise<void> {
  const group = s.state.group;
  if (!group?.active || s.state.meta.deferred.length === 0) return;
  const keep: Deferred[] = [];
  for (const d of s.state.meta.deferred) {
    if (d.epoch > group.epoch) keep.push(d);
    else if (s.state.meta.joinedEpoch !== null && d.epoch < s.state.meta.joinedEpoch) {
      // sent before this device joined: its placeholder says so already
    } else await decryptInto(s, d, unb64(d.payload), b);
  }
  s.state.meta.deferred = keep;
}

async function handleWelcome(s: LineSession, item: Item, b: Batch): Promise<void> {
  if (s.state.group?.active) return; // a Welcome for some other device
  const secrets = s.ctx.e2ee.keyPackages;
  if (secrets.length === 0) return;
  let joined: Awaited<ReturnType<typeof joinFromWelcome>>;
  try {
    joined = await joinFromWelcome(
      s.ctx.device,
      unb64(item.payload),
      secrets.map((k) => unb64(k.secrets)),
      s.policy,
      { expectedGroupId: s.line.id, pastEpochs: PAST_EPOCHS },
    );
  } catch (e) {
    if (e instanceof E2eeError && (e.code === 'NO_MATCHING_KEY_PACKAGE' || e.code === 'WRONG_CIPHERSUITE')) return; // not ours
    b.records.push(
      event(item.pos, item.sentAt, 'error', null, `a Welcome for this device was refused: ${errorText(e)}`, { error: errorText(e) }),
    );
    return;
  }
  const used = secrets.find((k) => k.ref === joined.keyPackageRef);
  const meta = s.state.meta;
  s.state.group = joined.state;
  s.state.pendingState = null;
  Object.assign(meta, {
    joinedPos: item.pos,
    joinedEpoch: joined.state.epoch,
    removedAt: null,
    pending: null,
    ownCommits: [],
    sendsSinceUpdate: 0,
    lastUpdateAt: used?.createdAt ?? s.ctx.now(),
  } satisfies Partial<LineMeta>);
  b.usedKeyPackages.push(joined.keyPackageRef);
  b.records.push(
    event(
      item.pos,
      item.sentAt,
      'joined',
      joined.state.epoch,
      `this device joined the line's encrypted group (epoch ${joined.state.epoch}, ${joined.roster.length} devices)`,
      { added: joined.roster.map(device) },
    ),
  );
  await retryDeferred(s, b);
}

async function handleCommit(s: LineSession, item: Item, bytes: Uint8Array, epoch: number, b: Batch): Promise<void> {
  const meta = s.state.meta;
  const group = s.state.group;
  if (!group?.active) return; // before this device joined, or after it was removed
  if (meta.joinedEpoch !== null && epoch < meta.joinedEpoch) return; // the commit that added us, or older
  const hash = sha256(bytes);
  if (meta.ownCommits.includes(hash)) {
    b.records.push(event(item.pos, item.sentAt, 'keys', epoch + 1, `this device refreshed its keys (epoch ${epoch + 1})`));
    return;
  }
  try {
    const r = await processMessage(group, bytes, s.policy);
    if (r.kind !== 'commit') throw new E2eeError('UNEXPECTED_MESSAGE', 'an application message in a PublicMessage');
    s.state.group = r.state;
    if (meta.pending) {
      // Another commit won this epoch: our own self-update can never apply.
      meta.pending = null;
      s.state.pendingState = null;
    }
    const by = describeDevice(r.committer);
    if (r.removedSelf) {
      meta.removedAt = item.pos;
      meta.deferred = [];
      b.records.push(
        event(item.pos, item.sentAt, 'removed', r.epoch, `this device was removed from the line by ${by}`, {
          removed: r.removed.map(device),
        }),
      );
      return;
    }
    if (r.added.length === 0 && r.removed.length === 0) {
      b.records.push(event(item.pos, item.sentAt, 'keys', r.epoch, `${by} refreshed its keys (epoch ${r.epoch})`));
    } else {
      const parts = [];
      if (r.added.length) parts.push(`added ${r.added.map(describeDevice).join(', ')}`);
      if (r.removed.length) parts.push(`removed ${r.removed.map(describeDevice).join(', ')}`);
      b.records.push(
        event(item.pos, item.sentAt, 'roster', r.epoch, `${by} ${parts.join('; ')} (epoch ${r.epoch})`, {
          added: r.added.map(device),
          removed: r.removed.map(device),
        }),
      );
    }
    await retryDeferred(s, b);
  } catch (e) {
    if (e instanceof E2eeError && e.code === 'OWN_MESSAGE' && meta.pending?.hash === hash && s.state.pendingState) {
      adoptPending(s);
      b.records.push(
        event(
          item.pos,
          item.sentAt,
          'keys',
          s.state.group?.epoch ?? null,
          `this device refreshed its keys (epoch ${s.state.group?.epoch})`,
        ),
      );
      await retryDeferred(s, b);
      return;
    }
    const why =
      e instanceof E2eeError && e.code === 'OWN_MESSAGE'
        ? 'OWN_MESSAGE: the hub ordered a key update of this device whose new keys this device no longer has; log in again to get a new device'
        : errorText(e);
    b.records.push(event(item.pos, item.sentAt, 'error', epoch, `a roster change could not be applied: ${why}`, { error: why }));
  }
}

function adoptPending(s: LineSession): void {
  const meta = s.state.meta;
  if (!meta.pending || !s.state.pendingState) return;
  s.state.group = s.state.pendingState;
  s.state.pendingState = null;
  meta.ownCommits = [...meta.ownCommits, meta.pending.hash].slice(-MAX_OWN_COMMITS);
  meta.pending = null;
  meta.lastUpdateAt = s.ctx.now();
  meta.sendsSinceUpdate = 0;
}

/**
 * A call event the hub ordered: shown as an event; its encrypted body (topics, a reason) is then
 * read like any message from the member who acted, at the same place in the timeline.
 */
async function handleCallItem(s: LineSession, item: Item, b: Batch): Promise<void> {
  const env = decodeLineEvent(item.payload);
  const checked = checkLineEvent(env?.event);
  if (!checked.ok) {
    b.records.push(event(item.pos, item.sentAt, 'error', null, `a call event that cannot be read: ${checked.error.message}`));
    return;
  }
  const ev = checked.value;
  // The hub's stream carries it; 'inviter' is the hub's side.
  const hub = item.sender.station;
  const other = hub === s.line.station.name ? s.line.peer.name : s.line.station.name;
  const station = ev.by.side === 'inviter' ? hub : other;
  b.records.push(
    event(item.pos, item.sentAt, 'call', null, describeCallEvent(ev, station, ev.by.side === 'inviter' ? other : hub), { call: ev }),
  );
  if (typeof env?.body === 'string' && 'handle' in ev.by) {
    await handleItem(s, { ...item, kind: 'mls', payload: env.body, sender: { handle: ev.by.handle, station } }, b);
  }
}

/** A message's id on the line, the same at both stations: the side whose stream carries it, and its seq. */
export function messageRef(s: LineSession, item: Pick<Item, 'dir' | 'seq'>): string {
  const ours = s.line.side ?? 'inviter';
  const side = item.dir === 'out' ? ours : ours === 'inviter' ? 'acceptor' : 'inviter';
  return `${side}:${item.seq}`;
}

/** An interpreter's translation: read like a message from them, marked with what it renders. */
async function handleTranslationItem(s: LineSession, item: Item, b: Batch): Promise<void> {
  const env = decodeLineEvent(item.payload) as { of?: { side?: string; seq?: number }; lang?: string; body?: string } | undefined;
  if (!env?.of || typeof env.body !== 'string' || typeof env.lang !== 'string') {
    b.records.push(event(item.pos, item.sentAt, 'error', null, 'a translation that cannot be read'));
    return;
  }
  const tagged = { ...item, kind: 'mls' as const, payload: env.body, of: `${env.of.side}:${env.of.seq}`, ofLang: env.lang };
  await handleItem(s, tagged, b);
}

async function handleItem(s: LineSession, item: Item & { of?: string; ofLang?: string; ref?: string }, b: Batch): Promise<void> {
  if (item.kind === 'mls' && !item.ref) item = { ...item, ref: messageRef(s, item) };
  const kind = item.kind as string;
  if (kind === 'welcome') return handleWelcome(s, item, b);
  if (kind === 'call') return handleCallItem(s, item, b);
  if (kind === 'record') return; // the joint record's bookkeeping: see `parley record`
  if (kind === 'translation') return handleTranslationItem(s, item, b);
  if (kind !== 'mls') {
    b.records.push({
      t: 'msg',
      pos: item.pos,
      sentAt: item.sentAt,
      sender: envelopeSender(item),
      text: kind === 'message' ? Buffer.from(item.payload, 'base64url').toString('utf8') : null,
      verified: false,
      error: kind === 'message' ? 'UNENCRYPTED: sent without end-to-end encryption' : `UNSUPPORTED: item kind ${kind}`,
      status: kind === 'message' ? 'unencrypted' : 'failed',
      clientId: item.clientId,
    });
    return;
  }
  const bytes = unb64(item.payload);
  let info: ReturnType<typeof peekMessage>;
  try {
    info = peekMessage(bytes);
  } catch (e) {
    b.records.push({ ...placeholder(deferredOf(item, 0), 'pending'), status: 'failed', error: errorText(e) });
    return;
  }
  if (info.kind === 'handshake') {
    if (!info.public || info.contentType !== 'commit') {
      if (s.state.group?.active) {
        b.records.push(event(item.pos, item.sentAt, 'error', info.epoch, 'UNSUPPORTED_MESSAGE: a handshake message Parley does not use'));
      }
      return;
    }
    return handleCommit(s, item, bytes, info.epoch, b);
  }
  if (info.kind !== 'application') {
    b.records.push({
      ...placeholder(deferredOf(item, 0), 'pending'),
      status: 'failed',
      error: `UNEXPECTED_MESSAGE: an MLS ${info.kind} as a line item`,
    });
    return;
  }
  const d = deferredOf(item, info.epoch);
  const sent = item.clientId ? b.sent.get(item.clientId) : undefined;
  if (sent && isOurs(s, item.sender)) {
    b.records.push(tagged(ownRecord({ ...d }, s, sent), d));
    return;
  }
  const meta = s.state.meta;
  const group = s.state.group;
  if (!group) {
    b.records.push(placeholder(d, 'before-join'));
    defer(s, d, b); // decryptable if the Welcome that adds us comes later in the timeline
    return;
  }
  if (!group.active) {
    b.records.push({
      ...placeholder(d, 'pending'),
      status: 'failed',
      error: `NOT_A_MEMBER: this device was removed from the line${meta.removedAt !== null ? ` at #${meta.removedAt}` : ''}`,
    });
    return;
  }
  if (meta.joinedEpoch !== null && info.epoch < meta.joinedEpoch) {
    b.records.push(placeholder(d, 'before-join'));
    return;
  }
  if (info.epoch > group.epoch) {
    b.records.push(placeholder(d, 'pending'));
    defer(s, d, b); // sent after a commit that has not reached us yet
    return;
  }
  await decryptInto(s, d, bytes, b);
}

function deferredOf(item: Item & { of?: string; ofLang?: string; ref?: string }, epoch: number): Deferred {
  return {
    ...(item.ref ? { ref: item.ref } : {}),
    ...(item.of ? { of: item.of, ofLang: item.ofLang } : {}),
    pos: item.pos,
    epoch,
    sentAt: item.sentAt,
    sender: { station: item.sender.station, handle: item.sender.handle },
    clientId: item.clientId,
    payload: item.payload,
  };
}

/**
 * Process every timeline item after the cursor, in order, exactly once. Records go to the cache
 * before the state that produced them is saved (one save per page).
 */
export async function syncLine(s: LineSession): Promise<TimelineRecord[]> {
  const { store } = s.ctx;
  const name = s.state.meta.line;
  const all: TimelineRecord[] = [];
  const { sent } = store.readCache(name);
  let used = false;
  for (;;) {
    const page = await s.ctx.api.items(name, s.state.meta.cursor, PAGE);
    const b: Batch = { records: [], usedKeyPackages: [], sent };
    for (const item of page.items) {
      if (item.pos <= s.state.meta.cursor) continue;
      await handleItem(s, item, b);
      s.state.meta.cursor = item.pos;
    }
    store.appendRecords(name, b.records);
    store.saveLine(s.state);
    if (b.usedKeyPackages.length > 0) {
      dropKeyPackages(s.ctx, b.usedKeyPackages);
      used = true;
    }
    all.push(...b.records);
    if (page.items.length < PAGE) break;
  }
  if (used) await topUpKeyPackages(s.ctx, { force: true });
  return all;
}

// ---------------------------------------------------------------------------------------------
// Sending

export function requireMember(s: LineSession): GroupState {
  const group = s.state.group;
  if (!group) {
    throw new ParleyError(
      'UNAVAILABLE',
      `this device is not in line ${s.line.name}'s encrypted group yet: waiting for the hub to add this device`,
      'try again in a few seconds',
    );
  }
  if (!group.active) {
    throw new ParleyError(
      'FORBIDDEN',
      `this device was removed from line ${s.line.name}'s encrypted group`,
      'ask your administrator about your seat',
    );
  }
  return group;
}

export function selfUpdateDue(s: LineSession): boolean {
  const m = s.state.meta;
  return isSelfUpdateDue(
    { sendsSinceUpdate: m.sendsSinceUpdate, lastUpdateAt: m.lastUpdateAt, pending: m.pending !== null },
    s.ctx.now(),
    SELF_UPDATE,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const retriable = e instanceof ParleyError && (e.code === 'PEER_UNREACHABLE' || e.code === 'UNAVAILABLE');
      if (!retriable || attempt >= 4) throw e;
      await sleep(200 * 2 ** attempt);
    }
  }
}

/**
 * Encrypt and send one message. The state after encryption is saved before the ciphertext leaves
 * the device (a crash never reuses a ratchet generation), and the plaintext is kept under the
 * client id, since MLS cannot decrypt one's own messages.
 */
/**
 * An encrypted body that travels inside another item (a call action's topics or reason, a
 * translation): an MLS application message the station passes on. Kept like a sent message, so
 * this device shows it too.
 */
export async function sealBody(s: LineSession, content: Uint8Array, text: string, clientId: string, lang?: string): Promise<string> {
  const group = requireMember(s);
  const out = await encrypt(group, content);
  const record: SentRecord = { t: 'sent', clientId, text, at: s.ctx.now() };
  if (lang) record.lang = lang;
  s.ctx.store.appendRecords(s.state.meta.line, [record]);
  s.state.group = out.state;
  s.state.meta.sendsSinceUpdate++;
  s.ctx.store.saveLine(s.state);
  return b64(out.message);
}

export function sealCallBody(s: LineSession, text: string, clientId: string): Promise<string> {
  return sealBody(s, new TextEncoder().encode(JSON.stringify({ type: 'call', text })), text, clientId);
}

/** A translation's text, in the same content format as a message. */
export function sealTranslation(s: LineSession, text: string, lang: string, clientId: string): Promise<string> {
  return sealBody(s, encodeContent(text, lang), text, clientId, lang);
}

export async function sendText(s: LineSession, text: string, lang?: string): Promise<SendResponse> {
  const group = requireMember(s);
  const clientId = randomBytes(12).toString('base64url');
  const out = await encrypt(group, encodeContent(text, lang));
  const record: SentRecord = { t: 'sent', clientId, text, at: s.ctx.now() };
  if (lang) record.lang = lang;
  s.ctx.store.appendRecords(s.state.meta.line, [record]);
  s.state.group = out.state;
  s.state.meta.sendsSinceUpdate++;
  s.ctx.store.saveLine(s.state);
  const payload = b64(out.message);
  // One client id for every attempt: a retried send is stored once.
  return retrying(() => s.ctx.api.send(s.state.meta.line, { kind: 'mls', payload, clientId }));
}

/** The clear tag of a read receipt's MLS header, the same as the web app's (packages/web/src/receipts.ts). */
const RECEIPT_AAD = new TextEncoder().encode('parley/receipt');

/**
 * The newest message of the other side this device has read (decrypted, not a translation), as
 * a receipt names it: the side whose stream carries it and its sequence number there.
 */
export function newestRead(
  records: readonly TimelineRecord[],
  ourSide: 'inviter' | 'acceptor',
): { side: 'inviter' | 'acceptor'; seq: number } | null {
  const peer = ourSide === 'inviter' ? 'acceptor' : 'inviter';
  let seq = 0;
  for (const r of records) {
    if (r.t !== 'msg' || r.hidden || r.translationOf || r.text === null || !r.ref?.startsWith(`${peer}:`)) continue;
    if (r.status !== 'ok' && r.status !== 'mismatch') continue;
    seq = Math.max(seq, Number(r.ref.slice(peer.length + 1)) || 0);
  }
  return seq > 0 ? { side: peer, seq } : null;
}

/**
 * Tell the line, end-to-end encrypted, that this member has read the other side's messages up
 * to the newest one this device decrypted (`parley read --mark-read`): the web app shows them as
 * read. Sent only when that is beyond the last receipt of this device. Returns what it said.
 */
export async function sendReceipt(s: LineSession, records: readonly TimelineRecord[]): Promise<{ side: string; seq: number } | null> {
  const upTo = newestRead(records, s.line.side ?? 'inviter');
  if (!upTo || upTo.seq <= (s.state.meta.receiptSeq ?? 0)) return null;
  const group = requireMember(s);
  const clientId = randomBytes(12).toString('base64url');
  const content = new TextEncoder().encode(JSON.stringify({ type: 'receipt', readUpTo: upTo }));
  const out = await encrypt(group, content, { authenticatedData: RECEIPT_AAD });
  s.ctx.store.appendRecords(s.state.meta.line, [{ t: 'sent', clientId, text: '', at: s.ctx.now(), hidden: 'receipt' }]);
  s.state.group = out.state;
  s.state.meta.sendsSinceUpdate++;
  s.state.meta.receiptSeq = upTo.seq;
  s.ctx.store.saveLine(s.state);
  const payload = b64(out.message);
  await retrying(() => s.ctx.api.send(s.state.meta.line, { kind: 'mls', payload, clientId }));
  return upTo;
}

/** Post-compromise security: fresh leaf and path keys for this device, ordered by the hub. */
export async function selfUpdate(s: LineSession): Promise<SelfUpdateOutcome> {
  const group = requireMember(s);
  const meta = s.state.meta;
  if (meta.pending) {
    if (s.ctx.now() - meta.pending.at < PENDING_STALE_MS) {
      throw new ParleyError(
        'UNAVAILABLE',
        'an earlier key update of this device has not come back from the hub yet',
        'run `parley read` in a few seconds, then try again',
      );
    }
    meta.pending = null;
    s.state.pendingState = null;
  }
  const out = await updateOwnKeys(group);
  meta.pending = { epoch: group.epoch, hash: sha256(out.commit), at: s.ctx.now() };
  s.state.pendingState = out.state;
  s.ctx.store.saveLine(s.state); // if we crash after the hub accepts, the timeline will hand it back
  try {
    await retrying(() => s.ctx.api.commit(s.state.meta.line, b64(out.commit)));
  } catch (e) {
    // A refusal means the hub did not order it; anything else (no answer, a gateway error)
    // leaves the outcome unknown, and the pending state stays until the timeline tells.
    if (e instanceof ParleyError && e.status >= 400 && e.status < 500) {
      meta.pending = null;
      s.state.pendingState = null;
      s.ctx.store.saveLine(s.state);
      if (e.code === 'WRONG_EPOCH') return { ok: false, reason: 'WRONG_EPOCH' };
    }
    throw e;
  }
  adoptPending(s);
  s.ctx.store.saveLine(s.state);
  return { ok: true, epoch: out.epoch };
}

/** A self-update, catching up and retrying once if another commit got there first. */
export async function selfUpdateWithRetry(s: LineSession): Promise<{ epoch: number }> {
  const r = await offerSelfUpdateWithRetry({
    offer: () => selfUpdate(s),
    epoch: () => s.state.group?.epoch ?? null,
    catchUp: async () => void (await syncLine(s)),
  });
  if (r.ok) return r;
  throw new ParleyError('WRONG_EPOCH', 'the hub ordered other changes first, twice', 'try again');
}

// ---------------------------------------------------------------------------------------------
// Roster

export interface RosterRow extends RosterDevice {
  inDevice: boolean;
  inStation: boolean;
  /** Same device, different position or issue time in the two views. */
  differs: boolean;
}

export interface RosterComparison {
  deviceEpoch: number | null;
  stationEpoch: number;
  matches: boolean;
  devices: RosterRow[];
}

export function compareRosters(group: GroupState | null, station: StationRoster): RosterComparison {
  const key = (d: RosterDevice) => `${d.station}\n${d.handle}\n${d.deviceId}\n${d.signatureKeyFingerprint}`;
  const rows = new Map<string, RosterRow>();
  const mine = group?.active ? roster(group).map(device) : [];
  for (const d of mine) rows.set(key(d), { ...d, inDevice: true, inStation: false, differs: false });
  for (const d of station.devices) {
    const k = key(d);
    const have = rows.get(k);
    if (have) {
      have.inStation = true;
      have.differs = have.leafIndex !== d.leafIndex || have.issuedAt !== d.issuedAt;
    } else rows.set(k, { ...d, inDevice: false, inStation: true, differs: false });
  }
  const devices = [...rows.values()].sort((a, b) => a.leafIndex - b.leafIndex);
  const deviceEpoch = group?.active ? group.epoch : null;
  return {
    deviceEpoch,
    stationEpoch: station.epoch,
    matches: deviceEpoch === station.epoch && devices.every((d) => d.inDevice && d.inStation && !d.differs),
    devices,
  };
}

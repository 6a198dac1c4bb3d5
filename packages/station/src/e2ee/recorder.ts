import {
  addMembers,
  attachBinding,
  createGroup,
  createKeyPackage,
  deserializeGroup,
  E2eeError,
  exportDevice,
  type GroupState,
  generateDevice,
  importDevice,
  joinFromWelcome,
  type LinePolicy,
  peekMessage,
  processMessage,
  removeMembers,
  roster,
  serializeGroup,
  signBinding,
  validateKeyPackage,
} from '@parley/e2ee';
import {
  decodeLineEvent,
  type FedKeyPackagesRequest,
  type FedKeyPackagesResponse,
  type MessageRef,
  ParleyError,
  parseWith,
  RECORDER_HANDLE,
  type Seat,
  TranslationItemPayload,
} from '@parley/protocol';
import type { Logger } from 'pino';
import type { DataDir } from '../config/data-dir.js';
import { derivedTransaction } from '../db/derived-writes.js';
import type { Db } from '../db/open.js';
import type { RecordersTable } from '../db/schema.js';
import type { Outbox } from '../lines/outbox.js';
import { lineById, type LineRow, num, readItems, replacePeerSeats, seatsOf } from '../lines/line-store.js';
import type { ArchiveKey } from './archive-key.js';
import { offerKeyPackages } from './devices.js';
import { groupIdOf, linePolicies } from './line-policy.js';
import { bytesOf, type StateRef } from './recorder-batch.js';
import type { RecorderDecryptor } from './recorder-decryptor.js';
import { noteSeats } from './seat-history.js';

/**
 * How long new items wait for company before the recorder reads them. Each step has a fixed
 * cost (the line, its policy, the archive write) that one item at a time pays in full; the
 * archive is history, so a tenth of a second behind the line costs no one anything.
 */
const RECORDER_GATHER_MS = 100;

/** Messages up to this many epochs late still decrypt: the other side's items cross the hub's commits in flight. */
export const PAST_EPOCHS = 8;
const RECONCILE_EVERY_MS = 3000;

export interface RecorderDeps {
  db: Db;
  data: DataDir;
  log: Logger;
  outbox: Outbox;
  archiveKey: ArchiveKey;
  /** The hub asks the other station, signed, for key packages of its devices not yet in the group. */
  askPeerForKeyPackages: (line: LineRow, body: FedKeyPackagesRequest) => Promise<FedKeyPackagesResponse>;
  /** Decrypts runs of messages, off the delivering thread when it can. */
  decryptor: RecorderDecryptor;
}

interface Pending {
  epoch: number;
  commit: string;
  welcome: string | null;
}

export function recorderDeviceId(lineId: string): string {
  return `recorder-${lineId}`.slice(0, 64);
}

const seal = (deps: RecorderDeps, lineId: string, what: string, bytes: Uint8Array) => deps.archiveKey.seal(bytes, `${lineId}/${what}`);
const unseal = (deps: RecorderDeps, lineId: string, what: string, bytes: Uint8Array) =>
  deps.archiveKey.open(new Uint8Array(bytes), `${lineId}/${what}`);

/**
 * The station's own, visible member of a line's MLS group. It keeps this side's archive
 * (sealed with the archive key), and on the inviting station it is the hub: it creates the
 * group, adds every device the two stations vouch for on seated members, removes the ones that
 * are gone, and orders commits (its own and members' self-updates) into the timeline.
 *
 * Its state lives in the `recorders` row, written with compare-and-swap on `version`, so a
 * second process of the same station can never fork the group: the loser re-reads and retries.
 */
export class LineRecorder {
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly lineId: string,
    private readonly deps: RecorderDeps,
  ) {}

  stop(): void {
    this.stopped = true;
    if (this.soon) clearTimeout(this.soon);
  }

  /** Run one step at a time per line in this process. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private ticking = false;
  private tickAgain = false;
  private soon: ReturnType<typeof setTimeout> | undefined;

  /**
   * New items on the timeline: the recorder is off the delivery path, so it gathers what a short
   * while brings into one step instead of running a step (several queries) per commit, which
   * would sit on the event loop in front of the next item's delivery.
   */
  kickSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.kick();
    }, RECORDER_GATHER_MS);
  }

  /** Coalescing trigger: commit notifications and the periodic scan both call this. */
  kick(): void {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    void (async () => {
      do {
        this.tickAgain = false;
        await this.tick().catch((err) => this.deps.log.error({ err, line: this.lineId }, 'recorder step failed'));
      } while (this.tickAgain && !this.stopped);
      this.ticking = false;
    })();
  }

  tick(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped) return;
      const line = await lineById(this.deps.db, this.lineId);
      if (!line) return;
      await this.ensure(line);
      await this.flushPending(line);
      const now = Date.now();
      if (now - this.lastSeatNote > RECONCILE_EVERY_MS) {
        // Building a policy notes the seats too; this catches seats that come and go between.
        this.lastSeatNote = now;
        await noteSeats(this.deps.db, line.id, now);
      }
      await this.consume(line);
      // Membership is compared (a signed request to the peer) every few seconds, or at once
      // when a device of ours published key packages.
      if (line.role === 'inviter' && (this.membershipDirty || now - this.lastReconcile > RECONCILE_EVERY_MS)) {
        this.membershipDirty = false;
        this.lastReconcile = now;
        await this.reconcile(line);
      }
    });
  }

  private membershipDirty = true;
  /** Cursor past items that needed nothing, not yet written (see consume). */
  private lazyCursor = 0;
  private lastCursorWrite = 0;
  private lastReconcile = 0;
  private lastSeatNote = 0;

  /** A device published key packages or a seat changed: compare membership on the next step. */
  membershipChanged(): void {
    this.membershipDirty = true;
    this.kick();
  }

  /** A member's self-update commit, offered to the hub for ordering. */
  acceptCommit(bytes: Uint8Array): Promise<number> {
    return this.serial(async () => {
      const line = await lineById(this.deps.db, this.lineId);
      if (line?.role !== 'inviter') throw new ParleyError('FORBIDDEN', 'only the inviting station orders commits on this line');
      await this.ensure(line);
      await this.flushPending(line);
      await this.consume(line);
      const rec = await this.load();
      if (!rec.group_state) throw new ParleyError('UNAVAILABLE', 'the line\u2019s group does not exist yet', 'try again shortly');
      const state = deserializeGroup(unseal(this.deps, this.lineId, 'group', rec.group_state));
      let info: ReturnType<typeof peekMessage>;
      try {
        info = peekMessage(bytes);
      } catch {
        throw new ParleyError('E2EE_REFUSED', 'this is not an MLS message');
      }
      if (info.kind !== 'handshake' || info.contentType !== 'commit')
        throw new ParleyError('E2EE_REFUSED', 'only commits are ordered here');
      if (info.epoch !== state.epoch) {
        throw new ParleyError(
          'WRONG_EPOCH',
          `the group is at epoch ${state.epoch}, the commit is for ${info.epoch}`,
          'catch up and commit again',
        );
      }
      // A new commit to order: its committer must hold a seat now (one unseated is about to go).
      const { current } = await linePolicies(this.deps.db, this.deps.data, line);
      let res: Awaited<ReturnType<typeof processMessage>>;
      try {
        res = await processMessage(state, bytes, current);
      } catch (e) {
        throw new ParleyError(
          e instanceof E2eeError && e.code === 'WRONG_EPOCH' ? 'WRONG_EPOCH' : 'E2EE_REFUSED',
          `commit refused: ${(e as Error).message}`,
        );
      }
      if (res.kind !== 'commit') throw new ParleyError('E2EE_REFUSED', 'only commits are ordered here');
      if (res.added.length > 0 || res.removed.length > 0) {
        // Membership is the hub's business, from the stations' vouched device lists.
        throw new ParleyError('E2EE_REFUSED', 'members may only refresh their own keys; roster changes come from the stations');
      }
      await this.adopt(rec, res.state, { epoch: res.epoch, commit: Buffer.from(bytes).toString('base64url'), welcome: null });
      await this.flushPending(line);
      return res.epoch;
    });
  }

  async rosterView(): Promise<{ epoch: number; devices: ReturnType<typeof roster> } | null> {
    const rec = await this.deps.db.selectFrom('recorders').selectAll().where('line_id', '=', this.lineId).executeTakeFirst();
    if (!rec?.group_state) return null;
    const state = deserializeGroup(unseal(this.deps, this.lineId, 'group', rec.group_state));
    return { epoch: state.epoch, devices: roster(state) };
  }

  /**
   * The row as last read or written by this process. Each step reads it a few times; the group
   * state in it is large, so only its version is asked for when we hold a copy: another
   * process's write moves the version (every write is compare-and-swap on it).
   */
  private known: RecordersTable | null = null;

  private async load(): Promise<RecordersTable> {
    const { db } = this.deps;
    if (this.known) {
      const v = await db.selectFrom('recorders').select('version').where('line_id', '=', this.lineId).executeTakeFirst();
      if (v && num(v.version) === num(this.known.version)) return this.known;
    }
    this.known = await db.selectFrom('recorders').selectAll().where('line_id', '=', this.lineId).executeTakeFirstOrThrow();
    return this.known;
  }

  /** Write with compare-and-swap; a lost race means another process moved first: re-read next tick. */
  private async save(rec: RecordersTable, changes: Partial<RecordersTable>, extra?: (trx: Db) => Promise<void>): Promise<boolean> {
    // Rebuilt from the timeline if a power cut takes it; what it leads to (a commit on the
    // outbox) is an ordinary commit, which makes this one durable first.
    return derivedTransaction(this.deps.db, async (trx) => {
      const res = await trx
        .updateTable('recorders')
        .set({ ...changes, version: num(rec.version) + 1 })
        .where('line_id', '=', this.lineId)
        .where('version', '=', rec.version)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      if (extra) await extra(trx as unknown as Db);
      return true;
    }).then(
      (ok) => {
        this.known = ok ? { ...rec, ...changes, version: num(rec.version) + 1 } : null;
        // A write that leaves the group as it was moves the version on, not the state.
        if (ok && !('group_state' in changes) && this.group?.version === num(rec.version)) this.group.version += 1;
        return ok;
      },
      (err: unknown) => {
        this.known = null;
        throw err;
      },
    );
  }

  /** The recorders row exists (it is never deleted while the line is). */
  private ensured = false;

  private async ensure(line: LineRow): Promise<void> {
    if (this.ensured) return;
    const { db, data } = this.deps;
    const existing = await db.selectFrom('recorders').select('line_id').where('line_id', '=', line.id).executeTakeFirst();
    if (existing) {
      this.ensured = true;
      return;
    }
    const deviceId = recorderDeviceId(line.id);
    let device = await generateDevice({ station: data.config.name, handle: RECORDER_HANDLE, deviceId });
    const binding = await signBinding(
      { station: data.config.name, handle: RECORDER_HANDLE, deviceId, signatureKey: device.signaturePublicKey, issuedAt: Date.now() },
      (bytes) => data.key.sign(bytes),
    );
    device = attachBinding(device, binding, data.key.publicKey);
    const row: RecordersTable = {
      line_id: line.id,
      device: seal(this.deps, line.id, 'device', exportDevice(device)),
      kp_secrets: null,
      group_state: null,
      epoch: 0,
      cursor_pos: 0,
      pending: null,
      version: 0,
    };
    if (line.role === 'inviter') {
      const state = await createGroup(device, {
        groupId: groupIdOf(line.id),
        policy: (await linePolicies(db, data, line)).current,
        pastEpochs: PAST_EPOCHS,
      });
      row.group_state = seal(this.deps, line.id, 'group', serializeGroup(state));
      row.epoch = state.epoch;
    } else {
      // The acceptor's recorder waits to be added by the hub, like any device.
      const kp = await createKeyPackage(device);
      row.kp_secrets = seal(this.deps, line.id, 'kp', kp.secrets);
      await db
        .insertInto('key_packages')
        .values({
          ref: kp.ref,
          device_id: deviceId,
          member_handle: RECORDER_HANDLE,
          key_package: kp.keyPackage,
          not_after: kp.notAfter,
          created_at: Date.now(),
          handed_out_at: null,
        })
        .execute();
    }
    await db
      .insertInto('recorders')
      .values(row)
      .onConflict((oc) => oc.column('line_id').doNothing())
      .execute();
    this.deps.log.info({ line: line.name, role: line.role }, 'line recorder created');
  }

  private async adopt(rec: RecordersTable, state: GroupState, pending: Pending): Promise<void> {
    const ok = await this.save(rec, {
      group_state: seal(this.deps, this.lineId, 'group', serializeGroup(state)),
      epoch: state.epoch,
      pending: seal(this.deps, this.lineId, 'pending', new TextEncoder().encode(JSON.stringify(pending))),
    });
    if (!ok) throw new ParleyError('UNAVAILABLE', 'another process changed the group at the same time', 'try again');
  }

  /** Put an adopted commit (and its Welcome) on the timeline. Idempotent through client ids. */
  private async flushPending(line: LineRow): Promise<void> {
    const rec = await this.load();
    if (!rec.pending) return;
    const p = JSON.parse(new TextDecoder().decode(unseal(this.deps, line.id, 'pending', rec.pending))) as Pending;
    const base = { lineId: line.id, senderHandle: RECORDER_HANDLE, sentAt: Date.now() };
    await this.deps.outbox.append({ ...base, kind: 'mls', payload: Buffer.from(p.commit, 'base64url'), clientId: `commit-e${p.epoch}` });
    if (p.welcome) {
      await this.deps.outbox.append({
        ...base,
        kind: 'welcome',
        payload: Buffer.from(p.welcome, 'base64url'),
        clientId: `welcome-e${p.epoch}`,
      });
    }
    await this.save(rec, { pending: null });
  }

  /** Read the timeline from the recorder's cursor: join, follow commits, archive messages. */
  private async consume(line: LineRow): Promise<void> {
    const { db, data, log } = this.deps;
    for (;;) {
      const rec = await this.load();
      const cursor = Math.max(num(rec.cursor_pos), this.lazyCursor);
      const rows = await readItems(db, line.id, cursor, 200);
      if (rows.length === 0 || this.stopped) return;
      // Most batches need nothing from the recorder (its own commits, legacy items): skip the
      // group state entirely and write the cursor now and then, not once per batch. Items it
      // must act on are processed with the cursor saved in the same write as the new state.
      const relevant = rows.some(
        (r) =>
          (r.kind === 'mls' || r.kind === 'welcome' || r.kind === 'translation') &&
          !(r.dir === 'out' && r.sender_handle === RECORDER_HANDLE),
      );
      if (!relevant) {
        this.lazyCursor = num((rows[rows.length - 1] as (typeof rows)[number]).pos);
        if (Date.now() - this.lastCursorWrite > 2000) {
          this.lastCursorWrite = Date.now();
          await this.save(rec, { cursor_pos: this.lazyCursor });
        }
        continue;
      }
      // The group state as this process last had it, or as the row holds it (decoded only if it
      // must be: the recorder thread takes it serialized).
      let from: StateRef | null =
        this.group?.version === num(rec.version)
          ? { state: this.group.state }
          : rec.group_state
            ? { bytes: unseal(this.deps, line.id, 'group', rec.group_state) }
            : null;
      let joined: GroupState | null = null;
      let kpSecrets = rec.kp_secrets;
      // What is on the timeline was ordered already: members seated then still verify.
      const policy = (await linePolicies(db, data, line)).known;
      const archive: {
        pos: number;
        sender: { station: string; handle: string; deviceId: string };
        body: Uint8Array | null;
        error: string | null;
        sentAt: number;
        /** A translation: the message it renders and its language. */
        translation: { of: MessageRef; lang: string } | null;
      }[] = [];
      const unreadable: { pos: number; code: string }[] = [];
      /** Messages to decrypt, in timeline order, after the join if this batch holds it. */
      const work: { row: (typeof rows)[number]; payload: Uint8Array; translation: { of: MessageRef; lang: string } | null }[] = [];
      for (const row of rows) {
        let payload = new Uint8Array(row.payload);
        const ours = row.dir === 'out' && row.sender_handle === RECORDER_HANDLE;
        const senderStation = row.dir === 'out' ? data.config.name : line.peer_name;
        if (row.kind === 'welcome') {
          // Only while not in the group: so a join comes before any message decrypted below.
          if (from || ours || !kpSecrets) continue;
          try {
            const device = importDevice(unseal(this.deps, line.id, 'device', rec.device));
            const secrets = unseal(this.deps, line.id, 'kp', kpSecrets);
            const res = await joinFromWelcome(device, payload, [secrets], policy, {
              expectedGroupId: groupIdOf(line.id),
              pastEpochs: PAST_EPOCHS,
            });
            joined = res.state;
            from = { state: res.state };
            kpSecrets = null;
            log.info({ line: line.name, epoch: res.state.epoch }, 'recorder joined the line\u2019s group');
          } catch (e) {
            if (!(e instanceof E2eeError && e.code === 'NO_MATCHING_KEY_PACKAGE'))
              log.warn({ line: line.name, err: (e as Error).message }, 'welcome refused');
          }
          continue;
        }
        // A translation's body is an application message of the same group, decrypted here in
        // its place on the timeline like any message (each decryption moves the group's state).
        let translation: { of: MessageRef; lang: string } | null = null;
        if (row.kind === 'translation' && from && !ours) {
          try {
            const t = parseWith(TranslationItemPayload, decodeLineEvent(payload), 'a translation');
            translation = { of: t.of, lang: t.lang };
            payload = new Uint8Array(Buffer.from(t.body, 'base64url'));
          } catch (e) {
            // Both stations check translations before storing them; kept as unreadable if not.
            unreadable.push({ pos: num(row.pos), code: 'MALFORMED' });
            archive.push({
              pos: num(row.pos),
              sender: { station: senderStation, handle: row.sender_handle, deviceId: '' },
              body: null,
              error: `MALFORMED: ${(e as Error).message}`.slice(0, 500),
              sentAt: num(row.sent_at),
              translation: null,
            });
            continue;
          }
        } else if (row.kind !== 'mls') continue;
        if (!from || ours) continue;
        work.push({ row, payload, translation });
      }
      let next: StateRef | null = joined ? { state: joined } : null;
      let epoch = joined?.epoch ?? num(rec.epoch);
      if (from && work.length > 0) {
        const run = await this.deps.decryptor.run(
          from,
          work.map((w) => w.payload),
          policy,
        );
        if (run.next) {
          next = run.next;
          epoch = run.epoch;
        }
        for (const [i, r] of run.results.entries()) {
          const { row, translation } = work[i] as (typeof work)[number];
          const senderStation = row.dir === 'out' ? data.config.name : line.peer_name;
          if (r.ok && r.kind === 'application') {
            archive.push({
              pos: num(row.pos),
              sender: r.sender,
              body: seal(this.deps, line.id, `archive/${num(row.pos)}`, r.plaintext),
              error: null,
              sentAt: num(row.sent_at),
              translation,
            });
          } else if (r.ok) {
            if (r.removedSelf) log.error({ line: line.name }, 'the recorder was removed from the line\u2019s group');
          } else {
            // Refused messages are kept as what they are, never silently dropped.
            unreadable.push({ pos: num(row.pos), code: r.code });
            archive.push({
              pos: num(row.pos),
              sender: { station: senderStation, handle: row.sender_handle, deviceId: '' },
              body: null,
              error: `${r.code}: ${r.message}`.slice(0, 500),
              sentAt: num(row.sent_at),
              translation,
            });
          }
        }
      }
      // One line in the log per batch: a flood of unreadable items must not become a flood of writes.
      if (unreadable.length > 0)
        log.warn({ line: line.name, count: unreadable.length, items: unreadable.slice(0, 20) }, 'recorder could not read items');
      const last = rows[rows.length - 1] as (typeof rows)[number];
      const saved = await this.save(
        rec,
        {
          cursor_pos: num(last.pos),
          kp_secrets: kpSecrets,
          // A batch nothing in which could be read leaves the group as it was: no need to write it.
          ...(next ? { group_state: seal(this.deps, line.id, 'group', bytesOf(next)), epoch } : {}),
        },
        async (trx) => {
          // One statement per step, not per message: building a query costs more than running it.
          for (let i = 0; i < archive.length; i += 100) {
            await trx
              .insertInto('archive')
              .values(
                archive.slice(i, i + 100).map((a) => ({
                  line_id: line.id,
                  pos: a.pos,
                  sender_station: a.sender.station,
                  sender_handle: a.sender.handle,
                  sender_device: a.sender.deviceId,
                  body: a.body,
                  error: a.error,
                  sent_at: a.sentAt,
                  of_side: a.translation?.of.side ?? null,
                  of_seq: a.translation?.of.seq ?? null,
                  lang: a.translation?.lang ?? null,
                })),
              )
              .onConflict((oc) => oc.columns(['line_id', 'pos']).doNothing())
              .execute();
          }
        },
      );
      if (!saved) return;
      // A state decoded on this thread is kept for the next step; one from the recorder thread
      // stays serialized until something here needs it decoded.
      if (next) this.group = 'state' in next ? { version: num(rec.version) + 1, state: next.state } : null;
    }
  }

  /**
   * The group state of the recorders row at `version`, when this thread decoded it last (the
   * fallback path, a join): the next step starts from it instead of decoding the row again
   * (states are values; nothing here changes one in place, every step makes a new one).
   */
  private group: { version: number; state: GroupState } | null = null;

  /** Hub only: make the group hold exactly the devices both stations vouch for on seated members. */
  private async reconcile(line: LineRow): Promise<void> {
    const { db, data, log } = this.deps;
    const rec = await this.load();
    if (!rec.group_state || rec.pending) return;
    let state = deserializeGroup(unseal(this.deps, line.id, 'group', rec.group_state));
    const members = roster(state);
    const ours = data.config.name;
    const ownHave = new Set(members.filter((m) => m.station === ours).map((m) => m.deviceId));
    const peerHave = members.filter((m) => m.station === line.peer_name).map((m) => m.deviceId);

    const own = await offerKeyPackages(db, line.id, ownHave);
    const mySeats: Seat[] = await seatsOf(db, line.id);
    let peer: FedKeyPackagesResponse;
    try {
      peer = await this.deps.askPeerForKeyPackages(line, { have: peerHave, seats: mySeats });
    } catch (e) {
      log.debug({ line: line.name, err: (e as Error).message }, 'peer key packages unavailable');
      return;
    }
    await replacePeerSeats(db, line.id, peer.seats);
    // Whom to add: devices of members seated now, and no one else.
    const policy: LinePolicy = (await linePolicies(db, data, line)).current;
    const ownCurrent = new Set([...own.current, recorderDeviceId(line.id)]);
    const peerCurrent = new Set(peer.current);
    const gone = members.filter(
      (m) => (m.station === ours && !ownCurrent.has(m.deviceId)) || (m.station === line.peer_name && !peerCurrent.has(m.deviceId)),
    );
    if (gone.length > 0) {
      const out = await removeMembers(
        state,
        gone.map((m) => m.leafIndex),
      );
      await this.adopt(rec, out.state, { epoch: out.epoch, commit: Buffer.from(out.commit).toString('base64url'), welcome: null });
      log.info({ line: line.name, removed: gone.map((m) => `${m.handle}@${m.station}/${m.deviceId}`) }, 'devices removed from the line');
      await this.flushPending(line);
      return;
    }
    const candidates = [
      ...own.offers.map((o) => ({ station: ours, ...o })),
      ...peer.offers.map((o) => ({
        station: line.peer_name,
        deviceId: o.deviceId,
        handle: o.handle,
        keyPackage: Buffer.from(o.keyPackage, 'base64url'),
      })),
    ];
    const valid: Uint8Array[] = [];
    for (const c of candidates) {
      try {
        const v = await validateKeyPackage(new Uint8Array(c.keyPackage), policy);
        if (v.device.station !== c.station || v.device.deviceId !== c.deviceId) throw new Error('key package names another device');
        valid.push(new Uint8Array(c.keyPackage));
      } catch (e) {
        // A device its own station did not vouch for, or whose member holds no seat: refused,
        // and said so in the log of the hub station.
        log.warn({ line: line.name, station: c.station, device: c.deviceId, err: (e as Error).message }, 'device refused for the line');
      }
    }
    if (valid.length === 0) return;
    const out = await addMembers(state, valid, policy);
    state = out.state;
    await this.adopt(rec, state, {
      epoch: out.epoch,
      commit: Buffer.from(out.commit).toString('base64url'),
      welcome: Buffer.from(out.welcome).toString('base64url'),
    });
    log.info(
      { line: line.name, added: out.added.map((m) => `${m.handle}@${m.station}/${m.deviceId}`), epoch: out.epoch },
      'devices added to the line',
    );
    await this.flushPending(line);
  }
}

export async function readHistory(
  deps: Pick<RecorderDeps, 'db' | 'archiveKey'>,
  lineId: string,
  after: number,
  limit: number,
): Promise<
  {
    pos: number;
    sentAt: number;
    sender: { station: string; handle: string; deviceId: string };
    text: string | null;
    error: string | null;
    translation?: { of: MessageRef; lang: string };
  }[]
> {
  const rows = await deps.db
    .selectFrom('archive')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('pos', '>', after)
    .orderBy('pos')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const translation = translationOf(r);
    return {
      pos: num(r.pos),
      sentAt: num(r.sent_at),
      sender: { station: r.sender_station, handle: r.sender_handle, deviceId: r.sender_device },
      text: r.body
        ? Buffer.from(deps.archiveKey.open(new Uint8Array(r.body), `${lineId}/archive/${num(r.pos)}`)).toString('base64url')
        : null,
      error: r.error,
      ...(translation ? { translation } : {}),
    };
  });
}

/** What an archived translation renders, from its row (null for a message). */
function translationOf(r: { of_side: string | null; of_seq: number | string | null; lang: string | null }): {
  of: MessageRef;
  lang: string;
} | null {
  if ((r.of_side !== 'inviter' && r.of_side !== 'acceptor') || r.of_seq === null || r.lang === null) return null;
  return { of: { side: r.of_side, seq: num(r.of_seq) }, lang: r.lang };
}

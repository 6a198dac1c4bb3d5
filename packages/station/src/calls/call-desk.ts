import {
  applyLineEvent,
  type CallActor,
  type CallBook,
  type CallEvent,
  checkLineEvent,
  checkLinePolicyConfig,
  dueActions,
  dueTests,
  emptyLineBooks,
  isTestEvent,
  lineStats,
  type LineStats,
  type PolicySummary,
  summarizePolicy,
  type LineBooks,
  type LineEvent,
  type LinePolicies,
  newCallId,
  nextTestWakeAt,
  nextWakeAt,
  resolveCallPolicy,
  resolveTestPolicy,
  type Side,
  type TestEvent,
} from '@parley/calls';
import { checkMemberItem } from '@parley/e2ee/frames';
import {
  type CallActionRequest,
  decodeLineEvent,
  encodeLineEvent,
  FedCallResponse,
  ParleyError,
  RECORDER_HANDLE,
  type Role,
} from '@parley/protocol';
import type { Db } from '../db/open.js';
import type { MembersTable } from '../db/schema.js';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost } from '../federation/fed-client.js';
import { type LineRow, lineById, num, peerSeatsOf, seatsOf } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';

/**
 * The line's calls as both stations see them. The hub (the inviting station) is the one place
 * where call events are ordered: a member's action is checked against the hub's book and, if it
 * stands, appended to the hub's outgoing stream as a 'call' item; the other station passes its
 * members' actions to the hub and learns the outcome from that stream. So both books are the
 * same fold, in the same order, of the same items. Deadlines (escalation, expiry) are the hub's
 * scheduler's, run by the process that holds the line.
 *
 * Within one process, actions on a line are serialized, so the check and the append cannot
 * interleave. Several processes on PostgreSQL can still race two actions on one call; the
 * fold then keeps the first and skips the other (logged), on both stations alike.
 */
export class CallDesk {
  private readonly lines = new Map<string, { books: LineBooks; seq: number; chain: Promise<unknown> }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The policy of a line that set none of its own (`policy_set`): the defaults, or the env override. */
  readonly basePolicy: LinePolicies;

  constructor(private readonly ctx: StationContext) {
    this.basePolicy = policiesFromEnv();
  }

  /** The hub's scheduler: one look a second at the lines this process holds. */
  start(): void {
    this.timer = setInterval(() => void this.runDue().catch((err) => this.ctx.log.error({ err }, 'call scheduler failed')), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private state(lineId: string) {
    let s = this.lines.get(lineId);
    if (!s) {
      s = { books: emptyLineBooks(this.basePolicy), seq: 0, chain: Promise.resolve() };
      this.lines.set(lineId, s);
    }
    return s;
  }

  private serial<T>(lineId: string, fn: () => Promise<T>): Promise<T> {
    const s = this.state(lineId);
    const next = s.chain.then(fn, fn);
    s.chain = next.catch(() => {});
    return next;
  }

  /** The line's calls, brought up to date with the hub's stream as this station holds it. */
  async book(line: LineRow): Promise<CallBook> {
    return (await this.books(line)).calls;
  }

  /**
   * Availability and acknowledgement figures of the line over the last week, for this station's
   * members: how the far side answered our tests and calls, and how we answered theirs.
   */
  stats(books: LineBooks): LineStats {
    return lineStats(books, books.policy, Date.now());
  }

  /** Calls and duty-officer tests, up to date. */
  books(line: LineRow): Promise<LineBooks> {
    return this.serial(line.id, () => this.refresh(line));
  }

  private async refresh(line: LineRow): Promise<LineBooks> {
    const s = this.state(line.id);
    const next = await foldLineEvents(this.ctx.db, line, s, (seq, why) =>
      this.ctx.log.warn({ line: line.name, seq, why }, 'a line event the books do not take'),
    );
    s.books = next.books;
    s.seq = next.seq;
    return s.books;
  }

  /** A member of this station acts on a call. Returns the event as ordered and the hub's sequence number. */
  async act(line: LineRow, member: MembersTable, req: CallActionRequest): Promise<{ event: LineEvent; seq: number; duplicate: boolean }> {
    if (req.body !== undefined) {
      const verdict = checkMemberItem(line.id, new Uint8Array(Buffer.from(req.body, 'base64url')));
      if (!verdict.ok) throw new ParleyError('NOT_ENCRYPTED', `the call's body: ${verdict.reason}`);
    }
    const side: Side = line.role === 'inviter' ? 'inviter' : 'acceptor';
    const books = await this.books(line);
    const event = eventFor(req, books.calls, { side, handle: member.handle }, Date.now());
    const actor: CallActor = { kind: 'seat', side, handle: member.handle, role: member.role as Role, seated: true };
    if (line.role === 'inviter') return this.order(line, event, req.body ?? null, req.clientId, actor);
    // Refuse early what the hub would refuse; the hub decides all the same.
    const pre = applyLineEvent(books, event, { actor, now: event.at });
    if (!pre.ok) throw new ParleyError(pre.error.code, pre.error.message);
    return this.passToHub(line, event, req.body ?? null, req.clientId);
  }

  /** At the other station: hand an event to the hub, and answer once it is on our own timeline. */
  private async passToHub(
    line: LineRow,
    event: LineEvent,
    body: string | null,
    clientId: string,
  ): Promise<{ event: LineEvent; seq: number; duplicate: boolean }> {
    const res = await fedPost(
      this.ctx.data.key,
      line.peer_public_key,
      this.ctx.lines.runtime(line.id)?.endpoints ?? new Endpoints(JSON.parse(line.peer_urls) as string[]),
      `fed/v1/lines/${line.id}/calls`,
      { event, body, clientId },
      FedCallResponse,
    );
    // Answer once the hub's item is on our own timeline, so the member's next look shows it.
    const deadline = Date.now() + 5000;
    while (this.state(line.id).seq < res.seq && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      await this.book(line);
    }
    const ordered = this.eventAt(line, res.seq);
    return { event: (await ordered) ?? event, seq: res.seq, duplicate: false };
  }

  private async eventAt(line: LineRow, seq: number): Promise<LineEvent | undefined> {
    const row = await this.ctx.db
      .selectFrom('items')
      .select('payload')
      .where('line_id', '=', line.id)
      .where('dir', '=', line.role === 'inviter' ? 'out' : 'in')
      .where('seq', '=', seq)
      .executeTakeFirst();
    const checked = row ? checkLineEvent(decodeLineEvent(new Uint8Array(row.payload))?.event) : undefined;
    return checked?.ok ? checked.value : undefined;
  }

  /** At the hub: a member of the other station acts (passed on, signed, by their station). */
  async orderFromPeer(line: LineRow, raw: unknown, body: string | null, clientId: string): Promise<{ seq: number }> {
    if (line.role !== 'inviter') throw new ParleyError('FORBIDDEN', 'only the inviting station orders call events on this line');
    const checked = checkLineEvent(raw);
    if (!checked.ok) throw new ParleyError(checked.error.code, checked.error.message);
    const event = checked.value;
    const by = event.by;
    if (by.side !== 'acceptor') throw new ParleyError('CALL_ACTOR_MISMATCH', 'the other station may act only for its own side');
    if (!('handle' in by)) {
      // The other station's own scheduler: it sends its side's test messages, nothing else.
      if (event.action !== 'test_sent') throw new ParleyError('CALL_NOT_STATION', 'only the hub runs the line\u2019s deadlines');
      const res = await this.order(line, { ...event, at: Math.max(Date.now(), event.at) }, null, clientId, {
        kind: 'station',
        side: 'acceptor',
      });
      return { seq: res.seq };
    }
    if (body !== null) {
      const verdict = checkMemberItem(line.id, new Uint8Array(Buffer.from(body, 'base64url')));
      if (!verdict.ok) throw new ParleyError('NOT_ENCRYPTED', `the call's body: ${verdict.reason}`);
    }
    const seat = (await peerSeatsOf(this.ctx.db, line.id)).find((s) => s.handle === by.handle);
    const actor: CallActor = { kind: 'seat', side: 'acceptor', handle: by.handle, role: seat?.role ?? 'principal', seated: !!seat };
    // The hub's clock dates the event, as it does its own members' events.
    const res = await this.order(line, { ...event, at: Math.max(Date.now(), event.at) }, body, clientId, actor);
    return { seq: res.seq };
  }

  private order(
    line: LineRow,
    event: LineEvent,
    body: string | null,
    clientId: string,
    actor: CallActor,
  ): Promise<{ event: LineEvent; seq: number; duplicate: boolean }> {
    return this.serial(line.id, async () => {
      const sender = RECORDER_HANDLE;
      const existing = await this.ctx.db
        .selectFrom('items')
        .select(['seq', 'payload'])
        .where('line_id', '=', line.id)
        .where('dir', '=', 'out')
        .where('sender_handle', '=', sender)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      if (existing) {
        const prior = checkLineEvent(decodeLineEvent(new Uint8Array(existing.payload))?.event);
        if (prior.ok) return { event: prior.value, seq: num(existing.seq), duplicate: true };
      }
      if (event.action === 'request' && event.to !== undefined) {
        const far = event.by.side === 'inviter' ? await peerSeatsOf(this.ctx.db, line.id) : await seatsOf(this.ctx.db, line.id);
        if (!far.some((x) => x.handle === event.to)) {
          throw new ParleyError(
            'VALIDATION_FAILED',
            `${event.to} holds no seat on the other side of this line`,
            'name a seat of the far side, or nobody',
          );
        }
      }
      const books = await this.refresh(line);
      const res = applyLineEvent(books, event, { actor, now: Date.now() });
      if (!res.ok) throw new ParleyError(res.error.code, res.error.message);
      const { row } = await this.ctx.outbox.append({
        lineId: line.id,
        kind: 'call',
        payload: Buffer.from(encodeLineEvent({ event, body }), 'base64url'),
        senderHandle: sender,
        clientId,
        sentAt: Date.now(),
      });
      const s = this.state(line.id);
      if (num(row.seq) === s.seq + 1) {
        s.books = res.books;
        s.seq = num(row.seq);
      }
      return { event, seq: num(row.seq), duplicate: false };
    });
  }

  /**
   * Deadlines and test messages on the lines this process runs. The hub emits call verdicts,
   * its own side's tests and test verdicts; the other station sends only its own side's tests,
   * through the hub like everything else.
   */
  private async runDue(): Promise<void> {
    const now = Date.now();
    for (const lineId of this.ctx.lines.heldLineIds()) {
      const line = await lineById(this.ctx.db, lineId);
      if (!line) continue;
      const books = await this.books(line);
      const hub = line.role === 'inviter';
      const wake = Math.min(
        (hub ? nextWakeAt(books.calls, books.policy.calls, now) : null) ?? Number.POSITIVE_INFINITY,
        nextTestWakeAt(books.tests, books.policy.tests, now) ?? Number.POSITIVE_INFINITY,
      );
      if (wake > now) continue;
      const due: (CallEvent | TestEvent)[] = [
        ...(hub ? dueActions(books.calls, books.policy.calls, now) : []),
        ...dueTests(books.tests, books.policy.tests, now).filter(
          (t) => t.by.side === (hub ? 'inviter' : 'acceptor') && (hub || t.action === 'test_sent'),
        ),
      ];
      for (const ev of due) {
        const clientId = (
          isTestEvent(ev)
            ? `sched-${ev.testId}-${ev.action}`
            : `sched-${ev.callId}-${ev.action}${ev.action === 'escalate' ? `-${ev.level}` : ''}`
        ).slice(0, 64);
        const done = hub
          ? this.order(line, ev, null, clientId, { kind: 'station', side: 'inviter' })
          : this.passToHub(line, ev, null, clientId);
        await done.catch((err) => this.ctx.log.warn({ err, line: line.name, event: ev.action }, 'scheduled line event refused'));
      }
    }
  }
}

/**
 * Fold the hub's stream, as this station holds it, into the line's books from `from` on: call
 * items in sequence order. Both stations run this same fold, so both hold the same books; the
 * deadlines are the books' own (`from.books.policy`, as `policy_set` events change it).
 */
export async function foldLineEvents(
  db: Db,
  line: LineRow,
  from: { books: LineBooks; seq: number },
  skipped: (seq: number, why: string) => void = () => {},
): Promise<{ books: LineBooks; seq: number }> {
  const rows = await db
    .selectFrom('items')
    .select(['seq', 'payload'])
    .where('line_id', '=', line.id)
    .where('dir', '=', line.role === 'inviter' ? 'out' : 'in')
    .where('kind', '=', 'call')
    .where('seq', '>', from.seq)
    .orderBy('seq')
    .execute();
  let { books, seq } = from;
  if (rows.length === 0) return { books, seq };
  const roles = await rolesOf(db, line);
  for (const row of rows) {
    seq = num(row.seq);
    const checked = checkLineEvent(decodeLineEvent(new Uint8Array(row.payload))?.event);
    if (!checked.ok) {
      skipped(seq, checked.error.message);
      continue;
    }
    const ev = checked.value;
    const res = applyLineEvent(books, ev, { actor: actorOf(ev, roles), now: Math.max(Date.now(), ev.at) });
    if (res.ok) books = res.books;
    else skipped(seq, res.error.code);
  }
  return { books, seq };
}

/** A line's duty-officer figures and its deadlines, straight from the database (`parley line status`). */
export async function lineDutyStats(db: Db, line: LineRow): Promise<LineStats & { policy: PolicySummary }> {
  const { books } = await foldLineEvents(db, line, { books: emptyLineBooks(policiesFromEnv()), seq: 0 });
  return { ...lineStats(books, books.policy, Date.now()), policy: summarizePolicy(books.policy) };
}

async function rolesOf(db: Db, line: LineRow): Promise<Map<string, Role>> {
  const ours: Side = line.role === 'inviter' ? 'inviter' : 'acceptor';
  const theirs: Side = ours === 'inviter' ? 'acceptor' : 'inviter';
  const m = new Map<string, Role>();
  for (const s of await seatsOf(db, line.id)) m.set(`${ours}/${s.handle}`, s.role);
  for (const s of await peerSeatsOf(db, line.id)) m.set(`${theirs}/${s.handle}`, s.role);
  return m;
}

function actorOf(ev: LineEvent, roles: Map<string, Role>): CallActor {
  if (!('handle' in ev.by)) return { kind: 'station', side: ev.by.side };
  // Admitted by the hub when it was ordered; a seat since removed does not undo history.
  return {
    kind: 'seat',
    side: ev.by.side,
    handle: ev.by.handle,
    role: roles.get(`${ev.by.side}/${ev.by.handle}`) ?? 'principal',
    seated: true,
  };
}

/** The event a member's request stands for, in the call core's terms. */
function eventFor(req: CallActionRequest, book: CallBook, by: { side: Side; handle: string }, at: number): LineEvent {
  if (req.action === 'request') {
    if (!req.urgency) throw new ParleyError('VALIDATION_FAILED', 'a call request needs an urgency: routine, priority, immediate or flash');
    const ev = {
      callId: req.callId ?? newCallId(),
      talkId: req.talkId ?? newCallId(),
      action: 'request' as const,
      by,
      at,
      urgency: req.urgency,
      ...(req.to ? { to: req.to } : {}),
    };
    return ev;
  }
  if (req.action === 'set_policy') {
    if (!req.policy)
      throw new ParleyError(
        'CALL_POLICY_INVALID',
        'set_policy needs the settings to change',
        'e.g. {"calls":{"ackDeadlineMs":{"flash":30000}}}',
      );
    const checked = checkLinePolicyConfig(req.policy);
    if (!checked.ok) throw new ParleyError(checked.error.code, checked.error.message);
    return { action: 'policy_set', by, at, policy: checked.value };
  }
  if (req.action === 'acknowledge_test') {
    if (!req.testId) throw new ParleyError('VALIDATION_FAILED', 'acknowledging a test message needs its id');
    return { testId: req.testId, action: 'test_acknowledged', by, at };
  }
  if (!req.callId) throw new ParleyError('VALIDATION_FAILED', `${req.action} needs the call's id`);
  const call = book.calls.get(req.callId);
  if (!call) throw new ParleyError('CALL_NOT_FOUND', `no call ${req.callId} on this line`, 'see `parley call list`');
  const base = { callId: call.callId, talkId: call.talkId, by, at };
  if (req.action === 'accept')
    return { ...base, action: 'accept', ...(req.scheduledFor !== undefined ? { scheduledFor: req.scheduledFor } : {}) };
  return { ...base, action: req.action } as CallEvent;
}

/**
 * Deadlines and test schedule: the defaults of @parley/calls, or PARLEY_CALL_POLICY and
 * PARLEY_TEST_POLICY (JSON) for drills and tests. Both stations of a line must agree on them.
 */
function policiesFromEnv(): LinePolicies {
  const calls = resolveCallPolicy(process.env.PARLEY_CALL_POLICY ? (JSON.parse(process.env.PARLEY_CALL_POLICY) as unknown) : {});
  if (!calls.ok) throw new ParleyError('CALL_POLICY_INVALID', `PARLEY_CALL_POLICY: ${calls.error.message}`);
  const tests = resolveTestPolicy(process.env.PARLEY_TEST_POLICY ? (JSON.parse(process.env.PARLEY_TEST_POLICY) as unknown) : {});
  if (!tests.ok) throw new ParleyError('CALL_POLICY_INVALID', `PARLEY_TEST_POLICY: ${tests.error.message}`);
  return { calls: calls.policy, tests: tests.policy };
}

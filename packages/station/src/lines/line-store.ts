import type { ItemKind } from '@parley/protocol';
import { type Item, ParleyError, type Seat, type Role, storedLangs } from '@parley/protocol';
import { sql } from 'kysely';
import { derivedTransaction } from '../db/derived-writes.js';
import type { Db } from '../db/open.js';
import { prepared } from '../db/prepared.js';
import { noteSeats } from '../e2ee/seat-history.js';
import type { ItemsTable, LinesTable } from '../db/schema.js';

// Storage for lines and their two directed streams. Every function here is one transaction
// or one statement: callers never see a half-written batch.

export type LineRow = LinesTable;

export function num(v: number | string | bigint | null): number {
  return v === null ? 0 : Number(v);
}

export async function lineByName(db: Db, name: string): Promise<LineRow> {
  const line = await db.selectFrom('lines').selectAll().where('name', '=', name).executeTakeFirst();
  if (!line) throw new ParleyError('LINE_NOT_FOUND', `no line named "${name}" on this station`, 'see `parley line list`');
  return line;
}

export async function lineById(db: Db, id: string): Promise<LineRow | undefined> {
  // On every federation request and heartbeat: prepared once.
  return prepared<{ id: string }, LineRow>(db, 'lines.byId', (db, p) => db.selectFrom('lines').selectAll().where('id', '=', p('id'))).first(
    db,
    {
      id,
    },
  );
}

export async function allLines(db: Db): Promise<LineRow[]> {
  return db.selectFrom('lines').selectAll().orderBy('name').execute();
}

export async function linesForMember(db: Db, memberId: string): Promise<LineRow[]> {
  return db
    .selectFrom('lines')
    .innerJoin('seats', 'seats.line_id', 'lines.id')
    .selectAll('lines')
    .where('seats.member_id', '=', memberId)
    .orderBy('lines.name')
    .execute();
}

/**
 * The line, if this member holds a seat on it. A line the member has no seat on answers
 * exactly like a line that does not exist, so members cannot probe for other lines' names.
 */
export async function seatedLine(db: Db, memberId: string, name: string): Promise<LineRow> {
  const line = await db
    .selectFrom('lines')
    .innerJoin('seats', 'seats.line_id', 'lines.id')
    .selectAll('lines')
    .where('lines.name', '=', name)
    .where('seats.member_id', '=', memberId)
    .executeTakeFirst();
  if (!line) throw new ParleyError('LINE_NOT_FOUND', `you hold no seat on a line named "${name}"`, 'see your lines with `parley lines`');
  return line;
}

export async function seatsOf(db: Db, lineId: string): Promise<Seat[]> {
  const rows = await db
    .selectFrom('seats')
    .innerJoin('members', 'members.id', 'seats.member_id')
    .select(['members.handle', 'members.display_name', 'members.role'])
    .where('seats.line_id', '=', lineId)
    .orderBy('members.handle')
    .execute();
  return rows.map((r) => ({ handle: r.handle, name: r.display_name, role: r.role as Role }));
}

export async function peerSeatsOf(db: Db, lineId: string): Promise<Seat[]> {
  const rows = await db.selectFrom('peer_seats').selectAll().where('line_id', '=', lineId).orderBy('handle').execute();
  return rows.map((r) => ({ handle: r.handle, name: r.display_name, role: r.role as Role }));
}

export function toItem(row: ItemsTable, ourStation: string, peerStation: string): Item {
  return {
    pos: num(row.pos),
    dir: row.dir as 'out' | 'in',
    seq: num(row.seq),
    kind: row.kind as ItemKind,
    payload: Buffer.from(row.payload).toString('base64url'),
    sender: { handle: row.sender_handle, station: row.dir === 'out' ? ourStation : peerStation },
    clientId: row.client_id,
    sentAt: num(row.sent_at),
    storedAt: num(row.stored_at),
  };
}

type Executor = Pick<Db, 'executeQuery' | 'isTransaction'>;

const itemJsonCache = new WeakMap<ItemsTable, string>();

/**
 * The item as JSON, as clients receive it. Cached per row object: a row just committed is
 * handed to every client stream of the line (and in the 'accepted' answer), serialized once.
 */
export function itemJson(row: ItemsTable, ourStation: string, peerStation: string): string {
  let text = itemJsonCache.get(row);
  if (text === undefined) {
    text = JSON.stringify(toItem(row, ourStation, peerStation));
    itemJsonCache.set(row, text);
  }
  return text;
}

export async function readItems(db: Db, lineId: string, after: number, limit: number): Promise<ItemsTable[]> {
  return prepared<{ lineId: string; after: number; limit: number }, ItemsTable>(db, 'items.after', (db, p) =>
    db.selectFrom('items').selectAll().where('line_id', '=', p('lineId')).where('pos', '>', p('after')).orderBy('pos').limit(p('limit')),
  ).rows(db, { lineId, after, limit });
}

export async function outgoingAfter(db: Db, lineId: string, afterSeq: number, limit: number): Promise<ItemsTable[]> {
  return prepared<{ lineId: string; after: number; limit: number }, ItemsTable>(db, 'items.outgoingAfter', (db, p) =>
    db
      .selectFrom('items')
      .selectAll()
      .where('line_id', '=', p('lineId'))
      .where('dir', '=', 'out')
      .where('seq', '>', p('after'))
      .orderBy('seq')
      .limit(p('limit')),
  ).rows(db, { lineId, after: afterSeq, limit });
}

const ITEM_COLUMNS = ['line_id', 'pos', 'dir', 'seq', 'kind', 'payload', 'sender_handle', 'client_id', 'sent_at', 'stored_at'] as const;

function insertRowsQuery(db: Db, n: number) {
  return prepared<Record<string, unknown>, never>(db, `items.insert.${n}`, (db, p) => {
    let i = 0;
    const rows = Array.from({ length: n }, () => {
      const row: Record<string, unknown> = {};
      for (const c of ITEM_COLUMNS) row[c] = p(String(i++));
      return row as unknown as ItemsTable;
    });
    return db.insertInto('items').values(rows);
  });
}

/**
 * Insert item rows (inside the caller's transaction). Several rows per statement cost a
 * third less than one statement each; statements come in power-of-two sizes up to 64, so
 * a handful of prepared statements covers every batch.
 */
export async function insertItems(db: Db, trx: Executor, rows: ItemsTable[]): Promise<void> {
  let at = 0;
  while (at < rows.length) {
    let n = 64;
    while (n > rows.length - at) n >>= 1;
    const values: unknown[] = new Array(n * ITEM_COLUMNS.length);
    let v = 0;
    for (let k = at; k < at + n; k++) {
      const r = rows[k] as ItemsTable;
      for (const c of ITEM_COLUMNS) values[v++] = r[c];
    }
    await insertRowsQuery(db, n).runValues(trx, values);
    at += n;
  }
}

// What the peer told us (its acknowledgements, its stream position, when we last heard from
// it) is learnt again from its next answer: written without waiting for the disk.

/** Record the peer's acknowledgement. Monotonic: a late, smaller ack never moves it back. */
export async function recordAck(db: Db, lineId: string, ackedSeq: number, now: number): Promise<void> {
  await derivedTransaction(db, (trx) =>
    trx
      .updateTable('lines')
      .set({ out_acked: sql<number>`CASE WHEN out_acked < ${ackedSeq} THEN ${ackedSeq} ELSE out_acked END`, last_contact_at: now })
      .where('id', '=', lineId)
      .execute(),
  );
}

export async function recordHeartbeat(db: Db, lineId: string, peerSentSeq: number, peerAcked: number, now: number): Promise<void> {
  await derivedTransaction(db, (trx) =>
    trx
      .updateTable('lines')
      .set({
        peer_sent_seq: sql<number>`CASE WHEN peer_sent_seq < ${peerSentSeq} THEN ${peerSentSeq} ELSE peer_sent_seq END`,
        out_acked: sql<number>`CASE WHEN out_acked < ${peerAcked} AND ${peerAcked} <= out_seq THEN ${peerAcked} ELSE out_acked END`,
        last_contact_at: now,
      })
      .where('id', '=', lineId)
      .execute(),
  );
}

/**
 * Give a member a seat on a line, or take it away. The line's group follows: the hub adds the
 * member's devices or removes them (a removed device reads nothing sent afterwards).
 */
export async function setSeat(db: Db, lineName: string, handle: string, seated: boolean): Promise<void> {
  const line = await lineByName(db, lineName);
  const member = await db.selectFrom('members').select('id').where('handle', '=', handle).executeTakeFirst();
  if (!member) throw new ParleyError('NOT_FOUND', `no member with handle "${handle}"`);
  if (seated) {
    await db
      .insertInto('seats')
      .values({ line_id: line.id, member_id: member.id })
      .onConflict((oc) => oc.columns(['line_id', 'member_id']).doNothing())
      .execute();
  } else {
    // Remember the seat first: the member's devices stay in the group until the hub's commit
    // removes them, and their messages until then must still verify.
    await noteSeats(db, line.id);
    await db.deleteFrom('seats').where('line_id', '=', line.id).where('member_id', '=', member.id).execute();
  }
}

/** Replace the peer's seats on a line with what the peer says now; writes only on a change. */
export async function replacePeerSeats(db: Db, lineId: string, seats: Seat[]): Promise<boolean> {
  const current = await peerSeatsOf(db, lineId);
  const key = (list: Seat[]) =>
    JSON.stringify(list.map((s) => [s.handle, s.name, s.role]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  if (key(current) === key(seats)) return false;
  await noteSeats(db, lineId); // the peer's seats as they were, before any leaves the list
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('peer_seats').where('line_id', '=', lineId).execute();
    for (const s of seats) {
      await trx.insertInto('peer_seats').values({ line_id: lineId, handle: s.handle, display_name: s.name, role: s.role }).execute();
    }
  });
  return true;
}

/** Both sides' working languages of a line (issue 9), empty where none were set. */
export function lineLanguages(line: Pick<LineRow, 'own_langs' | 'peer_langs'>): { ours: string[]; peer: string[] } {
  return { ours: storedLangs(line.own_langs), peer: storedLangs(line.peer_langs) };
}

/** An administrator sets our side's working languages (checked by the caller). */
export async function setOwnLangs(db: Db, lineId: string, langs: string[]): Promise<void> {
  await db
    .updateTable('lines')
    .set({ own_langs: JSON.stringify(langs) })
    .where('id', '=', lineId)
    .execute();
}

/** What the peer says its working languages are now; writes only on a change, says whether it did. */
export async function setPeerLangs(db: Db, lineId: string, langs: string[]): Promise<boolean> {
  const json = JSON.stringify(langs);
  const res = await db
    .updateTable('lines')
    .set({ peer_langs: json })
    .where('id', '=', lineId)
    .where((eb) => eb.or([eb('peer_langs', 'is', null), eb('peer_langs', '!=', json)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

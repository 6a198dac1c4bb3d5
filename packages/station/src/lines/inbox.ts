import { type FedItem, ParleyError } from '@parley/protocol';
import { sql } from 'kysely';
import type { Db } from '../db/open.js';
import type { ItemsTable } from '../db/schema.js';
import type { Hub } from './hub.js';
import { prepared } from '../db/prepared.js';
import { insertItems, num } from './line-store.js';

export class SeqGapError extends ParleyError {
  constructor(
    message: string,
    readonly ackedSeq: number,
  ) {
    super('SEQ_GAP', message, 'resend from ackedSeq + 1');
  }
}

function sameItem(stored: ItemsTable, item: FedItem): boolean {
  return (
    stored.sender_handle === item.sender &&
    stored.client_id === item.clientId &&
    stored.kind === item.kind &&
    Buffer.from(stored.payload).toString('base64url') === item.payload
  );
}

/** A federation request's nonce, remembered in the same transaction as the items it carried. */
export interface NonceRecord {
  stationKey: string;
  nonce: string;
  expiresAt: number;
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * Stores a batch from the peer's stream. The batch must continue the stream without a gap
 * (items we already hold may be resent and are dropped, but must be identical: a peer that
 * tries to rewrite an item it sent is refused). Returns the highest contiguous sequence now
 * held, which is what the peer may consider delivered.
 *
 * With `nonce`, the request's nonce is recorded in the same transaction (one commit, one
 * fsync, instead of two): a replay finds it there and is refused with FED_REPLAY.
 */
export async function storeIncoming(
  db: Db,
  hub: Hub,
  lineId: string,
  items: FedItem[],
  now = Date.now(),
  nonce?: NonceRecord,
): Promise<number> {
  for (let i = 1; i < items.length; i++) {
    if ((items[i] as FedItem).seq !== (items[i - 1] as FedItem).seq + 1) {
      throw new ParleyError('SEQ_GAP', 'sequence numbers in the batch are not consecutive');
    }
  }
  const q = inboxQueries(db);
  let result: { acked: number; rows: ItemsTable[] };
  try {
    result = await db.transaction().execute(async (trx) => {
      if (nonce) {
        const res = await q.nonce.run(trx, nonce);
        if (Number(res.numAffectedRows ?? 0) !== 1) throw new ParleyError('FED_REPLAY', 'this request was already received');
      }
      // A no-op update takes the line's row lock first (PostgreSQL), so two processes storing
      // batches for the same line serialize here instead of racing on in_seq.
      const line = await q.lock.first(trx, { lineId });
      if (!line) throw new ParleyError('FED_WRONG_LINE', 'no such line between our stations');
      const held = num(line.in_seq);
      const first = (items[0] as FedItem).seq;
      if (first > held + 1) throw new SeqGapError(`expected sequence ${held + 1}, got ${first}`, held);
      if (first < 1) throw new ParleyError('SEQ_GAP', 'sequence numbers start at 1');
      const resent = items.filter((it) => it.seq <= held);
      if (resent.length > 0) {
        const stored = await q.range.rows(trx, {
          lineId,
          from: (resent[0] as FedItem).seq,
          to: (resent[resent.length - 1] as FedItem).seq,
        });
        const bySeq = new Map(stored.map((r) => [num(r.seq), r]));
        for (const it of resent) {
          const s = bySeq.get(it.seq);
          if (s && !sameItem(s, it)) {
            throw new ParleyError('SEQ_CONFLICT', `item ${it.seq} differs from the one already delivered`, 'a stream is append-only');
          }
        }
      }
      const fresh = resent.length > 0 ? items.filter((it) => it.seq > held) : items;
      if (fresh.length === 0) return { acked: held, rows: [] };
      const lastSeq = (fresh[fresh.length - 1] as FedItem).seq;
      const counters = await q.advance.first(trx, { lineId, n: fresh.length, lastSeq, now });
      const firstPos = num((counters as { last_pos: number }).last_pos) - fresh.length + 1;
      const rows: ItemsTable[] = [];
      for (let k = 0; k < fresh.length; k++) {
        const it = fresh[k] as FedItem;
        const row: ItemsTable = {
          line_id: lineId,
          pos: firstPos + k,
          dir: 'in',
          seq: it.seq,
          kind: it.kind,
          payload: Buffer.from(it.payload, 'base64url'),
          sender_handle: it.sender,
          client_id: it.clientId,
          sent_at: it.sentAt,
          stored_at: now,
        };
        rows.push(row);
      }
      await insertItems(db, trx, rows);
      return { acked: lastSeq, rows };
    });
  } catch (e) {
    // Only a peer that reuses a client id for a different item gets here (an honest outbox
    // answers a retry with the stored item): refuse it like any other rewrite.
    if (isUniqueViolation(e)) {
      throw new ParleyError('SEQ_CONFLICT', 'an item repeats the client id of an item already delivered', 'a stream is append-only');
    }
    throw e;
  }
  if (result.rows.length > 0) {
    const last = result.rows[result.rows.length - 1] as ItemsTable;
    hub.emit({ type: 'items', lineId, lastPos: num(last.pos), rows: result.rows });
  }
  return result.acked;
}

/** Remember a nonce on its own (a refused request: its replay must be refused as a replay). */
export async function recordNonce(db: Db, nonce: NonceRecord): Promise<boolean> {
  const res = await inboxQueries(db).nonce.run(db, nonce);
  return Number(res.numAffectedRows ?? 0) === 1;
}

function inboxQueries(db: Db) {
  return {
    nonce: prepared<{ stationKey: string; nonce: string; expiresAt: number }, never>(db, 'inbox.nonce', (db, p) =>
      db
        .insertInto('fed_nonces')
        .values({ station_key: p('stationKey'), nonce: p('nonce'), expires_at: p('expiresAt') })
        .onConflict((oc) => oc.columns(['station_key', 'nonce']).doNothing()),
    ),
    lock: prepared<{ lineId: string }, { in_seq: number; last_pos: number }>(db, 'inbox.lock', (db, p) =>
      db.updateTable('lines').set({ in_seq: sql<number>`in_seq` }).where('id', '=', p('lineId')).returning(['in_seq', 'last_pos']),
    ),
    range: prepared<{ lineId: string; from: number; to: number }, ItemsTable>(db, 'inbox.range', (db, p) =>
      db
        .selectFrom('items')
        .selectAll()
        .where('line_id', '=', p('lineId'))
        .where('dir', '=', 'in')
        .where('seq', '>=', p('from'))
        .where('seq', '<=', p('to'))
        .orderBy('seq'),
    ),
    advance: prepared<{ lineId: string; n: number; lastSeq: number; now: number }, { last_pos: number }>(db, 'inbox.advance', (db, p) =>
      db
        .updateTable('lines')
        .set({
          last_pos: sql<number>`last_pos + ${p('n')}`,
          in_seq: p('lastSeq'),
          peer_sent_seq: sql<number>`CASE WHEN peer_sent_seq < ${p('lastSeq')} THEN ${p('lastSeq')} ELSE peer_sent_seq END`,
          last_contact_at: p('now'),
        })
        .where('id', '=', p('lineId'))
        .returning(['last_pos']),
    ),
  };
}

import { type FedItem, ParleyError } from '@parley/protocol';
import { sql } from 'kysely';
import type { Db } from '../db/open.js';
import type { ItemsTable } from '../db/schema.js';
import type { Hub } from './hub.js';
import { num } from './line-store.js';

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

/**
 * Stores a batch from the peer's stream. The batch must continue the stream without a gap
 * (items we already hold may be resent and are dropped, but must be identical: a peer that
 * tries to rewrite an item it sent is refused). Returns the highest contiguous sequence now
 * held, which is what the peer may consider delivered.
 */
export async function storeIncoming(db: Db, hub: Hub, lineId: string, items: FedItem[], now = Date.now()): Promise<number> {
  for (let i = 1; i < items.length; i++) {
    if ((items[i] as FedItem).seq !== (items[i - 1] as FedItem).seq + 1) {
      throw new ParleyError('SEQ_GAP', 'sequence numbers in the batch are not consecutive');
    }
  }
  const result = await db.transaction().execute(async (trx) => {
    // A no-op update takes the line's row lock first (PostgreSQL), so two processes storing
    // batches for the same line serialize here instead of racing on in_seq.
    const line = await trx
      .updateTable('lines')
      .set({ in_seq: sql<number>`in_seq` })
      .where('id', '=', lineId)
      .returning(['in_seq', 'last_pos'])
      .executeTakeFirstOrThrow();
    const held = num(line.in_seq);
    const first = (items[0] as FedItem).seq;
    if (first > held + 1) throw new SeqGapError(`expected sequence ${held + 1}, got ${first}`, held);
    if (first < 1) throw new ParleyError('SEQ_GAP', 'sequence numbers start at 1');
    const resent = items.filter((it) => it.seq <= held);
    if (resent.length > 0) {
      const stored = await trx
        .selectFrom('items')
        .selectAll()
        .where('line_id', '=', lineId)
        .where('dir', '=', 'in')
        .where('seq', '>=', (resent[0] as FedItem).seq)
        .where('seq', '<=', (resent[resent.length - 1] as FedItem).seq)
        .orderBy('seq')
        .execute();
      for (const it of resent) {
        const s = stored.find((r) => num(r.seq) === it.seq);
        if (s && !sameItem(s, it)) {
          throw new ParleyError('SEQ_CONFLICT', `item ${it.seq} differs from the one already delivered`, 'a stream is append-only');
        }
      }
    }
    const fresh = items.filter((it) => it.seq > held);
    if (fresh.length === 0) return { acked: held, lastPos: 0 };
    const lastSeq = (fresh[fresh.length - 1] as FedItem).seq;
    const counters = await trx
      .updateTable('lines')
      .set({
        last_pos: sql<number>`last_pos + ${fresh.length}`,
        in_seq: lastSeq,
        peer_sent_seq: sql<number>`CASE WHEN peer_sent_seq < ${lastSeq} THEN ${lastSeq} ELSE peer_sent_seq END`,
        last_contact_at: now,
      })
      .where('id', '=', lineId)
      .returning(['last_pos'])
      .executeTakeFirstOrThrow();
    const firstPos = num(counters.last_pos) - fresh.length + 1;
    const rows: ItemsTable[] = fresh.map((it, k) => ({
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
    }));
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto('items')
        .values(rows.slice(i, i + 500))
        .execute();
    return { acked: lastSeq, lastPos: num(counters.last_pos) };
  });
  if (result.lastPos > 0) hub.emit({ type: 'items', lineId, lastPos: result.lastPos });
  return result.acked;
}

import type { ItemKind } from '@parley/protocol';
import { ParleyError } from '@parley/protocol';
import { sql } from 'kysely';
import type { Db } from '../db/open.js';
import type { ItemsTable } from '../db/schema.js';
import type { Hub } from './hub.js';
import { insertItems, num } from './line-store.js';
import { prepared } from '../db/prepared.js';

export interface OutgoingInput {
  lineId: string;
  kind: ItemKind;
  payload: Uint8Array;
  senderHandle: string;
  clientId: string | null;
  sentAt: number;
  /**
   * Items pipelined on one ordered channel (a WebSocket) share this. Once one of them fails,
   * every later one still queued fails too, so a retry can never land before an earlier item.
   */
  chain?: { failed: boolean };
}

interface Pending {
  input: OutgoingInput;
  resolve: (r: { row: ItemsTable; duplicate: boolean }) => void;
  reject: (e: unknown) => void;
}

/**
 * Accepts items from clients onto a line's outgoing stream with group commit: every send
 * that arrives while a transaction is on its way to disk joins the next one. Each item gets
 * its timeline position and sequence number in the same transaction that stores it, and its
 * promise resolves only after that transaction has committed (fsync), so "accepted" is never
 * said of something a crash could take back.
 */
export class Outbox {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly hub: Hub,
    private readonly maxBatch = 2000,
  ) {}

  append(input: OutgoingInput): Promise<{ row: ItemsTable; duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushing) {
        // Start on the next turn of the event loop, not now: every send already read off the
        // sockets in this turn joins the same transaction (one fsync for all of them).
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, this.maxBatch);
        const batch = taken.filter((p) => !p.input.chain?.failed);
        for (const p of taken) {
          if (p.input.chain?.failed) {
            p.reject(
              new ParleyError('UNAVAILABLE', 'an earlier item on this connection was not stored', 'resend from the first unanswered item'),
            );
          }
        }
        if (batch.length === 0) continue;
        try {
          const results = await this.commit(batch.map((p) => p.input));
          for (const [i, p] of batch.entries()) p.resolve(results[i] as { row: ItemsTable; duplicate: boolean });
          const touched = new Map<string, ItemsTable[]>();
          for (const r of results) {
            if (r.duplicate) continue;
            const list = touched.get(r.row.line_id) ?? [];
            list.push(r.row);
            touched.set(r.row.line_id, list);
          }
          // After the senders' own answers have gone out (they were queued first).
          process.nextTick(() => {
            for (const [lineId, rows] of touched) {
              rows.sort((a, b) => num(a.pos) - num(b.pos));
              this.hub.emit({ type: 'items', lineId, lastPos: num((rows[rows.length - 1] as ItemsTable).pos), rows });
              this.hub.emit({ type: 'outbox', lineId });
            }
          });
        } catch (e) {
          // Set before any later batch is taken: the flush loop runs one batch at a time.
          for (const p of batch) if (p.input.chain) p.input.chain.failed = true;
          for (const p of batch)
            p.reject(e instanceof ParleyError ? e : new ParleyError('UNAVAILABLE', 'the station could not store the item', 'try again'));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(inputs: OutgoingInput[]): Promise<{ row: ItemsTable; duplicate: boolean }[]> {
    const q = outboxQueries(this.db);
    return this.db.transaction().execute(async (trx) => {
      const results: ({ row: ItemsTable; duplicate: boolean } | undefined)[] = new Array(inputs.length);
      // Retries carry the same client id: answer them with the stored item, never a copy.
      const byLine = new Map<string, number[]>();
      const seenInBatch = new Map<string, number>();
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i] as OutgoingInput;
        if (input.clientId !== null) {
          const key = `${input.lineId}\u0000${input.senderHandle}\u0000${input.clientId}`;
          if (seenInBatch.has(key)) continue; // resolved below from its twin
          seenInBatch.set(key, i);
          const existing = await q.byClientId.first(trx, {
            lineId: input.lineId,
            handle: input.senderHandle,
            clientId: input.clientId,
          });
          if (existing) {
            results[i] = { row: existing, duplicate: true };
            continue;
          }
        }
        const list = byLine.get(input.lineId) ?? [];
        list.push(i);
        byLine.set(input.lineId, list);
      }
      const now = Date.now();
      const rows: ItemsTable[] = [];
      // Lines' counter rows are locked in one order (by id) in every transaction, so two processes
      // committing batches for the same lines can never deadlock on PostgreSQL.
      for (const [lineId, indexes] of [...byLine].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const n = indexes.length;
        const counters = await q.advance.first(trx, { lineId, n });
        if (!counters) throw new ParleyError('LINE_NOT_FOUND', 'the line no longer exists');
        const firstPos = num(counters.last_pos) - n + 1;
        const firstSeq = num(counters.out_seq) - n + 1;
        for (let k = 0; k < n; k++) {
          const idx = indexes[k] as number;
          const input = inputs[idx] as OutgoingInput;
          const row: ItemsTable = {
            line_id: lineId,
            pos: firstPos + k,
            dir: 'out',
            seq: firstSeq + k,
            kind: input.kind,
            payload: input.payload,
            sender_handle: input.senderHandle,
            client_id: input.clientId,
            sent_at: input.sentAt,
            stored_at: now,
          };
          rows.push(row);
          results[idx] = { row, duplicate: false };
        }
      }
      await insertItems(this.db, trx, rows);
      for (let i = 0; i < inputs.length; i++) {
        if (results[i]) continue;
        const input = inputs[i] as OutgoingInput;
        const twin = seenInBatch.get(`${input.lineId}\u0000${input.senderHandle}\u0000${input.clientId}`) as number;
        results[i] = { row: (results[twin] as { row: ItemsTable }).row, duplicate: true };
      }
      return results as { row: ItemsTable; duplicate: boolean }[];
    });
  }
}

function outboxQueries(db: Db) {
  return {
    byClientId: prepared<{ lineId: string; handle: string; clientId: string }, ItemsTable>(db, 'outbox.byClientId', (db, p) =>
      db
        .selectFrom('items')
        .selectAll()
        .where('line_id', '=', p('lineId'))
        .where('dir', '=', 'out')
        .where('sender_handle', '=', p('handle'))
        .where('client_id', '=', p('clientId')),
    ),
    advance: prepared<{ lineId: string; n: number }, { last_pos: number; out_seq: number }>(db, 'outbox.advance', (db, p) =>
      db
        .updateTable('lines')
        .set({ last_pos: sql<number>`last_pos + ${p('n')}`, out_seq: sql<number>`out_seq + ${p('n')}` })
        .where('id', '=', p('lineId'))
        .returning(['last_pos', 'out_seq']),
    ),
  };
}

import { type CosignedHead, entryLeafHash, type RecordEntry, RecordLog, type Side } from '@parley/record';
import { derivedTransaction } from '../db/derived-writes.js';
import type { Db } from '../db/open.js';
import type { RecordAlarmsTable } from '../db/schema.js';
import { num } from '../lines/line-store.js';

// Storage of a line's joint record. The fold's cursor moves in the same transaction as the
// entries it produced (compare-and-swap on the cursor, so two processes that both believe they
// hold the line cannot both append): kill -9 at any point leaves either both or neither.

/** Entries read per step when a line's record is loaded. */
const LOAD_PAGE = 500;

export interface StoredRecord {
  log: RecordLog;
  foldedSeq: number;
  holdFrom: number | null;
  /** Heads as stored (own signature, and the peer's once it matched), by size. */
  heads: Map<number, CosignedHead>;
  /** Entries whose stored leaf hash is not the hash of the stored entry (a changed row). */
  changedLeaves: number[];
}

/** Rebuild the line's record from the database. Throws if the stored entries do not form a log. */
export async function loadRecord(db: Db, lineId: string): Promise<StoredRecord> {
  const fold = await db.selectFrom('record_folds').selectAll().where('line_id', '=', lineId).executeTakeFirst();
  // Rules are checked as on append: the fold never stores an entry the log refuses.
  const log = new RecordLog(lineId);
  const changedLeaves: number[] = [];
  // A busy line's record grows by about an entry a second: read it a page at a time and let the
  // event loop deliver items between pages, so a restart never holds the line up while it loads.
  for (let from = 0; ; ) {
    const rows = await db
      .selectFrom('record_entries')
      .selectAll()
      .where('line_id', '=', lineId)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(LOAD_PAGE)
      .execute();
    for (const r of rows) {
      const entry = JSON.parse(r.entry) as RecordEntry;
      const leaf = log.append(entry);
      if (Buffer.compare(Buffer.from(leaf), Buffer.from(r.leaf_hash)) !== 0) changedLeaves.push(num(r.idx));
    }
    if (rows.length < LOAD_PAGE) break;
    from = num((rows[rows.length - 1] as (typeof rows)[number]).idx) + 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const heads = new Map<number, CosignedHead>();
  for (const h of await db.selectFrom('record_heads').selectAll().where('line_id', '=', lineId).orderBy('size').execute()) {
    heads.set(num(h.size), headOfRow(lineId, h));
  }
  return {
    log,
    foldedSeq: num(fold?.folded_seq ?? 0),
    holdFrom: fold?.hold_from === null || fold?.hold_from === undefined ? null : num(fold.hold_from),
    heads,
    changedLeaves,
  };
}

function headOfRow(
  lineId: string,
  h: { size: number; root_hash: string; at: string; sig_inviter: string | null; sig_acceptor: string | null },
): CosignedHead {
  return {
    head: { lineId, size: num(h.size), rootHash: h.root_hash, at: h.at },
    signatures: {
      ...(h.sig_inviter ? { inviter: h.sig_inviter } : {}),
      ...(h.sig_acceptor ? { acceptor: h.sig_acceptor } : {}),
    },
  };
}

/**
 * Store entries folded from the hub's stream up to `toSeq`, if the cursor is still at
 * `fromSeq`. False when another process moved it first (then reload).
 */
export async function storeFolded(
  db: Db,
  lineId: string,
  fromSeq: number,
  toSeq: number,
  entries: readonly RecordEntry[],
  holdFrom: number | null,
): Promise<boolean> {
  // The fold is redone from the hub's stream if a power cut takes it.
  return derivedTransaction(db, async (trx) => {
    if (fromSeq === 0) {
      await trx
        .insertInto('record_folds')
        .values({ line_id: lineId, folded_seq: 0, hold_from: null })
        .onConflict((oc) => oc.column('line_id').doNothing())
        .execute();
    }
    const res = await trx
      .updateTable('record_folds')
      .set({ folded_seq: toSeq, hold_from: holdFrom })
      .where('line_id', '=', lineId)
      .where('folded_seq', '=', fromSeq)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    for (const e of entries) {
      await trx
        .insertInto('record_entries')
        .values({ line_id: lineId, idx: e.index, entry: JSON.stringify(e), leaf_hash: entryLeafHash(e) })
        .execute();
    }
    return true;
  });
}

/** Keep a signature on a head of our log (ours, or the peer's once it matched ours). */
export async function storeHeadSignature(db: Db, head: CosignedHead['head'], side: Side, signature: string): Promise<void> {
  const column = side === 'inviter' ? 'sig_inviter' : 'sig_acceptor';
  // Signing the same head again gives the same signature: one lost to a power cut is redone.
  await derivedTransaction(db, (trx) =>
    trx
      .insertInto('record_heads')
      .values({
        line_id: head.lineId,
        size: head.size,
        root_hash: head.rootHash,
        at: head.at,
        sig_inviter: side === 'inviter' ? signature : null,
        sig_acceptor: side === 'acceptor' ? signature : null,
      })
      .onConflict((oc) =>
        oc
          .columns(['line_id', 'size'])
          .doUpdateSet({ [column]: signature })
          // Never put a signature beside another root than the one it signs.
          .where('record_heads.root_hash', '=', head.rootHash)
          .where('record_heads.at', '=', head.at),
      )
      .execute(),
  );
}

export async function cosignedHeads(db: Db, lineId: string): Promise<CosignedHead[]> {
  const rows = await db
    .selectFrom('record_heads')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('sig_inviter', 'is not', null)
    .where('sig_acceptor', 'is not', null)
    .orderBy('size')
    .execute();
  return rows.map((r) => headOfRow(lineId, r));
}

export type AlarmReason = 'PEER_HEAD_INCONSISTENT' | 'RECEIPT_MISMATCH' | 'LINK_MISMATCH' | 'LOCAL_RECORD_CHANGED' | 'ENTRY_IN_FUTURE';

/** Store an alarm once per key. True when it is new. */
export async function raiseAlarm(
  db: Db,
  lineId: string,
  key: string,
  reason: AlarmReason,
  detail: string,
  evidence: unknown,
  at = Date.now(),
): Promise<boolean> {
  const res = await db
    .insertInto('record_alarms')
    .values({
      line_id: lineId,
      alarm_key: key.slice(0, 300),
      at,
      reason,
      detail: detail.slice(0, 2000),
      evidence: JSON.stringify(evidence),
    })
    .onConflict((oc) => oc.columns(['line_id', 'alarm_key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

export interface RecordAlarm {
  at: number;
  reason: AlarmReason;
  detail: string;
  evidence: unknown;
}

export async function alarmsOf(db: Db, lineId: string): Promise<RecordAlarm[]> {
  const rows = await db.selectFrom('record_alarms').selectAll().where('line_id', '=', lineId).orderBy('at').execute();
  return rows.map((r: RecordAlarmsTable) => ({
    at: num(r.at),
    reason: r.reason as AlarmReason,
    detail: r.detail,
    evidence: JSON.parse(r.evidence) as unknown,
  }));
}

export async function alarmCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('record_alarms')
    .select(['line_id', db.fn.countAll<number>().as('n')])
    .groupBy('line_id')
    .execute();
  return new Map(rows.map((r) => [r.line_id, num(r.n)]));
}

/** How many joint-record alarms a line has raised (shown with the line's health). */
export async function alarmCount(db: Db, lineId: string): Promise<number> {
  const row = await db
    .selectFrom('record_alarms')
    .select(db.fn.countAll<number>().as('n'))
    .where('line_id', '=', lineId)
    .executeTakeFirst();
  return num(row?.n ?? 0);
}

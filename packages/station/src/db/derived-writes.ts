import { type Kysely, sql, type Transaction } from 'kysely';
import { isPostgres } from './migrations.js';
import type { Db } from './open.js';
import { rawSqliteOf } from './prepared.js';
import type { Database } from './schema.js';

/**
 * A transaction for data the station can rebuild from what it already holds durably (the
 * recorder's archive and group state, the joint record's fold and heads): its commit does not
 * wait for the disk. Nothing is lost on a crash of the station process; on a power cut only
 * these writes since the last ordinary commit can go, and they are redone from the timeline.
 * Order is kept: both databases write one log, so the next ordinary (fsynced) commit makes
 * every earlier one durable too, and nothing depending on them is ever acknowledged first.
 *
 * Why: such writes came after every delivered item, and each waited for an fsync on the same
 * event loop that delivers the next item: the tail of the delivery latency.
 *
 * SQLite may not change its safety level inside a transaction, so the connection is held
 * around it (prepared fast-path statements queue meanwhile); PostgreSQL sets it per transaction.
 */
export async function derivedTransaction<T>(db: Db, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (isPostgres(db as unknown as Kysely<unknown>)) {
    return db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      return fn(trx);
    });
  }
  const raw = rawSqliteOf(db);
  if (!raw) return db.transaction().execute(fn);
  return db.connection().execute(async (conn) => {
    raw.held = true;
    raw.setSynchronous('NORMAL');
    try {
      return await conn.transaction().execute(fn);
    } finally {
      raw.setSynchronous('FULL');
      raw.held = false;
    }
  });
}

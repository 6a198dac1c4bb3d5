import type { Db } from '../db/open.js';

/**
 * A time-limited claim in the database. With several station processes on one PostgreSQL
 * database, exactly one process at a time should run a line's forwarder and heartbeats; the
 * holder renews its lease well before it expires, and if it dies another process takes over
 * once the lease runs out. Two holders overlapping for a moment is harmless (the peer drops
 * duplicate items), so the lease needs no fencing.
 */
export async function tryLease(db: Db, name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
  const row = await db
    .insertInto('leases')
    .values({ name, holder, expires_at: now + ttlMs })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, expires_at: now + ttlMs })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now)])),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === holder;
}

export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

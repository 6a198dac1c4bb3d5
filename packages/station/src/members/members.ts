import { type Member, ParleyError, RECORDER_HANDLE, type Role } from '@parley/protocol';
import type { Db } from '../db/open.js';
import type { MembersTable } from '../db/schema.js';
import { hashSecret, newId, newSecret } from '../ids.js';
import { decoyHash, hashPassword, verifyPassword } from '../auth/password.js';

export const ENROLLMENT_TTL_MS = 7 * 24 * 3600_000;

export function toMember(row: MembersTable): Member {
  return {
    handle: row.handle,
    name: row.display_name,
    role: row.role as Role,
    enrolled: row.password_hash !== null,
    createdAt: Number(row.created_at),
  };
}

export async function addMember(
  db: Db,
  input: { handle: string; name: string; role: Role },
  now = Date.now(),
): Promise<{ member: Member; secret: string }> {
  if (input.handle === RECORDER_HANDLE) {
    throw new ParleyError('HANDLE_TAKEN', `"${RECORDER_HANDLE}" is reserved for the station's recorder device`, 'choose another --handle');
  }
  const secret = newSecret();
  const row: MembersTable = {
    id: newId(),
    handle: input.handle,
    display_name: input.name,
    role: input.role,
    password_hash: null,
    enroll_secret_hash: hashSecret(secret),
    enroll_expires_at: now + ENROLLMENT_TTL_MS,
    created_at: now,
  };
  const inserted = await db
    .insertInto('members')
    .values(row)
    .onConflict((oc) => oc.column('handle').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
    throw new ParleyError('HANDLE_TAKEN', `a member with handle "${input.handle}" already exists`, 'choose another --handle');
  }
  return { member: toMember(row), secret };
}

/** Issue a fresh enrollment secret (lost secret, or a member who must set a new password). */
export async function resetEnrollment(db: Db, handle: string, now = Date.now()): Promise<string> {
  const secret = newSecret();
  const res = await db
    .updateTable('members')
    .set({ enroll_secret_hash: hashSecret(secret), enroll_expires_at: now + ENROLLMENT_TTL_MS })
    .where('handle', '=', handle)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new ParleyError('NOT_FOUND', `no member with handle "${handle}"`);
  return secret;
}

export async function listMembers(db: Db): Promise<Member[]> {
  const rows = await db.selectFrom('members').selectAll().orderBy('handle').execute();
  return rows.map(toMember);
}

export async function memberByHandle(db: Db, handle: string): Promise<MembersTable | undefined> {
  return db.selectFrom('members').selectAll().where('handle', '=', handle).executeTakeFirst();
}

/**
 * Use a one-time enrollment secret: set the password and register the first device. The
 * secret is cleared in the same statement that checks it, so two racing enrollments cannot
 * both succeed.
 */
export async function enroll(
  db: Db,
  input: { handle: string; secret: string; password: string; device: string },
  now = Date.now(),
): Promise<{ member: MembersTable; deviceId: string }> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('members')
      .set({ password_hash: passwordHash, enroll_secret_hash: null, enroll_expires_at: null })
      .where('handle', '=', input.handle)
      .where('enroll_secret_hash', '=', hashSecret(input.secret))
      .where('enroll_expires_at', '>', now)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      throw new ParleyError(
        'ENROLLMENT_INVALID',
        'this enrollment secret is not valid: it was already used, has expired, or does not belong to this handle',
        'ask your station administrator for a new one (`parley member reset`)',
      );
    }
    const member = await trx.selectFrom('members').selectAll().where('handle', '=', input.handle).executeTakeFirstOrThrow();
    const deviceId = newId();
    await trx.insertInto('devices').values({ id: deviceId, member_id: member.id, name: input.device, created_at: now }).execute();
    return { member, deviceId };
  });
}

/** Returns the member when the password matches; spends the same time when the handle is unknown. */
export async function checkPassword(db: Db, handle: string, password: string): Promise<MembersTable | undefined> {
  const member = await memberByHandle(db, handle);
  if (!member?.password_hash) {
    await verifyPassword(password, await decoyHash());
    return undefined;
  }
  return (await verifyPassword(password, member.password_hash)) ? member : undefined;
}

export async function addDevice(db: Db, memberId: string, name: string, now = Date.now()): Promise<string> {
  const id = newId();
  await db.insertInto('devices').values({ id, member_id: memberId, name, created_at: now }).execute();
  return id;
}

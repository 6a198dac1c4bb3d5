import type { Db } from '../db/open.js';
import type { MembersTable } from '../db/schema.js';
import { hashSecret, newSecret } from '../ids.js';

export type SessionKind = 'cookie' | 'bearer';

const TTL: Record<SessionKind, number> = { cookie: 12 * 3600_000, bearer: 30 * 24 * 3600_000 };

export async function createSession(
  db: Db,
  memberId: string,
  deviceId: string,
  kind: SessionKind,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const token = newSecret();
  const expiresAt = now + TTL[kind];
  await db
    .insertInto('sessions')
    .values({ token_hash: hashSecret(token), member_id: memberId, device_id: deviceId, kind, created_at: now, expires_at: expiresAt })
    .execute();
  return { token, expiresAt };
}

export interface AuthContext {
  member: MembersTable;
  deviceId: string;
  tokenHash: string;
  expiresAt: number;
}

export async function resolveSession(db: Db, token: string, now = Date.now()): Promise<AuthContext | undefined> {
  const tokenHash = hashSecret(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('members', 'members.id', 'sessions.member_id')
    .selectAll('members')
    .select(['sessions.device_id', 'sessions.expires_at'])
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row || Number(row.expires_at) <= now) return undefined;
  const { device_id, expires_at, ...member } = row;
  return { member, deviceId: device_id, tokenHash, expiresAt: Number(expires_at) };
}

export async function endSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

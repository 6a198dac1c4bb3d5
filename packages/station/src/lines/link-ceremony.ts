import {
  fromBase64url,
  Invitation,
  type InvitationBody,
  type LinkRequest,
  LinkResponse,
  ParleyError,
  parseWith,
  type Seat,
  type StationInfo,
  checkLangList,
  storedLangs,
  safetyNumber,
  stationFingerprint,
  type Role,
} from '@parley/protocol';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import { fedPostTo } from '../federation/fed-client.js';
import { verifySignature } from '../identity/station-key.js';
import { hashSecret, newId, newSecret } from '../ids.js';

export const INVITATION_PREFIX = 'parley1.';
export const DEFAULT_INVITATION_TTL_MS = 24 * 3600_000;

function stationInfo(data: DataDir): StationInfo {
  return { name: data.config.name, publicKey: Buffer.from(data.key.publicKey).toString('base64url'), urls: data.config.urls };
}

async function resolveSeats(db: Db, handles: string[]): Promise<{ ids: string[]; seats: Seat[] }> {
  const ids: string[] = [];
  const seats: Seat[] = [];
  for (const handle of handles) {
    const m = await db.selectFrom('members').selectAll().where('handle', '=', handle).executeTakeFirst();
    if (!m) throw new ParleyError('NOT_FOUND', `no member with handle "${handle}"`, 'add them with `parley member add` first');
    ids.push(m.id);
    seats.push({ handle: m.handle, name: m.display_name, role: m.role as Role });
  }
  return { ids, seats };
}

async function assertNameFree(db: Db, name: string): Promise<void> {
  const taken = await db.selectFrom('lines').select('id').where('name', '=', name).executeTakeFirst();
  const pending = await db
    .selectFrom('invitations')
    .select('id')
    .where('line_name', '=', name)
    .where('used_at', 'is', null)
    .where('expires_at', '>', Date.now())
    .executeTakeFirst();
  if (taken || pending)
    throw new ParleyError('LINE_EXISTS', `a line named "${name}" already exists or is being invited`, 'choose another --line');
}

/** Make an invitation: the text the operator hands to the other station's operator. */
export async function createInvitation(
  db: Db,
  data: DataDir,
  input: { line: string; seats: string[]; ttlMs?: number; langs?: string[] },
  now = Date.now(),
): Promise<{ text: string; body: InvitationBody }> {
  await assertNameFree(db, input.line);
  await resolveSeats(db, input.seats);
  const secret = newSecret();
  const body: InvitationBody = {
    v: 1,
    invitationId: newId(),
    secret,
    line: { id: newId(), name: input.line },
    station: stationInfo(data),
    expiresAt: now + (input.ttlMs ?? DEFAULT_INVITATION_TTL_MS),
  };
  const langs = input.langs ? checkLangList(input.langs) : undefined;
  if (langs) body.langs = langs;
  await db
    .insertInto('invitations')
    .values({
      id: body.invitationId,
      line_id: body.line.id,
      line_name: input.line,
      secret_hash: hashSecret(secret),
      seats: JSON.stringify(input.seats),
      expires_at: body.expiresAt,
      used_at: null,
      created_at: now,
      langs: langs ? JSON.stringify(langs) : null,
    })
    .execute();
  const bodyBytes = Buffer.from(JSON.stringify(body));
  const sig = data.key.sign(bodyBytes);
  return { text: `${INVITATION_PREFIX}${bodyBytes.toString('base64url')}.${Buffer.from(sig).toString('base64url')}`, body };
}

/** Parse and check an invitation's own signature. Says nothing yet about who made it. */
export function readInvitation(text: string): InvitationBody {
  const tampered = () =>
    new ParleyError('INVITATION_TAMPERED', 'this invitation is damaged or was altered', 'ask for it to be sent again, unchanged');
  const trimmed = text.trim();
  if (!trimmed.startsWith(INVITATION_PREFIX)) throw tampered();
  const [b64, sigB64, ...rest] = trimmed.slice(INVITATION_PREFIX.length).split('.');
  if (!b64 || !sigB64 || rest.length > 0) throw tampered();
  const bodyBytes = fromBase64url(b64);
  const sig = fromBase64url(sigB64);
  if (!bodyBytes || !sig) throw tampered();
  let body: InvitationBody;
  try {
    body = parseWith(Invitation.properties.body, JSON.parse(Buffer.from(bodyBytes).toString('utf8')), 'invitation');
  } catch {
    throw tampered();
  }
  const key = fromBase64url(body.station.publicKey);
  if (!key || !verifySignature(key, bodyBytes, sig)) throw tampered();
  return body;
}

async function insertLine(
  db: Db,
  line: { id: string; name: string; role: 'inviter' | 'acceptor' },
  peer: StationInfo,
  seatIds: string[],
  peerSeats: Seat[],
  now: number,
  langs: { own: string[] | undefined; peer: string[] | undefined },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('lines')
      .values({
        id: line.id,
        name: line.name,
        role: line.role,
        peer_name: peer.name,
        peer_public_key: fromBase64url(peer.publicKey) as Uint8Array,
        peer_urls: JSON.stringify(peer.urls),
        created_at: now,
        last_pos: 0,
        out_seq: 0,
        out_acked: 0,
        in_seq: 0,
        peer_sent_seq: 0,
        // The ceremony itself is the first contact.
        last_contact_at: now,
        health: null,
        health_at: null,
        endpoints: null,
        own_langs: langs.own ? JSON.stringify(langs.own) : null,
        peer_langs: langs.peer ? JSON.stringify(langs.peer) : null,
      })
      .execute();
    for (const member_id of seatIds) await trx.insertInto('seats').values({ line_id: line.id, member_id }).execute();
    for (const s of peerSeats) {
      await trx.insertInto('peer_seats').values({ line_id: line.id, handle: s.handle, display_name: s.name, role: s.role }).execute();
    }
  });
}

/**
 * The inviting station's half, run when the accepting station presents the invitation.
 * The caller has already checked the request was signed by `req.station.publicKey`.
 */
export async function answerLinkRequest(db: Db, data: DataDir, req: LinkRequest, now = Date.now()): Promise<LinkResponse> {
  const inv = await db.selectFrom('invitations').selectAll().where('id', '=', req.invitationId).executeTakeFirst();
  if (!inv || inv.secret_hash !== hashSecret(req.secret) || inv.line_id !== req.lineId) {
    throw new ParleyError('INVITATION_INVALID', 'no such invitation on this station, or it was altered');
  }
  const ours = await resolveSeats(db, JSON.parse(inv.seats) as string[]);
  const ownLangs = inv.langs === null ? undefined : storedLangs(inv.langs);
  const response: LinkResponse = { lineId: inv.line_id, lineName: inv.line_name, station: stationInfo(data), seats: ours.seats };
  if (ownLangs) response.langs = ownLangs;
  if (inv.used_at !== null) {
    // A retry by the same station (its first answer was lost) gets the same answer; anyone else is refused.
    const line = await db.selectFrom('lines').selectAll().where('id', '=', inv.line_id).executeTakeFirst();
    if (line && Buffer.from(line.peer_public_key).toString('base64url') === req.station.publicKey) return response;
    throw new ParleyError('INVITATION_USED', 'this invitation was already used', 'ask for a new invitation');
  }
  if (Number(inv.expires_at) <= now) throw new ParleyError('INVITATION_EXPIRED', 'this invitation has expired', 'ask for a new invitation');
  if (req.station.publicKey === response.station.publicKey) {
    throw new ParleyError('INVITATION_INVALID', 'a station cannot open a line to itself');
  }
  const claimed = await db
    .updateTable('invitations')
    .set({ used_at: now })
    .where('id', '=', inv.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw new ParleyError('INVITATION_USED', 'this invitation was already used');
  await insertLine(db, { id: inv.line_id, name: inv.line_name, role: 'inviter' }, req.station, ours.ids, req.seats, now, {
    own: ownLangs,
    peer: req.langs,
  });
  return response;
}

/** The accepting station's half: present the invitation to the inviter, then pin its key. */
export async function acceptInvitation(
  db: Db,
  data: DataDir,
  input: { invitation: string; seats: string[]; name?: string; langs?: string[] },
  now = Date.now(),
): Promise<{
  lineName: string;
  safetyNumber: string;
  peer: { name: string; fingerprint: string };
  languages: { ours: string[]; peer: string[] };
}> {
  const inv = readInvitation(input.invitation);
  if (inv.expiresAt <= now) throw new ParleyError('INVITATION_EXPIRED', 'this invitation has expired', 'ask for a new invitation');
  const name = input.name ?? inv.line.name;
  const existing = await db.selectFrom('lines').selectAll().where('id', '=', inv.line.id).executeTakeFirst();
  if (existing) throw new ParleyError('INVITATION_USED', `this invitation was already accepted as line "${existing.name}"`);
  await assertNameFree(db, name);
  const ours = await resolveSeats(db, input.seats);
  const peerKey = fromBase64url(inv.station.publicKey) as Uint8Array;
  const req: LinkRequest = {
    invitationId: inv.invitationId,
    secret: inv.secret,
    lineId: inv.line.id,
    station: stationInfo(data),
    seats: ours.seats,
  };
  if (input.langs) req.langs = checkLangList(input.langs);
  let res: LinkResponse | undefined;
  let lastError: unknown;
  for (const url of inv.station.urls) {
    try {
      res = await fedPostTo(data.key, peerKey, url, 'fed/v1/link', req, LinkResponse);
      break;
    } catch (e) {
      lastError = e;
      if (!(e instanceof ParleyError) || e.code !== 'PEER_UNREACHABLE') throw e;
    }
  }
  if (!res) throw lastError;
  if (res.station.publicKey !== inv.station.publicKey || res.lineId !== inv.line.id) {
    throw new ParleyError('INVITATION_TAMPERED', 'the inviting station answered with a different identity than its invitation');
  }
  // The inviter's answer says its languages as it holds them now; the invitation, as they were.
  await insertLine(db, { id: inv.line.id, name, role: 'acceptor' }, res.station, ours.ids, res.seats, now, {
    own: req.langs,
    peer: res.langs ?? inv.langs,
  });
  return {
    lineName: name,
    safetyNumber: safetyNumber(data.key.publicKey, peerKey),
    peer: { name: res.station.name, fingerprint: stationFingerprint(peerKey) },
    languages: { ours: req.langs ?? [], peer: res.langs ?? inv.langs ?? [] },
  };
}

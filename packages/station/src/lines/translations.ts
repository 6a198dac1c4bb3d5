import { peekMessage } from '@parley/e2ee';
import { checkMemberItem } from '@parley/e2ee/frames';
import {
  encodeLineEvent,
  knownLang,
  type FedItem,
  type MessageRef,
  ParleyError,
  TranslationItemPayload,
  type TranslationRequest,
  decodeLineEvent,
  parseWith,
} from '@parley/protocol';
import type { Db } from '../db/open.js';
import type { MembersTable } from '../db/schema.js';
import type { StationContext } from '../station-context.js';
import { type LineRow, peerSeatsOf } from './line-store.js';

// Translations (issue 9): an interpreter's rendering of a message, end-to-end encrypted, with the
// original it renders and its language in the clear, so both stations can refuse a translation
// of nothing, or by someone who is not an interpreter, before anything is stored.

type Side = MessageRef['side'];

function ourSide(line: LineRow): Side {
  return line.role === 'inviter' ? 'inviter' : 'acceptor';
}

/** Whether `ref` names a member's message (an MLS application message) this station holds. */
async function isMessage(db: Db, line: LineRow, ref: MessageRef): Promise<boolean> {
  const row = await db
    .selectFrom('items')
    .select(['kind', 'payload'])
    .where('line_id', '=', line.id)
    .where('dir', '=', ref.side === ourSide(line) ? 'out' : 'in')
    .where('seq', '=', ref.seq)
    .executeTakeFirst();
  if (row?.kind !== 'mls') return false;
  try {
    return peekMessage(new Uint8Array(row.payload)).kind === 'application';
  } catch {
    return false;
  }
}

/** A member of this station translates a message: checked, then appended to our stream. */
export async function translate(ctx: StationContext, line: LineRow, member: MembersTable, req: TranslationRequest) {
  if (member.role !== 'interpreter') {
    throw new ParleyError('NOT_INTERPRETER', `${member.handle} is not an interpreter`, 'an administrator gives the interpreter role');
  }
  // The wire takes any well-formed tag; from our own members, only a language that exists.
  if (!knownLang(req.lang)) throw new ParleyError('LANG_INVALID', `"${req.lang}" is not a known language tag`, 'use en, ru, zh-Hant …');
  const body = checkMemberItem(line.id, new Uint8Array(Buffer.from(req.body, 'base64url')));
  if (!body.ok) throw new ParleyError('NOT_ENCRYPTED', `the translation: ${body.reason}`);
  if (!(await isMessage(ctx.db, line, req.of))) {
    throw new ParleyError('NOT_FOUND', `no message ${req.of.side}:${req.of.seq} on this line`, 'translate a message shown in the line');
  }
  const payload: TranslationItemPayload = { of: req.of, lang: req.lang, body: req.body };
  return ctx.outbox.append({
    lineId: line.id,
    kind: 'translation',
    payload: Buffer.from(encodeLineEvent(payload), 'base64url'),
    senderHandle: member.handle,
    clientId: req.clientId,
    sentAt: Date.now(),
  });
}

/**
 * A translation on the peer's stream: well formed, by one of the peer's interpreters, of a
 * message we hold (or one earlier in the same batch).
 */
export async function checkPeerTranslation(db: Db, line: LineRow, item: FedItem, batch: readonly FedItem[]): Promise<string | null> {
  let t: TranslationItemPayload;
  try {
    t = parseWith(TranslationItemPayload, decodeLineEvent(item.payload), 'a translation');
  } catch (e) {
    return (e as Error).message;
  }
  const body = checkMemberItem(line.id, new Uint8Array(Buffer.from(t.body, 'base64url')));
  if (!body.ok) return `the translation: ${body.reason}`;
  const seat = (await peerSeatsOf(db, line.id)).find((s) => s.handle === item.sender);
  if (seat?.role !== 'interpreter') return `${item.sender} is not an interpreter on this line`;
  const peerSide: Side = ourSide(line) === 'inviter' ? 'acceptor' : 'inviter';
  if (t.of.side === peerSide && batch.some((b) => b.seq === t.of.seq && b.kind === 'mls')) return null;
  return (await isMessage(db, line, t.of)) ? null : `no message ${t.of.side}:${t.of.seq} on this line`;
}

import { checkLangList, FedLanguagesRequest, FedLanguagesResponse, ParleyError } from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import type { DataDir } from '../config/data-dir.js';
import type { Db } from '../db/open.js';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost } from '../federation/fed-client.js';
import { type LineRow, lineById, lineByName, lineLanguages, setOwnLangs, setPeerLangs } from './line-store.js';
import type { LinePeerGuard } from '../http/fed-line-guard.js';

// Working languages of a line (issue 9). Each station is the authority on its own side's
// languages; the peer keeps a copy. A change is stored first, then told to the peer signed; if
// the peer is away, the hub's roster sync (every couple of seconds, see station.ts and
// e2ee-plugin.ts) carries both sides' current lists and repairs the copy, so the two stations
// never stay apart once the line is up.

export interface LanguagesChange {
  line: string;
  languages: { ours: string[]; peer: string[] };
  /** Whether the peer station confirmed it holds the new list; if not, why (it learns it on the next sync). */
  peerTold: boolean;
  peerError: string | null;
}

/** An administrator changes our side's working languages (the admin CLI; the database directly). */
export async function changeLanguages(db: Db, data: DataDir, lineName: string, langs: readonly string[]): Promise<LanguagesChange> {
  const checked = checkLangList(langs);
  const line = await lineByName(db, lineName);
  await setOwnLangs(db, line.id, checked);
  let peerTold = false;
  let peerError: string | null = null;
  try {
    const res = await fedPost(
      data.key,
      line.peer_public_key,
      new Endpoints(JSON.parse(line.peer_urls) as string[]),
      `fed/v1/lines/${line.id}/languages`,
      { langs: checked } satisfies FedLanguagesRequest,
      FedLanguagesResponse,
      { timeoutMs: 3000 },
    );
    peerTold = res.peerLangs.join(',') === checked.join(',');
    // The peer's answer carries its own list too: a change we missed is repaired here.
    await setPeerLangs(db, line.id, res.langs);
  } catch (e) {
    peerError = e instanceof ParleyError ? `${e.message} [${e.code}]` : (e as Error).message;
  }
  const fresh = (await lineById(db, line.id)) as LineRow;
  return { line: line.name, languages: lineLanguages(fresh), peerTold, peerError };
}

/** The peer tells us its side's working languages changed. Signed by the key pinned for the line. */
export function languagesFederationRoutes(
  app: FastifyInstance,
  { db }: { db: Db },
  { verify: verifyLinePeer, lineOf }: LinePeerGuard,
): void {
  app.post('/fed/v1/lines/:lineId/languages', { schema: { body: FedLanguagesRequest }, preValidation: verifyLinePeer }, async (req) => {
    const line = lineOf(req);
    // The schema checks each tag's form; this also refuses an empty list or a tag given twice.
    const langs = checkLangList((req.body as FedLanguagesRequest).langs);
    await setPeerLangs(db, line.id, langs);
    const fresh = (await lineById(db, line.id)) as LineRow;
    const now = lineLanguages(fresh);
    return { peerLangs: now.peer, langs: now.ours } satisfies FedLanguagesResponse;
  });
}

import {
  FED_CLOCK_WINDOW_MS,
  FED_HEADERS,
  FedLineParams,
  fromBase64url,
  Heartbeat,
  ItemsBatch,
  LinkRequest,
  ParleyError,
} from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { verifyRequest, signResponse } from '../federation/signing.js';
import { type NonceRecord, recordNonce, SeqGapError } from '../lines/inbox.js';
import { answerLinkRequest } from '../lines/link-ceremony.js';
import { acceptPeerBatch } from '../lines/peer-batch.js';
import { lineById, num, recordHeartbeat, type LineRow } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';
import { callsFederationRoutes } from './calls-plugin.js';
import { recordFederationRoutes } from './record-plugin.js';
import { readoutsFederationRoutes } from './readouts-plugin.js';
import { languagesFederationRoutes } from '../lines/languages.js';
import { e2eeFederationRoutes } from './e2ee-plugin.js';
import { toParleyError } from './errors.js';
import type { LinePeerGuard } from './fed-line-guard.js';
import { fedStreamRoute } from './fed-stream-route.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: Buffer | null;
    fedLine: LineRow | null;
    /** The request's nonce, when it is to be recorded with the work it carries. */
    fedNonce: NonceRecord | null;
  }
}

/**
 * The station-to-station API. Every request must be signed by a key this station pinned
 * (or, for the link ceremony, the key the request introduces, backed by the invitation's
 * one-time secret). Checks run before the body schema, so an unsigned request learns
 * nothing about what the station would accept. Every answer is signed too.
 */
export async function federationPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  const { db, data } = ctx;

  app.decorateRequest('rawBody', null);
  app.decorateRequest('fedLine', null);
  app.decorateRequest('fedNonce', null);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 8 * 1024 * 1024 }, (req, body, done) => {
    req.rawBody = body as Buffer;
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(new ParleyError('MALFORMED_JSON', 'request body is not valid JSON'), undefined);
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const nonce = req.headers[FED_HEADERS.nonce];
    if (typeof nonce !== 'string') return payload;
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : Buffer.alloc(0);
    void reply.header(FED_HEADERS.signature, signResponse(data.key, nonce, reply.statusCode, bytes));
    return bytes;
  });

  app.addHook('onError', async (_req, _reply, err) => {
    ctx.metrics.fedRefused.inc({ code: toParleyError(err).code });
  });

  async function verify(req: FastifyRequest, publicKey: Uint8Array, opts: { deferNonce?: boolean } = {}): Promise<void> {
    const h = req.headers;
    const timestamp = h[FED_HEADERS.timestamp];
    const nonce = h[FED_HEADERS.nonce];
    const signature = h[FED_HEADERS.signature];
    if (typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string' || !/^\d{1,16}$/.test(timestamp)) {
      throw new ParleyError('FED_UNSIGNED', 'federation requests must carry a timestamp, nonce and signature');
    }
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) throw new ParleyError('FED_UNSIGNED', 'malformed nonce');
    const path = req.url.split('?')[0] as string;
    if (!verifyRequest(publicKey, req.method, path, { timestamp, nonce, signature }, req.rawBody ?? Buffer.alloc(0))) {
      throw new ParleyError('FED_BAD_SIGNATURE', 'signature does not verify against the pinned station key');
    }
    const now = Date.now();
    if (Math.abs(now - Number(timestamp)) > FED_CLOCK_WINDOW_MS) {
      throw new ParleyError('FED_CLOCK_SKEW', 'request timestamp is outside the accepted window', 'check both stations\u2019 clocks');
    }
    // Nonces are remembered in the database for the whole window, so a replay is refused
    // even after a restart of this station.
    const stationKey = Buffer.from(publicKey).toString('base64url');
    if (opts.deferNonce) {
      // Recorded in the transaction that stores the request's items (see storeIncoming).
      req.fedNonce = { stationKey, nonce, expiresAt: now + 2 * FED_CLOCK_WINDOW_MS };
      return;
    }
    const res = await db
      .insertInto('fed_nonces')
      .values({ station_key: stationKey, nonce, expires_at: now + 2 * FED_CLOCK_WINDOW_MS })
      .onConflict((oc) => oc.columns(['station_key', 'nonce']).doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) !== 1) throw new ParleyError('FED_REPLAY', 'this request was already received');
  }

  /** For line routes: the signer must be the station pinned for that very line. */
  async function verifyLinePeer(req: FastifyRequest, opts: { deferNonce?: boolean } = {}): Promise<void> {
    const fp = req.headers[FED_HEADERS.station];
    if (typeof fp !== 'string') throw new ParleyError('FED_UNSIGNED', 'missing station header');
    const lineId = (req.params as { lineId?: unknown }).lineId;
    const line = typeof lineId === 'string' ? await lineById(db, lineId) : undefined;
    if (!line) throw new ParleyError('FED_WRONG_LINE', 'no such line between our stations');
    await verify(req, line.peer_public_key, opts);
    req.fedLine = line;
  }

  app.post(
    '/fed/v1/link',
    {
      schema: { body: LinkRequest },
      preValidation: async (req) => {
        const key = fromBase64url(((req.body ?? {}) as { station?: { publicKey?: string } }).station?.publicKey ?? '');
        if (key?.length !== 32) throw new ParleyError('FED_UNSIGNED', 'link request must carry the requesting station key');
        await verify(req, key);
      },
    },
    async (req) => {
      const res = await answerLinkRequest(db, data, req.body as LinkRequest);
      await ctx.lines.scan();
      return res;
    },
  );

  const peer: LinePeerGuard = { verify: (req) => verifyLinePeer(req), lineOf: (req) => req.fedLine as LineRow };

  app.post(
    '/fed/v1/lines/:lineId/items',
    { schema: { params: FedLineParams, body: ItemsBatch }, preValidation: (req) => verifyLinePeer(req, { deferNonce: true }) },
    async (req, reply) => {
      const line = req.fedLine as LineRow;
      const items = (req.body as ItemsBatch).items;
      const nonce = req.fedNonce as NonceRecord;
      try {
        return { ackedSeq: await acceptPeerBatch(ctx, line, items, nonce) };
      } catch (e) {
        // A refused request is remembered too: replaying it gets FED_REPLAY, like any replay.
        if (!(e instanceof ParleyError && e.code === 'FED_REPLAY')) await recordNonce(db, nonce).catch(() => false);
        if (e instanceof SeqGapError) {
          ctx.metrics.fedRefused.inc({ code: e.code });
          return reply.status(e.status).send({ ...e.toBody(), ackedSeq: e.ackedSeq });
        }
        throw e;
      }
    },
  );

  // PARLEY_FED_STREAM=off: answer as a station from before the stream (the upgrade is taken and
  // closed, no route wants it), so peers POST each batch; for a middlebox that breaks WebSocket
  // upgrades, and to test that fallback.
  if (process.env.PARLEY_FED_STREAM !== 'off') fedStreamRoute(app, ctx, peer.verify);

  app.post(
    '/fed/v1/lines/:lineId/heartbeat',
    { schema: { params: FedLineParams, body: Heartbeat }, preValidation: (req) => verifyLinePeer(req) },
    async (req) => {
      const line = req.fedLine as LineRow;
      const hb = req.body as Heartbeat;
      await recordHeartbeat(db, line.id, hb.sentSeq, hb.ackedSeq, Date.now());
      const fresh = (await lineById(db, line.id)) as LineRow;
      if (hb.ackedSeq < num(fresh.out_seq)) ctx.lines.runtime(line.id)?.kick();
      ctx.hub.emit({ type: 'health', lineId: line.id });
      return { sentSeq: num(fresh.out_seq), ackedSeq: num(fresh.in_seq), at: Date.now() };
    },
  );

  // The other capabilities' federation routes, each behind the same check that the signer is the line's peer.
  for (const routes of [
    e2eeFederationRoutes,
    callsFederationRoutes,
    recordFederationRoutes,
    readoutsFederationRoutes,
    languagesFederationRoutes,
  ]) {
    routes(app, ctx, peer);
  }
}

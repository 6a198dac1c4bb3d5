import { FedReadoutRequest, LineParams, ReadoutDraftRequest, ReadoutParams } from '@parley/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { seatedLine } from '../lines/line-store.js';
import { ReadoutDesk } from '../readouts/readout-desk.js';
import { readoutFeed, readoutFeedAtom, readoutFeedHtml } from '../readouts/readout-feed.js';
import type { StationContext } from '../station-context.js';
import { authenticator, who } from './authenticate.js';
import type { LinePeerGuard } from './fed-line-guard.js';

/**
 * Readouts: the press officers' client API (draft, list, publish) and the station's public feed
 * (`/public/readouts`, `.atom`, `.json`), readable by anyone without a login and from any origin,
 * so an observer's page elsewhere can put two stations' readouts side by side.
 */
export async function readoutsPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  const desk = new ReadoutDesk(ctx);
  app.decorateRequest('auth', null);
  const authed = { preHandler: authenticator(ctx.db) };
  const lineOf = (req: FastifyRequest) => seatedLine(ctx.db, who(req).member.id, (req.params as { line: string }).line);

  app.post('/api/v1/lines/:line/readouts', { ...authed, schema: { params: LineParams, body: ReadoutDraftRequest } }, async (req, reply) => {
    const line = await lineOf(req);
    const readout = await desk.draft(line, who(req).member, req.body as ReadoutDraftRequest);
    return reply.status(201).send({ readout });
  });

  app.get('/api/v1/lines/:line/readouts', { ...authed, schema: { params: LineParams } }, async (req) => {
    return { readouts: await desk.list(await lineOf(req)) };
  });

  // The client app sent the draft's text to the other side as an end-to-end encrypted message.
  app.post('/api/v1/lines/:line/readouts/:id/share', { ...authed, schema: { params: ReadoutParams } }, async (req) => {
    const line = await lineOf(req);
    return { readout: await desk.markShared(line, who(req).member, (req.params as ReadoutParams).id) };
  });

  app.post('/api/v1/lines/:line/readouts/:id/publish', { ...authed, schema: { params: ReadoutParams } }, async (req) => {
    const line = await lineOf(req);
    return { readout: await desk.publish(line, who(req).member, (req.params as ReadoutParams).id) };
  });

  const publicHeaders = (reply: FastifyReply, type: string) => {
    void reply.header('access-control-allow-origin', '*');
    void reply.header('cache-control', 'no-cache');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.type(type);
  };
  const baseUrl = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

  app.get('/public/readouts.json', async (_req, reply) => {
    publicHeaders(reply, 'application/json; charset=utf-8');
    return readoutFeed(ctx);
  });
  app.get('/public/readouts.atom', async (req, reply) => {
    publicHeaders(reply, 'application/atom+xml; charset=utf-8');
    return readoutFeedAtom(await readoutFeed(ctx), baseUrl(req));
  });
  app.get('/public/readouts', async (_req, reply) => {
    publicHeaders(reply, 'text/html; charset=utf-8');
    void reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
    return readoutFeedHtml(await readoutFeed(ctx));
  });
}

/** At the hub: the other station's press officer published a readout; the hub states it in the joint record. */
export function readoutsFederationRoutes(
  app: FastifyInstance,
  ctx: StationContext,
  { verify: verifyLinePeer, lineOf }: LinePeerGuard,
): void {
  const desk = new ReadoutDesk(ctx);
  app.post('/fed/v1/lines/:lineId/readouts', { schema: { body: FedReadoutRequest }, preValidation: verifyLinePeer }, async (req) => {
    await desk.stateFromPeer(lineOf(req), req.body as FedReadoutRequest);
    return { stated: true };
  });
}

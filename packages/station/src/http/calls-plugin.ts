import { type Call, type LineBooks, type LineStats, type PolicySummary, summarizePolicy, type TestRecord, talks } from '@parley/calls';
import { CallActionRequest, FedCallRequest, LineParams, ParleyError, TranslationRequest } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { iceServersFor, resolveIceSetting } from '../calls/ice-servers.js';
import { seatedLine, toItem } from '../lines/line-store.js';
import { translate } from '../lines/translations.js';
import type { StationContext } from '../station-context.js';
import { authenticator, who } from './authenticate.js';
import type { LinePeerGuard } from './fed-line-guard.js';

/** Calls as JSON: the book's Map becomes a list in request order. */
export function callsJson(
  books: LineBooks,
  stats: LineStats,
): { calls: Call[]; talks: ReturnType<typeof talks>; tests: TestRecord[]; stats: LineStats; policy: PolicySummary } {
  return {
    calls: [...books.calls.calls.values()],
    talks: talks(books.calls),
    tests: [...books.tests.tests.values()],
    stats,
    policy: summarizePolicy(books.policy),
  };
}

/** Client API for calls: act on a call (`POST`), and the line's calls and talks (`GET`). */
export async function callsClientPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  app.decorateRequest('auth', null);
  const authed = { preHandler: authenticator(ctx.db) };
  const lineOf = (req: FastifyRequest) => seatedLine(ctx.db, who(req).member.id, (req.params as { line: string }).line);
  // Checked at start: a bad setting stops the station (ICE_CONFIG_INVALID) rather than a call.
  const ice = resolveIceSetting(ctx.data.config.ice);

  /** The ICE servers (STUN, TURN with credentials minted for this member) for the web app's voice. */
  app.get('/api/v1/ice', authed, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return iceServersFor(ice, { station: ctx.data.config.name, handle: who(req).member.handle }, Date.now());
  });

  app.post('/api/v1/lines/:line/calls', { ...authed, schema: { params: LineParams, body: CallActionRequest } }, async (req) => {
    const line = await lineOf(req);
    const res = await ctx.calls.act(line, who(req).member, req.body as CallActionRequest);
    const books = await ctx.calls.books(line);
    const call = 'callId' in res.event ? (books.calls.calls.get(res.event.callId) ?? null) : null;
    const test = 'testId' in res.event ? (books.tests.tests.get(res.event.testId) ?? null) : null;
    const policy = res.event.action === 'policy_set' ? { policy: summarizePolicy(books.policy) } : {};
    return { event: res.event, seq: res.seq, duplicate: res.duplicate, call, ...(test ? { test } : {}), ...policy };
  });

  app.post('/api/v1/lines/:line/translations', { ...authed, schema: { params: LineParams, body: TranslationRequest } }, async (req) => {
    const line = await lineOf(req);
    const res = await translate(ctx, line, who(req).member, req.body as TranslationRequest);
    return { item: toItem(res.row, ctx.data.config.name, line.peer_name), duplicate: res.duplicate };
  });

  app.get('/api/v1/lines/:line/calls', { ...authed, schema: { params: LineParams } }, async (req) => {
    const line = await lineOf(req);
    const books = await ctx.calls.books(line);
    return callsJson(books, ctx.calls.stats(books));
  });
}

/** The hub's federation route: the other station passes on its members' call actions. */
export function callsFederationRoutes(app: FastifyInstance, ctx: StationContext, { verify: verifyLinePeer, lineOf }: LinePeerGuard): void {
  app.post('/fed/v1/lines/:lineId/calls', { schema: { body: FedCallRequest }, preValidation: verifyLinePeer }, async (req) => {
    const line = lineOf(req);
    if (line.role !== 'inviter') throw new ParleyError('FORBIDDEN', 'only the inviting station orders call events on this line');
    const body = req.body as FedCallRequest;
    return ctx.calls.orderFromPeer(line, body.event, body.body, body.clientId);
  });
}

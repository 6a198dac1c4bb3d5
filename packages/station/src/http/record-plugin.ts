import { LineParams } from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { seatedLine } from '../lines/line-store.js';
import { FedRecordHeadRequest } from '../record/record-wire.js';
import type { StationContext } from '../station-context.js';
import { authenticator, who } from './authenticate.js';
import type { LinePeerGuard } from './fed-line-guard.js';

const RecordQuery = Type.Object({ entries: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/**
 * The line's joint record for its members: size, root, the last head both stations signed,
 * and every alarm with its evidence (`?entries=true` adds the entries themselves).
 */
export async function recordClientPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  app.decorateRequest('auth', null);
  app.get(
    '/api/v1/lines/:line/record',
    { preHandler: authenticator(ctx.db), schema: { params: LineParams, querystring: RecordQuery } },
    async (req) => {
      const line = await seatedLine(ctx.db, who(req).member.id, (req.params as { line: string }).line);
      return ctx.record.status(line, { entries: (req.query as { entries?: boolean }).entries === true });
    },
  );
}

/** The peer's signed head of its fold of the line's record. */
export function recordFederationRoutes(app: FastifyInstance, ctx: StationContext, { verify: verifyLinePeer, lineOf }: LinePeerGuard): void {
  app.post('/fed/v1/lines/:lineId/record/heads', { schema: { body: FedRecordHeadRequest }, preValidation: verifyLinePeer }, async (req) =>
    ctx.record.receivePeerHead(lineOf(req), req.body as FedRecordHeadRequest),
  );
}

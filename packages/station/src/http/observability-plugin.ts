import type { FastifyInstance } from 'fastify';
import type { StationContext } from '../station-context.js';

export async function observabilityPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  app.get('/healthz', async () => {
    // A trivial query proves the database answers, not just that the process is alive.
    await ctx.db.selectFrom('members').select('id').limit(1).execute();
    return { status: 'ok', station: ctx.data.config.name, fingerprint: ctx.data.key.fingerprint };
  });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}

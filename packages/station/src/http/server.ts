import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { StationContext } from '../station-context.js';
import { adminApiPlugin } from './admin-api-plugin.js';
import { sessionCookieName } from './authenticate.js';
import { clientApiPlugin } from './client-api-plugin.js';
import { installErrorHandling } from './errors.js';
import { federationPlugin } from './federation-plugin.js';
import { callsClientPlugin } from './calls-plugin.js';
import { recordClientPlugin } from './record-plugin.js';
import { readoutsPlugin } from './readouts-plugin.js';
import { e2eeClientPlugin } from './e2ee-plugin.js';
import { observabilityPlugin } from './observability-plugin.js';
import { resolveTrustProxy } from './trust-proxy.js';
import { validatorCompiler } from './validation.js';
import { webPlugin } from './web-plugin.js';

export interface ServerOptions {
  /** Extra plugins (the web app) registered after the APIs. */
  extra?: (app: FastifyInstance) => Promise<void>;
}

/** One HTTP listener of the station. A station with several advertised URLs runs one per URL. */
export async function buildServer(ctx: StationContext, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const proxies = resolveTrustProxy(ctx.data.config.trustProxy);
  const app = Fastify({
    // Only the listed proxies' X-Forwarded-For sets req.ip (the login throttle's per-address key).
    ...(proxies.length > 0 ? { trustProxy: proxies } : {}),
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    // Per-request lines would drown the log at line throughput; refusals are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // The federation API rejects anything but its own closed schemas; these protect parsing.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  await app.register(cookie);
  app.decorate('parleySessionCookie', sessionCookieName(ctx.data.config.name, ctx.data.key.fingerprint));
  // Frames up to 2 MiB: a batch of the peer's stream (federation/fed-stream.ts) is up to 1 MiB.
  await app.register(websocket, { options: { maxPayload: 2 * 1024 * 1024 } });
  await app.register(observabilityPlugin, { ctx });
  await app.register(clientApiPlugin, { ctx });
  await app.register(federationPlugin, { ctx });
  await app.register(e2eeClientPlugin, { ctx });
  await app.register(callsClientPlugin, { ctx });
  await app.register(recordClientPlugin, { ctx });
  await app.register(readoutsPlugin, { ctx });
  await app.register(adminApiPlugin, { ctx });
  await app.register(webPlugin, { ctx });
  if (opts.extra) await opts.extra(app);
  return app;
}

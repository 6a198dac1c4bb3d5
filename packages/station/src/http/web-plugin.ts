import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { StationContext } from '../station-context.js';

/**
 * Where `npm run build` puts the officers' web app (packages/web/dist/app). Found through the
 * package rather than this file's place, which differs when the CLI runs bundled.
 */
export const DEFAULT_WEB_DIR = join(dirname(createRequire(import.meta.url).resolve('@parley/web/package.json')), 'dist/app/');

/** Paths that belong to the station's APIs: an unknown one must get the API's JSON 404, never the app. */
const API_PATH = /^\/(?:api|fed)(?:\/|$)|^\/(?:healthz|metrics)(?:\/|$)/;

// The app is served from the station's own origin, so its session cookie and WebSocket need no
// CORS. The policy allows only the app's own scripts and connections back to this station.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

// The observer page (/observer, no login) reads two stations' public readout feeds, wherever
// they are: only that page may connect elsewhere, and only to read (the feeds are public).
const OBSERVER_CSP = CSP.replace("connect-src 'self'", "connect-src 'self' https: http:");

function securityHeaders(reply: FastifyReply, csp = CSP): void {
  void reply.header('content-security-policy', csp);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
}

/**
 * Serves the web app's bundle and, for any other GET outside the APIs, its index.html, so a
 * reload on /lines/chiefs-of-staff opens that page (single-page app fallback). The bundle is
 * looked up per request: a station started before `npm run build` serves the app once it is built.
 */
export async function webPlugin(app: FastifyInstance, opts: { ctx: StationContext; dir?: string }): Promise<void> {
  const root = opts.dir ?? process.env.PARLEY_WEB_DIR ?? DEFAULT_WEB_DIR;
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    opts.ctx.log.warn({ dir: root }, 'the web app is not built, so this station serves only its APIs; run `npm run build`');
  }
  // serve: false: this plugin routes itself (the fallback must not shadow the APIs); the static
  // plugin only provides reply.sendFile with its path and range handling.
  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny' });

  app.get('/*', async (req, reply) => {
    const rawPath = req.url.split('?')[0] ?? '/';
    if (API_PATH.test(rawPath)) return reply.callNotFound();
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return reply.callNotFound();
    }
    const rel = normalize(path).replace(/^[/\\]+/, '');
    const file = join(root, rel);
    const inside = file.startsWith(root.endsWith(sep) ? root : root + sep);
    if (inside && rel !== '' && isFile(file)) {
      // Vite names assets by content hash: a name never changes meaning, so browsers may keep them.
      const immutable = rel.startsWith(`assets${sep}`);
      void reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      securityHeaders(reply);
      return reply.sendFile(rel, { cacheControl: false });
    }
    if (!isFile(index)) {
      void reply.status(503).type('text/plain; charset=utf-8');
      return 'The Parley web app is not built on this station. Run `npm run build`, then reload.\n';
    }
    void reply.header('cache-control', 'no-cache');
    securityHeaders(reply, rawPath.replace(/\/+$/, '') === '/observer' ? OBSERVER_CSP : CSP);
    return reply.sendFile('index.html', { cacheControl: false });
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

import { ParleyError, type Role } from '@parley/protocol';
import type { FastifyRequest } from 'fastify';
import { type AuthContext, resolveSession } from '../auth/sessions.js';
import type { Db } from '../db/open.js';

/**
 * The cookie name of stations before it was made per station: still read, so that a login from
 * before an upgrade goes on working until it expires.
 */
export const LEGACY_SESSION_COOKIE = 'parley_session';

/**
 * The browser's session cookie (httpOnly, so page scripts never see the token), named after the
 * station: browsers keep cookies per host, not per port, so two stations on one machine
 * (127.0.0.1:7301 and :7302 in the demo) would otherwise overwrite each other's logins in one
 * browser. Its station name and the start of its key's fingerprint tell even two stations of the
 * same name apart.
 */
export function sessionCookieName(stationName: string, fingerprint: string): string {
  const name = stationName
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '_')
    .slice(0, 40);
  return `parley_session_${name}_${fingerprint.replace(/[^0-9a-f]/gi, '').slice(0, 8)}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    /** This station's session cookie name (sessionCookieName), decorated by buildServer. */
    parleySessionCookie: string;
  }
}

/** The session token in the request's cookies: this station's, else one from before the upgrade. */
export function sessionCookieToken(req: FastifyRequest): string | undefined {
  return req.cookies[req.server.parleySessionCookie] ?? req.cookies[LEGACY_SESSION_COOKIE];
}

/**
 * A hook that resolves the caller's session from a bearer token (CLI) or the session cookie
 * (web app) and refuses the request without one. With `role`, it also refuses members of any
 * other role. Plugins that use it must `decorateRequest('auth', null)` in their own scope.
 */
export function authenticator(db: Db, opts: { role?: Role } = {}): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : sessionCookieToken(req);
    const auth = token ? await resolveSession(db, token) : undefined;
    if (!auth) throw new ParleyError('UNAUTHENTICATED', 'you are not logged in, or your session has ended', 'log in again');
    if (opts.role && auth.member.role !== opts.role) {
      throw new ParleyError('FORBIDDEN', `this needs the ${opts.role} role; you are ${auth.member.role}`);
    }
    req.auth = auth;
  };
}

/** The authenticated caller; only valid in a route guarded by an authenticator. */
export function who(req: FastifyRequest): AuthContext {
  if (!req.auth) throw new ParleyError('UNAUTHENTICATED', 'you are not logged in');
  return req.auth;
}

import { ParleyError, type Role } from '@parley/protocol';
import type { FastifyRequest } from 'fastify';
import { type AuthContext, resolveSession } from '../auth/sessions.js';
import type { Db } from '../db/open.js';

/** The browser's session cookie: httpOnly, so page scripts never see the token. */
export const SESSION_COOKIE = 'parley_session';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/**
 * A hook that resolves the caller's session from a bearer token (CLI) or the session cookie
 * (web app) and refuses the request without one. With `role`, it also refuses members of any
 * other role. Plugins that use it must `decorateRequest('auth', null)` in their own scope.
 */
export function authenticator(db: Db, opts: { role?: Role } = {}): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : req.cookies[SESSION_COOKIE];
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

import {
  AdminAcceptRequest,
  type AdminAcceptResponse,
  AdminInviteRequest,
  type AdminInviteResponse,
  AdminAddMemberRequest,
  type AdminAddMemberResponse,
  AdminMemberParams,
  type AdminLinesResponse,
  type AdminMembersResponse,
  type AdminResetResponse,
} from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import { allLines } from '../lines/line-store.js';
import { acceptInvitation, createInvitation } from '../lines/link-ceremony.js';
import { addMember, listMembers, resetEnrollment } from '../members/members.js';
import type { StationContext } from '../station-context.js';
import { authenticator, who } from './authenticate.js';

/**
 * The station administrator's API, for members whose role is 'admin'. It does what
 * `parley member ...` does on the station's machine, so an admin can work from the web app.
 */
export async function adminApiPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  const { db } = ctx;

  app.decorateRequest('auth', null);
  // onRequest, not preHandler: a caller who is not an admin is refused before their input is
  // looked at, so they learn nothing about this API from validation messages.
  app.addHook('onRequest', authenticator(db, { role: 'admin' }));

  app.get('/api/v1/admin/members', async (): Promise<AdminMembersResponse> => ({ members: await listMembers(db) }));

  app.post('/api/v1/admin/members', { schema: { body: AdminAddMemberRequest } }, async (req, reply): Promise<AdminAddMemberResponse> => {
    const body = req.body as AdminAddMemberRequest;
    const { member, secret } = await addMember(db, body);
    req.log.info({ admin: who(req).member.handle, handle: member.handle, role: member.role }, 'member added');
    void reply.status(201);
    return { member, enrollmentSecret: secret };
  });

  app.post('/api/v1/admin/members/:handle/reset', { schema: { params: AdminMemberParams } }, async (req): Promise<AdminResetResponse> => {
    const { handle } = req.params as { handle: string };
    const enrollmentSecret = await resetEnrollment(db, handle);
    req.log.info({ admin: who(req).member.handle, handle }, 'enrollment reset');
    return { enrollmentSecret };
  });

  app.get('/api/v1/admin/lines', async (): Promise<AdminLinesResponse> => {
    const rows = await allLines(db);
    return { lines: await Promise.all(rows.map((l) => ctx.lines.summary(l))) };
  });

  // The link ceremony from the web app: the same code as `parley line invite` and `line accept`.
  app.post(
    '/api/v1/admin/lines/invitations',
    { schema: { body: AdminInviteRequest } },
    async (req, reply): Promise<AdminInviteResponse> => {
      const body = req.body as AdminInviteRequest;
      const inv = await createInvitation(db, ctx.data, { line: body.line, seats: body.seats, ttlMs: (body.ttlHours ?? 24) * 3600_000 });
      // Never the invitation itself: it carries the one-time secret.
      req.log.info({ admin: who(req).member.handle, line: body.line, seats: body.seats }, 'line invitation created');
      void reply.status(201);
      return {
        invitation: inv.text,
        lineName: inv.body.line.name,
        expiresAt: inv.body.expiresAt,
        station: { name: ctx.data.config.name, fingerprint: ctx.data.key.fingerprint },
      };
    },
  );

  app.post('/api/v1/admin/lines/accept', { schema: { body: AdminAcceptRequest } }, async (req, reply): Promise<AdminAcceptResponse> => {
    const body = req.body as AdminAcceptRequest;
    const res = await acceptInvitation(db, ctx.data, {
      invitation: body.invitation,
      seats: body.seats,
      ...(body.name ? { name: body.name } : {}),
    });
    req.log.info({ admin: who(req).member.handle, line: res.lineName, peer: res.peer.name }, 'line invitation accepted');
    // Start the line's runtime now rather than at the next periodic scan.
    await ctx.lines.scan().catch((err: unknown) => req.log.warn({ err }, 'line scan after accept failed'));
    void reply.status(201);
    return { lineName: res.lineName, safetyNumber: res.safetyNumber, peer: res.peer };
  });
}

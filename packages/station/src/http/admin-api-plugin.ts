import {
  AdminAddMemberRequest,
  type AdminAddMemberResponse,
  AdminMemberParams,
  type AdminLinesResponse,
  type AdminMembersResponse,
  type AdminResetResponse,
} from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import { allLines } from '../lines/line-store.js';
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
}

import { checkMemberItem } from '@parley/e2ee/frames';
import type { WebSocket } from '@fastify/websocket';
import {
  ClientFrame,
  EnrollRequest,
  ItemsQuery,
  LineParams,
  LoginRequest,
  ParleyError,
  parseWith,
  SendRequest,
  type ServerFrame,
  type SessionResponse,
} from '@parley/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuthContext, createSession, endSession, type SessionKind } from '../auth/sessions.js';
import { addDevice, checkPassword, enroll, listMembers, toMember } from '../members/members.js';
import type { Socket } from 'node:net';
import type { ItemsTable } from '../db/schema.js';
import { itemJson, linesForMember, num, readItems, seatedLine, toItem, type LineRow } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';
import { revokeDevice } from '../e2ee/devices.js';
import { authenticator, LEGACY_SESSION_COOKIE, who } from './authenticate.js';
import { toParleyError } from './errors.js';

export async function clientApiPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  const { db, data } = ctx;
  const secureCookie = data.config.urls[0]?.startsWith('https:') ?? false;
  const stationName = data.config.name;

  app.decorateRequest('auth', null);

  const authed = { preHandler: authenticator(db) };

  function sessionResponse(auth: { member: AuthContext['member']; deviceId: string }, expiresAt: number, token?: string): SessionResponse {
    return {
      member: toMember(auth.member),
      station: { name: stationName, fingerprint: data.key.fingerprint },
      deviceId: auth.deviceId,
      ...(token ? { token } : {}),
      expiresAt,
    };
  }

  async function startSession(reply: FastifyReply, member: AuthContext['member'], deviceId: string, kind: SessionKind) {
    const { token, expiresAt } = await createSession(db, member.id, deviceId, kind);
    if (kind === 'cookie') {
      void reply.setCookie(app.parleySessionCookie, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookie,
        path: '/',
        expires: new Date(expiresAt),
      });
      return sessionResponse({ member, deviceId }, expiresAt);
    }
    return sessionResponse({ member, deviceId }, expiresAt, token);
  }

  app.post('/api/v1/enroll', { schema: { body: EnrollRequest } }, async (req, reply) => {
    const body = req.body as EnrollRequest;
    ctx.throttle.byAddress.check([req.ip]);
    try {
      const { member, deviceId } = await enroll(db, {
        handle: body.handle,
        secret: body.secret,
        password: body.password,
        device: body.device ?? 'first device',
      });
      return await startSession(reply, member, deviceId, body.session ?? 'cookie');
    } catch (e) {
      if (e instanceof ParleyError && e.code === 'ENROLLMENT_INVALID') ctx.throttle.byAddress.fail([req.ip]);
      throw e;
    }
  });

  app.post('/api/v1/login', { schema: { body: LoginRequest } }, async (req, reply) => {
    const body = req.body as LoginRequest;
    const { byHandle, byAddress } = ctx.throttle;
    byHandle.check([body.handle]);
    byAddress.check([req.ip]);
    const member = await checkPassword(db, body.handle, body.password);
    if (!member) {
      byHandle.fail([body.handle]);
      byAddress.fail([req.ip]);
      throw new ParleyError('BAD_CREDENTIALS', 'wrong handle or password', 'check both; after 5 failures you must wait 15 minutes');
    }
    byHandle.succeed([body.handle]);
    const deviceId = await addDevice(db, member.id, body.device ?? 'browser');
    return startSession(reply, member, deviceId, body.session ?? 'cookie');
  });

  app.post('/api/v1/logout', authed, async (req, reply) => {
    await endSession(db, who(req).tokenHash);
    // The device is gone with its session: the station stops vouching for it, and the hub
    // removes it from every line's group at its next look.
    await revokeDevice(db, who(req).deviceId);
    void reply.clearCookie(app.parleySessionCookie, { path: '/' });
    // A login from before cookies were named per station: cleared only when it was this session's.
    if (!req.cookies[app.parleySessionCookie] && req.cookies[LEGACY_SESSION_COOKIE])
      void reply.clearCookie(LEGACY_SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get('/api/v1/me', authed, async (req) => sessionResponse(who(req), who(req).expiresAt));

  app.get('/api/v1/members', authed, async (req) => {
    if (who(req).member.role !== 'admin') throw new ParleyError('FORBIDDEN', 'only an admin may list members');
    return { members: await listMembers(db) };
  });

  app.get('/api/v1/lines', authed, async (req) => {
    const rows = await linesForMember(db, who(req).member.id);
    return { lines: await Promise.all(rows.map((l) => ctx.lines.summary(l))) };
  });

  app.get('/api/v1/lines/:line', { ...authed, schema: { params: LineParams } }, async (req) => {
    const line = await seatedLine(db, who(req).member.id, (req.params as { line: string }).line);
    return ctx.lines.summary(line);
  });

  async function send(
    line: LineRow,
    auth: AuthContext,
    body: { kind?: 'mls'; payload: string; clientId?: string },
    chain?: { failed: boolean },
  ) {
    const payload = Buffer.from(body.payload, 'base64url');
    const verdict = checkMemberItem(line.id, payload);
    if (!verdict.ok)
      throw new ParleyError('NOT_ENCRYPTED', verdict.reason, 'send with an up-to-date Parley client, which encrypts end to end');
    const res = await ctx.outbox.append({
      lineId: line.id,
      kind: 'mls',
      payload,
      senderHandle: auth.member.handle,
      clientId: body.clientId ?? null,
      sentAt: Date.now(),
      ...(chain ? { chain } : {}),
    });
    if (!res.duplicate) ctx.metrics.itemsAccepted.inc();
    return res;
  }

  app.post('/api/v1/lines/:line/items', { ...authed, schema: { params: LineParams, body: SendRequest } }, async (req) => {
    const line = await seatedLine(db, who(req).member.id, (req.params as { line: string }).line);
    const res = await send(line, who(req), req.body as SendRequest);
    return { item: toItem(res.row, stationName, line.peer_name), duplicate: res.duplicate };
  });

  app.get('/api/v1/lines/:line/items', { ...authed, schema: { params: LineParams, querystring: ItemsQuery } }, async (req) => {
    const line = await seatedLine(db, who(req).member.id, (req.params as { line: string }).line);
    const q = req.query as { after?: number; limit?: number };
    const after = q.after ?? 0;
    const rows = await readItems(db, line.id, after, q.limit ?? 200);
    const items = rows.map((r) => toItem(r, stationName, line.peer_name));
    return { items, nextCursor: items.length > 0 ? (items[items.length - 1]?.pos ?? after) : after, deliveredSeq: num(line.out_acked) };
  });

  app.get(
    '/api/v1/lines/:line/stream',
    { ...authed, websocket: true, schema: { params: LineParams, querystring: ItemsQuery } },
    async (socket: WebSocket, req: FastifyRequest) => {
      const auth = who(req);
      // A client may send the moment the socket opens (a reconnecting client resends what was
      // unanswered at once); the socket drops frames nobody listens to, so hold them until the
      // line is looked up, then hand them over in order.
      const early: unknown[][] = [];
      const hold = (...args: unknown[]) => early.push(args);
      socket.on('message', hold);
      let line: LineRow;
      try {
        line = await seatedLine(db, auth.member.id, (req.params as { line: string }).line);
      } catch (e) {
        socket.close(4404, toParleyError(e).message.slice(0, 100));
        return;
      } finally {
        socket.off('message', hold);
      }
      streamLine(ctx, socket, line, auth, (req.query as { after?: number }).after ?? 0, send);
      for (const args of early) socket.emit('message', ...args);
    },
  );
}

/**
 * One client's live view of a line. The database is the source of truth: on every commit
 * notification the pump re-reads from its cursor, so items reach the client exactly once and
 * in timeline order, whatever the timing of notifications. A notification that carries the
 * committed rows and continues exactly at the cursor is sent as is, without the re-read.
 */
function streamLine(
  ctx: StationContext,
  socket: WebSocket,
  line: LineRow,
  auth: AuthContext,
  after: number,
  send: (
    line: LineRow,
    auth: AuthContext,
    body: { payload: string; clientId: string },
    chain: { failed: boolean },
  ) => Promise<{ row: ItemsTable; duplicate: boolean }>,
): void {
  const ours = ctx.data.config.name;
  let cursor = after;
  let pumping = false;
  let again = false;
  let closed = false;
  // Frames written in one burst (a batch of accepted items, a page of the timeline) leave in
  // one write: the TCP socket is corked until the burst's callbacks have run.
  const tcp = (socket as unknown as { _socket?: Socket })._socket;
  let corked = false;
  const outRaw = (text: string) => {
    if (closed) return;
    if (tcp && !corked) {
      corked = true;
      tcp.cork();
      process.nextTick(() => {
        corked = false;
        tcp.uncork();
      });
    }
    socket.send(text);
  };
  const out = (frame: ServerFrame) => outRaw(JSON.stringify(frame));
  const sendRows = (rows: ItemsTable[]) => {
    for (const r of rows) outRaw(`{"type":"item","item":${itemJson(r, ours, line.peer_name)}}`);
    cursor = num((rows[rows.length - 1] as ItemsTable).pos);
  };

  const pump = async () => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const rows = await readItems(ctx.db, line.id, cursor, 500);
          if (rows.length === 0 || closed) break;
          sendRows(rows);
          // Let the socket drain rather than buffer a whole history in memory.
          while (!closed && socket.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
        }
      } while (again && !closed);
    } catch (err) {
      ctx.log.error({ err }, 'stream pump failed');
      socket.close(1011, 'station error');
    } finally {
      pumping = false;
    }
  };

  const off = ctx.hub.on(line.id, (ev) => {
    if (ev.type === 'items') {
      const first = ev.rows?.[0];
      if (!pumping && first && num(first.pos) === cursor + 1 && socket.bufferedAmount <= 4 * 1024 * 1024) {
        if (!closed) sendRows(ev.rows as ItemsTable[]);
      } else void pump();
    } else if (ev.type === 'delivered') out({ type: 'delivered', seq: ev.seq });
    else if (ev.type === 'health') {
      void ctx.lines.healthNow(line.id).then((h) => h && out({ type: 'health', health: h.health, lastContactAt: h.lastContactAt }));
    }
  });

  const chain = { failed: false };
  socket.on('message', (raw) => {
    let frame: ClientFrame;
    try {
      frame = parseWith(ClientFrame, JSON.parse(String(raw)), 'frame');
    } catch (e) {
      out({
        type: 'error',
        error: { code: toParleyError(e).code === 'INTERNAL' ? 'MALFORMED_JSON' : toParleyError(e).code, message: (e as Error).message },
      });
      return;
    }
    if (frame.type === 'ping') {
      out({ type: 'pong' });
      return;
    }
    const clientId = frame.clientId;
    send(line, auth, frame, chain).then(
      (r) =>
        outRaw(
          `{"type":"accepted","clientId":${JSON.stringify(clientId)},"item":${itemJson(r.row, ours, line.peer_name)},"duplicate":${r.duplicate}}`,
        ),
      (e) => {
        const pe = toParleyError(e);
        out({ type: 'error', clientId, error: { code: pe.code, message: pe.message } });
        // The channel's order is broken from here: close it, so the client reconnects and
        // resends everything unanswered, in order.
        if (chain.failed) socket.close(1011, 'an item was not stored; resend unanswered items');
      },
    );
  });
  socket.on('close', () => {
    closed = true;
    off();
  });
  void ctx.lines.summary(line).then((s) => {
    out({ type: 'delivered', seq: s.deliveredSeq });
    out({ type: 'health', health: s.health, lastContactAt: s.lastContactAt });
  });
  void pump();
}

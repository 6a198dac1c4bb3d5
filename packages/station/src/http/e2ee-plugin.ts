import {
  BindingRequest,
  CommitRequest,
  CommitResponse,
  FedKeyPackagesRequest,
  ItemsQuery,
  KeyPackagesUpload,
  LineParams,
  ParleyError,
  parseWith,
  RECORDER_HANDLE,
} from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { offerKeyPackages, storeKeyPackages, unusedKeyPackages, vouchForDevice } from '../e2ee/devices.js';
import { readHistory, recorderDeviceId } from '../e2ee/recorder.js';
import { Endpoints } from '../federation/endpoints.js';
import { fedPost } from '../federation/fed-client.js';
import { type LineRow, lineLanguages, replacePeerSeats, seatedLine, seatsOf, setPeerLangs } from '../lines/line-store.js';
import type { StationContext } from '../station-context.js';
import { authenticator, who } from './authenticate.js';
import type { LinePeerGuard } from './fed-line-guard.js';

/** Client API for end-to-end encryption: device vouching, key packages, roster, history, commits. */
export async function e2eeClientPlugin(app: FastifyInstance, opts: { ctx: StationContext }): Promise<void> {
  const { ctx } = opts;
  const { db, data } = ctx;
  app.decorateRequest('auth', null);
  const authed = { preHandler: authenticator(db) };
  const lineOf = (req: FastifyRequest) => seatedLine(db, who(req).member.id, (req.params as { line: string }).line);

  app.post('/api/v1/devices/binding', { ...authed, schema: { body: BindingRequest } }, async (req) => {
    const auth = who(req);
    const signatureKey = Buffer.from((req.body as BindingRequest).signatureKey, 'base64url');
    const binding = await vouchForDevice(db, data, { handle: auth.member.handle, deviceId: auth.deviceId, signatureKey });
    return {
      binding: Buffer.from(binding).toString('base64url'),
      deviceId: auth.deviceId,
      station: { name: data.config.name, publicKey: Buffer.from(data.key.publicKey).toString('base64url') },
    };
  });

  app.post('/api/v1/devices/key-packages', { ...authed, schema: { body: KeyPackagesUpload } }, async (req) => {
    const auth = who(req);
    const keyPackages = (req.body as KeyPackagesUpload).keyPackages.map((k) => new Uint8Array(Buffer.from(k, 'base64url')));
    const stored = await storeKeyPackages(db, data, { handle: auth.member.handle, deviceId: auth.deviceId, keyPackages });
    for (const line of await db.selectFrom('seats').select('line_id').where('member_id', '=', auth.member.id).execute()) {
      ctx.lines.runningRecorder(line.line_id)?.membershipChanged();
    }
    return { stored };
  });

  app.get('/api/v1/devices/key-packages', authed, async (req) => ({ unused: await unusedKeyPackages(db, who(req).deviceId) }));

  app.get('/api/v1/lines/:line/roster', { ...authed, schema: { params: LineParams } }, async (req) => {
    const line = await lineOf(req);
    const view = await ctx.lines.recorder(line.id)?.rosterView();
    if (!view) throw new ParleyError('UNAVAILABLE', 'the line\u2019s group is not set up yet', 'try again in a few seconds');
    return view;
  });

  app.get('/api/v1/lines/:line/history', { ...authed, schema: { params: LineParams, querystring: ItemsQuery } }, async (req) => {
    const line = await lineOf(req);
    const q = req.query as { after?: number; limit?: number };
    const entries = await readHistory(ctx, line.id, q.after ?? 0, q.limit ?? 200);
    return { entries, nextCursor: entries.length > 0 ? (entries[entries.length - 1]?.pos ?? 0) : (q.after ?? 0) };
  });

  app.post('/api/v1/lines/:line/commits', { ...authed, schema: { params: LineParams, body: CommitRequest } }, async (req) => {
    const line = await lineOf(req);
    const commit = new Uint8Array(Buffer.from((req.body as CommitRequest).commit, 'base64url'));
    return { epoch: await orderCommit(ctx, line, commit) };
  });
}

/** The hub orders the commit itself; the other station passes it on to the hub. */
async function orderCommit(ctx: StationContext, line: LineRow, commit: Uint8Array): Promise<number> {
  if (line.role === 'inviter') {
    const rec = ctx.lines.recorder(line.id);
    if (!rec) throw new ParleyError('UNAVAILABLE', 'the line\u2019s recorder is not running');
    return rec.acceptCommit(commit);
  }
  const res = await fedPost(
    ctx.data.key,
    line.peer_public_key,
    ctx.lines.runtime(line.id)?.endpoints ?? new Endpoints(JSON.parse(line.peer_urls) as string[]),
    `fed/v1/lines/${line.id}/commits`,
    { commit: Buffer.from(commit).toString('base64url') },
    CommitResponse,
  );
  return res.epoch;
}

/** Federation routes for end-to-end encryption, registered inside the signed federation scope. */
export function e2eeFederationRoutes(app: FastifyInstance, ctx: StationContext, { verify: verifyLinePeer, lineOf }: LinePeerGuard): void {
  const { db } = ctx;
  app.post(
    '/fed/v1/lines/:lineId/key-packages',
    { schema: { body: FedKeyPackagesRequest }, preValidation: verifyLinePeer },
    async (req) => {
      const line = lineOf(req);
      if (line.role !== 'acceptor') throw new ParleyError('FORBIDDEN', 'only the hub asks for key packages');
      const body = req.body as FedKeyPackagesRequest;
      // The hub tells us its seats; we keep them as the peer's seats on this line.
      await replacePeerSeats(db, line.id, body.seats);
      if (body.langs && body.langs.length > 0) await setPeerLangs(db, line.id, body.langs);
      const have = new Set(body.have);
      const own = await offerKeyPackages(db, line.id, have);
      const recorderId = recorderDeviceId(line.id);
      const offers = own.offers.map((o) => ({
        deviceId: o.deviceId,
        handle: o.handle,
        keyPackage: Buffer.from(o.keyPackage).toString('base64url'),
      }));
      if (!have.has(recorderId)) {
        const kp = await db
          .selectFrom('key_packages')
          .selectAll()
          .where('device_id', '=', recorderId)
          .where('handed_out_at', 'is', null)
          .executeTakeFirst();
        if (kp) {
          await db.updateTable('key_packages').set({ handed_out_at: Date.now() }).where('ref', '=', kp.ref).execute();
          offers.push({ deviceId: recorderId, handle: RECORDER_HANDLE, keyPackage: Buffer.from(kp.key_package).toString('base64url') });
        }
      }
      const ownLangs = lineLanguages(line).ours;
      return {
        offers,
        current: [...own.current, recorderId],
        seats: await seatsOf(db, line.id),
        ...(ownLangs.length > 0 ? { langs: ownLangs } : {}),
      };
    },
  );
  app.post('/fed/v1/lines/:lineId/commits', { schema: { body: CommitRequest }, preValidation: verifyLinePeer }, async (req) => {
    const line = lineOf(req);
    const commit = new Uint8Array(Buffer.from(parseWith(CommitRequest, req.body, 'commit').commit, 'base64url'));
    return { epoch: await orderCommit(ctx, line, commit) };
  });
}

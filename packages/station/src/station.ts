import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FedKeyPackagesResponse, ParleyError } from '@parley/protocol';
import { LoginThrottle } from './auth/login-throttle.js';
import { type DataDir, loadDataDir } from './config/data-dir.js';
import { type Db, openPostgres, openSqlite } from './db/open.js';
import { buildServer, type ServerOptions } from './http/server.js';
import { Hub } from './lines/hub.js';
import { LineManager } from './lines/line-manager.js';
import { lineById, lineLanguages, setPeerLangs } from './lines/line-store.js';
import { Outbox } from './lines/outbox.js';
import { CallDesk } from './calls/call-desk.js';
import { RecordService } from './record/record-service.js';
import { ArchiveKey } from './e2ee/archive-key.js';
import { LineRecorder, type RecorderDeps } from './e2ee/recorder.js';
import { RecorderDecryptor } from './e2ee/recorder-decryptor.js';
import { Endpoints } from './federation/endpoints.js';
import { fedPost } from './federation/fed-client.js';
import { PgRelay } from './db/pg-relay.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import type { StationContext } from './station-context.js';

/** PostgreSQL URL when the station keeps its data there (environment first), else undefined: SQLite. */
export function databaseUrl(data: DataDir): string | undefined {
  return process.env.PARLEY_DATABASE_URL || data.config.database;
}

/** `station`: open for a running station (SQLite then checkpoints in the background). */
export async function openDatabase(data: DataDir, station?: { log: Logger }): Promise<Db> {
  const url = databaseUrl(data);
  if (url) {
    try {
      return await openPostgres(url);
    } catch (e) {
      const where = url.replace(/\/\/[^@/]*@/, '//…@');
      throw new ParleyError(
        'UNAVAILABLE',
        `cannot use the database at ${where}: ${(e as Error).message}`,
        'is PostgreSQL running and the URL right?',
      );
    }
  }
  try {
    return await openSqlite(data.dbFile, station ? { backgroundCheckpoints: true, log: station.log } : {});
  } catch (e) {
    throw new ParleyError(
      'DATA_DIR_CORRUPT',
      `cannot open the station database ${data.dbFile}: ${(e as Error).message}`,
      'restore it from a backup',
    );
  }
}

/** A running station: database, line runtimes and one HTTP listener per advertised URL. */
export class Station {
  private servers: FastifyInstance[] = [];
  private relay: PgRelay | null = null;
  private decryptor: RecorderDecryptor | null = null;
  private constructor(readonly ctx: StationContext) {}

  /**
   * `listen` overrides where this process listens: each process of a multi-process station
   * (same data directory, one PostgreSQL database) serves one of the advertised endpoints.
   */
  static async start(dir: string, opts: ServerOptions & { log?: Logger; listen?: string[] } = {}): Promise<Station> {
    const data = loadDataDir(dir);
    const log = opts.log ?? createLogger(`station:${data.config.name}`);
    const db = await openDatabase(data, { log });
    const hub = new Hub();
    let lines: LineManager | undefined;
    const archiveKey = ArchiveKey.load(data.dir);
    const outbox = new Outbox(db, hub);
    const ctx: StationContext = {
      data,
      db,
      log,
      hub,
      outbox,
      archiveKey,
      lines: undefined as unknown as LineManager, // set just below; the metrics need a late reference
      calls: undefined as unknown as CallDesk, // set just below: it needs the context itself
      record: undefined as unknown as RecordService, // likewise
      throttle: { byHandle: new LoginThrottle(5), byAddress: new LoginThrottle(50) },
      metrics: createMetrics(
        db,
        () => lines as LineManager,
        () => ctx.calls,
      ),
    };
    const decryptor = new RecorderDecryptor(log);
    const recorderDeps: RecorderDeps = {
      db,
      data,
      log,
      outbox,
      archiveKey,
      decryptor,
      askPeerForKeyPackages: async (line, body) => {
        // The roster sync also carries both sides' working languages (issue 9): a change the
        // peer missed while away reaches it here, every couple of seconds.
        const fresh = await lineById(db, line.id);
        const res = await fedPost(
          data.key,
          line.peer_public_key,
          lines?.runtime(line.id)?.endpoints ?? new Endpoints(JSON.parse(line.peer_urls) as string[]),
          `fed/v1/lines/${line.id}/key-packages`,
          fresh?.own_langs ? { ...body, langs: lineLanguages(fresh).ours } : body,
          FedKeyPackagesResponse,
        );
        if (res.langs && res.langs.length > 0) await setPeerLangs(db, line.id, res.langs);
        return res;
      },
    };
    lines = new LineManager(
      { db, hub, key: data.key, log, heartbeatMs: data.config.heartbeatMs, stationName: data.config.name },
      (lineId) => new LineRecorder(lineId, recorderDeps),
    );
    ctx.lines = lines;
    ctx.calls = new CallDesk(ctx);
    ctx.record = new RecordService(ctx);
    const station = new Station(ctx);
    station.decryptor = decryptor;
    try {
      const pgUrl = databaseUrl(data);
      if (pgUrl) {
        station.relay = new PgRelay(pgUrl, log, (event) => hub.emitLocal(event));
        await station.relay.start();
        hub.relay = station.relay;
      }
      for (const url of opts.listen ?? data.config.listen ?? data.config.urls) {
        const u = new URL(url);
        const app = await buildServer(ctx, opts);
        await app.listen({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) });
        station.servers.push(app);
      }
      await lines.start();
      ctx.calls.start();
      ctx.record.start();
    } catch (e) {
      await station.stop();
      throw e;
    }
    log.info({ station: data.config.name, fingerprint: data.key.fingerprint, urls: data.config.urls }, 'station started');
    return station;
  }

  async stop(): Promise<void> {
    this.ctx.calls?.stop();
    this.ctx.record?.stop();
    await this.ctx.lines.stop();
    await this.decryptor?.stop();
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers = [];
    await this.relay?.stop();
    await this.ctx.db.destroy();
    this.ctx.log.info('station stopped');
  }
}

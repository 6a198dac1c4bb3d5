import { type LineSummary, type PeerRefusalView, safetyNumber, stationFingerprint } from '@parley/protocol';
import type { Kysely } from 'kysely';
import { isPostgres } from '../db/migrations.js';
import { newId } from '../ids.js';
import { releaseLease, tryLease } from './lease.js';
import { allLines, type LineRow, lineById, lineLanguages, num, peerSeatsOf, seatsOf } from './line-store.js';
import { LineRuntime, type RuntimeDeps } from './line-runtime.js';
import type { LineRecorder } from '../e2ee/recorder.js';
import { alarmCount } from '../record/record-store.js';

const LEASE_TTL_MS = 5000;

/**
 * Runs a LineRuntime for every line this process holds the lease of (all of them, on a
 * one-process station). Lines made by the admin CLI while the station runs (it writes to the
 * same database) are picked up by the periodic scan, which also renews leases and takes over
 * the lines of a process that died.
 */
export class LineManager {
  private readonly runtimes = new Map<string, LineRuntime>();
  private scanTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> = Promise.resolve();
  /**
   * Identifies this process as a lease holder. SQLite admits one station process, so its
   * holder is fixed: a process restarted after kill -9 takes its lines back at once instead
   * of waiting for its dead predecessor's lease to run out.
   */
  readonly processId: string;

  private readonly recorders = new Map<string, { recorder: LineRecorder; off: () => void }>();

  constructor(
    private readonly deps: RuntimeDeps & { stationName: string },
    /** Makes the line's recorder (end-to-end group member and hub); run where the line runs. */
    private readonly makeRecorder?: (lineId: string) => LineRecorder,
  ) {
    this.processId = isPostgres(deps.db as unknown as Kysely<unknown>) ? newId() : 'sqlite-station';
  }

  async start(): Promise<void> {
    await this.scan();
    this.scanTimer = setInterval(() => {
      this.scanning = this.scan().catch((err) => this.deps.log.error({ err }, 'line scan failed'));
    }, 1000);
  }

  async stop(): Promise<void> {
    if (this.scanTimer) clearInterval(this.scanTimer);
    await this.scanning;
    for (const { recorder, off } of this.recorders.values()) {
      off();
      recorder.stop();
    }
    this.recorders.clear();
    await Promise.all(
      [...this.runtimes.entries()].map(async ([lineId, r]) => {
        await r.stop();
        // Hand the line over at once rather than after the lease times out.
        await releaseLease(this.deps.db, `line:${lineId}`, this.processId).catch(() => {});
      }),
    );
    this.runtimes.clear();
  }

  private lastPrune = 0;

  async scan(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune > 60_000) {
      // Replay protection only needs nonces inside the clock window.
      this.lastPrune = now;
      await this.deps.db.deleteFrom('fed_nonces').where('expires_at', '<', now).execute();
    }
    for (const line of await allLines(this.deps.db)) {
      const held = await tryLease(this.deps.db, `line:${line.id}`, this.processId, LEASE_TTL_MS, now);
      const running = this.runtimes.get(line.id);
      if (held && !running) {
        const rt = new LineRuntime(line.id, line.peer_public_key, JSON.parse(line.peer_urls) as string[], this.deps);
        this.runtimes.set(line.id, rt);
        await rt.start();
        this.deps.log.info({ line: line.name, peer: line.peer_name }, 'line running in this process');
      } else if (!held && running) {
        this.runtimes.delete(line.id);
        this.stopRecorder(line.id);
        await running.stop();
        this.deps.log.warn({ line: line.name }, 'another process took over the line');
      }
      if (held) this.runRecorder(line.id);
    }
  }

  /** The lines this process runs (holds the lease of). */
  heldLineIds(): string[] {
    return [...this.runtimes.keys()];
  }

  runtime(lineId: string): LineRuntime | undefined {
    return this.runtimes.get(lineId);
  }

  /** The recorder running in this process, if this process holds the line. */
  runningRecorder(lineId: string): LineRecorder | undefined {
    return this.recorders.get(lineId)?.recorder;
  }

  /** The running recorder of a line, or a fresh one (safe anywhere: its state is compare-and-swapped). */
  recorder(lineId: string): LineRecorder | undefined {
    return this.recorders.get(lineId)?.recorder ?? this.makeRecorder?.(lineId);
  }

  private runRecorder(lineId: string): void {
    if (!this.makeRecorder) return;
    let entry = this.recorders.get(lineId);
    if (!entry) {
      const recorder = this.makeRecorder(lineId);
      const off = this.deps.hub.on(lineId, (ev) => {
        if (ev.type === 'items') recorder.kickSoon();
      });
      entry = { recorder, off };
      this.recorders.set(lineId, entry);
    }
    entry.recorder.kick();
  }

  private stopRecorder(lineId: string): void {
    const entry = this.recorders.get(lineId);
    if (!entry) return;
    entry.off();
    entry.recorder.stop();
    this.recorders.delete(lineId);
  }

  async summary(line: LineRow): Promise<LineSummary> {
    return summarizeLine(this.deps, line, this.runtimes.get(line.id));
  }

  private readonly healthReads = new Map<string, Promise<{ health: LineSummary['health']; lastContactAt: number | null } | null>>();

  /**
   * The line's health and last contact as of now, read afresh (a live view's own copy of the
   * line row is as old as its connection). Every view of the line asking at the same moment
   * (each heartbeat tells them all) shares one reading.
   */
  healthNow(lineId: string): Promise<{ health: LineSummary['health']; lastContactAt: number | null } | null> {
    let reading = this.healthReads.get(lineId);
    if (!reading) {
      reading = (async () => {
        const line = await lineById(this.deps.db, lineId);
        if (!line) return null;
        const { health } = await lineHealth(this.deps, line, this.runtimes.get(lineId));
        return { health, lastContactAt: line.last_contact_at === null ? null : num(line.last_contact_at) };
      })().finally(() => this.healthReads.delete(lineId));
      this.healthReads.set(lineId, reading);
    }
    return reading;
  }
}

/** Works with or without a running runtime (the CLI reads status straight from the database). */
export async function summarizeLine(
  deps: Pick<RuntimeDeps, 'db' | 'key' | 'heartbeatMs'> & { stationName: string },
  line: LineRow,
  runtime?: LineRuntime,
): Promise<LineSummary> {
  const { db, key } = deps;
  const lastContactAt = line.last_contact_at === null ? null : num(line.last_contact_at);
  // The runtime records acknowledgements a moment after they arrive; it knows them first.
  const delivered = Math.max(num(line.out_acked), runtime?.ackedSeq ?? 0);
  const { health, endpoint } = await lineHealth(deps, line, runtime);
  return {
    id: line.id,
    name: line.name,
    station: { name: deps.stationName, publicKey: Buffer.from(key.publicKey).toString('base64url') },
    peer: {
      name: line.peer_name,
      publicKey: Buffer.from(line.peer_public_key).toString('base64url'),
      fingerprint: stationFingerprint(line.peer_public_key),
      urls: JSON.parse(line.peer_urls) as string[],
    },
    safetyNumber: safetyNumber(key.publicKey, line.peer_public_key),
    side: line.role === 'inviter' ? 'inviter' : 'acceptor',
    seats: await seatsOf(db, line.id),
    peerSeats: await peerSeatsOf(db, line.id),
    health,
    lastContactAt,
    backlogOut: num(line.out_seq) - delivered,
    backlogIn: Math.max(0, num(line.peer_sent_seq) - num(line.in_seq)),
    endpoint,
    lastPos: num(line.last_pos),
    deliveredSeq: delivered,
    recordAlarms: await alarmCount(db, line.id),
    languages: lineLanguages(line),
    // The running process knows first; from outside it, the last one it wrote.
    peerRefusal: runtime ? runtime.refusal : line.peer_refusal ? (JSON.parse(line.peer_refusal) as PeerRefusalView) : null,
  };
}

/** The line's health and the endpoint in use: from the runtime running it, else as it last wrote them. */
async function lineHealth(
  deps: Pick<RuntimeDeps, 'heartbeatMs'>,
  line: LineRow,
  runtime?: LineRuntime,
): Promise<{ health: LineSummary['health']; endpoint: string | null }> {
  if (runtime) return { health: await runtime.health(), endpoint: runtime.endpoints.current() };
  // Read from outside the station process: trust its last written view while fresh. A
  // station that stopped writing is not running, and then the line is down from our side.
  const fresh = line.health_at !== null && Date.now() - num(line.health_at) <= 3 * deps.heartbeatMs;
  const eps = line.endpoints ? (JSON.parse(line.endpoints) as { url: string; up: boolean }[]) : [];
  return {
    health: fresh && (line.health === 'up' || line.health === 'degraded') ? line.health : 'down',
    endpoint: fresh ? (eps.find((e) => e.up)?.url ?? null) : null,
  };
}

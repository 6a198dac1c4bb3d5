import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { CLI_BIN, cliOk, lastLine } from './cli.js';
import { freePort } from './ports.js';
import { freshPostgresDatabase, testPostgresUrl } from './postgres.js';
import { tempDir } from './temp.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface StationOptions {
  name: string;
  /** How many URLs (listeners) the station advertises. */
  endpoints?: number;
  heartbeatMs?: number;
  /** Keep the station in this PostgreSQL database (otherwise PARLEY_TEST_PG, otherwise SQLite). */
  database?: string;
  /** Override advertised URLs (e.g. a proxy in front of the real port). */
  advertise?: (ports: number[]) => string[];
}

/**
 * A real station process (`parley station start`), for tests that must kill -9 it, restart
 * it and see what survived. Output goes to DATA/station.out.
 */
export class StationProcess {
  child: ChildProcess | null = null;
  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly ports: number[],
    readonly urls: string[],
  ) {}

  /** Set on one process of a multi-process station: it listens on this endpoint only. */
  private listenOnly: string | null = null;

  get url(): string {
    return `http://127.0.0.1:${this.ports[0]}`;
  }

  /** Process i of a multi-process station: same data directory and database, serving endpoint i only. */
  processOf(i: number): StationProcess {
    const port = this.ports[i] as number;
    const p = new StationProcess(`${this.name}-${i}`, this.dir, [port], this.urls);
    p.listenOnly = `http://127.0.0.1:${port}`;
    return p;
  }

  static async create(opts: StationOptions): Promise<StationProcess> {
    const dir = join(tempDir(`parley-${opts.name}-`), 'data');
    const ports: number[] = [];
    for (let i = 0; i < (opts.endpoints ?? 1); i++) ports.push(await freePort());
    const listen = ports.map((p) => `http://127.0.0.1:${p}`);
    const urls = opts.advertise ? opts.advertise(ports) : listen;
    // With `advertise`, the station listens on its own ports but tells peers other URLs (a proxy).
    const pgAdmin = testPostgresUrl();
    const database = opts.database
      ? ['--database', opts.database]
      : pgAdmin
        ? ['--database', await freshPostgresDatabase(pgAdmin, opts.name)]
        : [];
    await cliOk([
      'station',
      'init',
      '--data',
      dir,
      '--name',
      opts.name,
      '--url',
      ...urls,
      ...(opts.advertise ? ['--listen', ...listen] : []),
      '--heartbeat-ms',
      String(opts.heartbeatMs ?? 1000),
      ...database,
    ]);
    return new StationProcess(opts.name, dir, ports, urls);
  }

  /**
   * Start the process; `nodeArgs` go to node itself (e.g. `--cpu-prof` for a benchmark), `env`
   * adds to the environment (e.g. PARLEY_CALL_POLICY for short deadlines).
   */
  async start(opts: { nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<void> {
    const out = createWriteStream(join(this.dir, this.listenOnly ? `${this.name}.out` : 'station.out'), { flags: 'a' });
    const listen = this.listenOnly ? ['--listen', this.listenOnly] : [];
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI_BIN, 'station', 'start', '--data', this.dir, ...listen], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    running.add(child);
    child.on('exit', () => running.delete(child));
    this.child = child;
    await this.waitHealthy();
  }

  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(`station ${this.name} exited with ${this.child.exitCode}; see ${join(this.dir, 'station.out')}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`station ${this.name} did not become healthy`);
  }

  /** SIGKILL: no shutdown code runs, exactly like a power cut to the process. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  private signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill(sig);
    });
  }

  async addMember(handle: string, name: string, role: string): Promise<string> {
    return lastLine(await cliOk(['member', 'add', '--data', this.dir, '--handle', handle, '--name', name, '--role', role]));
  }

  /** Add a member and enroll them through the client API; returns a bearer token. */
  async addEnrolledMember(handle: string, role = 'principal', password = `${handle}-password-123`): Promise<string> {
    const secret = await this.addMember(handle, handle, role);
    const res = await fetch(`${this.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle, secret, password, session: 'bearer' }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || !body.token) throw new Error(`enroll ${handle} failed: ${JSON.stringify(body)}`);
    return body.token;
  }
}

/** Link two stations with a line through the real CLI ceremony. Returns the safety number. */
export async function linkStations(
  inviter: StationProcess,
  acceptor: StationProcess,
  line: string,
  inviterSeats: string[],
  acceptorSeats: string[],
): Promise<string> {
  const inv = lastLine(await cliOk(['line', 'invite', '--data', inviter.dir, '--line', line, '--seats', inviterSeats.join(',')]));
  return lastLine(await cliOk(['line', 'accept', '--data', acceptor.dir, '--seats', acceptorSeats.join(','), inv]));
}

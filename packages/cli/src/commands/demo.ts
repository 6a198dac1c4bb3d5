import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Role, SessionResponse } from '@parley/protocol';
import type { Station } from '@parley/station';
import type { Command } from 'commander';
import { apiCall } from '../api-client.js';

// Loaded on first use: client commands and --help then start without the server's dependencies.
const lib = () => import('@parley/station');

interface DemoPerson {
  handle: string;
  name: string;
  role: Role;
}

/** Who holds a seat on the demo line: everyone but the administrators. */
const DEMO_SEATS = ['chief', 'deputy', 'duty', 'interp', 'press'];

const PEOPLE: Record<'washington' | 'moscow', DemoPerson[]> = {
  washington: [
    { handle: 'chief', name: 'Chairman of the Joint Chiefs', role: 'principal' },
    { handle: 'deputy', name: 'Vice Chairman', role: 'deputy' },
    { handle: 'duty', name: 'Duty Officer, NMCC', role: 'duty_officer' },
    { handle: 'interp', name: 'Russian Interpreter', role: 'interpreter' },
    { handle: 'press', name: 'Press Secretary', role: 'press_officer' },
    { handle: 'admin', name: 'Station Administrator', role: 'admin' },
  ],
  moscow: [
    { handle: 'chief', name: 'Chief of the General Staff', role: 'principal' },
    { handle: 'deputy', name: 'First Deputy Chief', role: 'deputy' },
    { handle: 'duty', name: 'Duty Officer, NTsUO', role: 'duty_officer' },
    { handle: 'interp', name: 'English Interpreter', role: 'interpreter' },
    { handle: 'press', name: 'Press Service', role: 'press_officer' },
    { handle: 'admin', name: 'Station Administrator', role: 'admin' },
  ],
};

const password = (station: string, handle: string) => `${station}-${handle}-demo`;

/**
 * Where each station listens: moscow on the next port after washington's first, as always;
 * with --postgres, washington's second and third processes on the two ports after moscow's.
 */
function demoUrls(basePort: number, postgres: boolean): { washington: string[]; moscow: string[] } {
  const at = (p: number) => `http://127.0.0.1:${p}`;
  return {
    washington: postgres ? [at(basePort), at(basePort + 2), at(basePort + 3)] : [at(basePort)],
    moscow: [at(basePort + 1)],
  };
}

/** Two stations on loopback with demo people and one line between them, in one process. */
async function prepare(dir: string, basePort: number, database?: string): Promise<void> {
  const L = await lib();
  const names = ['washington', 'moscow'] as const;
  const fresh = !existsSync(join(dir, 'washington', 'station.json'));
  if (!fresh) return;
  const secrets: Record<string, Record<string, string>> = {};
  const urls = demoUrls(basePort, database !== undefined);
  for (const name of names) {
    const opts = name === 'washington' && database ? { heartbeatMs: 5000, database } : { heartbeatMs: 5000 };
    L.initDataDir(join(dir, name), name, urls[name], opts);
  }
  for (const name of names) {
    const data = L.loadDataDir(join(dir, name));
    const db = await L.openDatabase(data);
    secrets[name] = {};
    for (const p of PEOPLE[name]) (secrets[name] as Record<string, string>)[p.handle] = (await L.addMember(db, p)).secret;
    await db.destroy();
  }
  const stations = await Promise.all(
    names.map((n) => L.Station.start(join(dir, n), { log: L.createLogger(n, { file: join(dir, `${n}.log`) }) })),
  );
  try {
    for (const name of names) {
      for (const p of PEOPLE[name]) {
        await apiCall<SessionResponse>(urls[name][0] as string, 'POST', 'api/v1/enroll', {
          body: {
            handle: p.handle,
            secret: secrets[name]?.[p.handle],
            password: password(name, p.handle),
            session: 'bearer',
            device: 'demo set-up',
          },
        });
      }
    }
    const [w, m] = stations as [Station, Station];
    // Washington works in English, Moscow in Russian: each side's interpreters get a queue.
    const inv = await L.createInvitation(w.ctx.db, w.ctx.data, { line: 'chiefs-of-staff', seats: DEMO_SEATS, langs: ['en'] });
    await L.acceptInvitation(m.ctx.db, m.ctx.data, { invitation: inv.text, seats: DEMO_SEATS, langs: ['ru'] });
  } finally {
    await Promise.all(stations.map((s) => s.stop()));
  }
}

// The script only exists in a checkout of the repository, which is where the demo runs
// (`npm run demo`). Found through the package, not this file's place: the CLI may run bundled.
const PG_SCRIPT = join(dirname(createRequire(import.meta.url).resolve('@parley/cli/package.json')), '../../scripts/pg-server.sh');
// The stations run as this same command line, whichever build of it is running.
const CLI_BIN = process.argv[1] as string;

/** What stops the demo before it runs, said in one line (no stack: nothing is broken). */
class DemoError extends Error {}

function fail(message: string): never {
  process.stderr.write(`parley demo: ${message}\n`);
  process.exit(1);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolvePort(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * A PostgreSQL server for the demo, in DIR/postgres, on a port chosen once and kept in
 * DIR/postgres.port (washington's station.json names it). Debian's server, run by
 * scripts/pg-server.sh: as root it runs as the `postgres` account, otherwise as the caller.
 */
async function startPostgres(dir: string): Promise<{ url: string; stop: () => void }> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
  const bin = versions
    .map((v) => `/usr/lib/postgresql/${v}/bin`)
    .filter((b) => existsSync(join(b, 'initdb')))
    .pop();
  if (!bin) throw new DemoError('--postgres needs the PostgreSQL server: apt-get install postgresql');
  if (!existsSync(PG_SCRIPT)) throw new DemoError(`--postgres runs ${PG_SCRIPT}, which is not there: run the demo from a checkout`);
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      throw new DemoError(
        'as root, --postgres runs the server as the `postgres` account, which does not exist (apt-get install postgresql creates it)',
      );
    }
    // The server's account must be able to reach its data directory inside the demo's.
    chmodSync(dir, 0o711);
  }
  const portFile = join(dir, 'postgres.port');
  const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : await freePort();
  writeFileSync(portFile, `${port}\n`);
  const pgDir = join(dir, 'postgres');
  try {
    execFileSync(PG_SCRIPT, ['start', pgDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const why = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim();
    const hint = /Permission denied/.test(why)
      ? ` (the postgres account cannot reach ${pgDir}: use --dir in a directory every account can enter, such as /tmp)`
      : '';
    throw new DemoError(`PostgreSQL did not start${hint}:\n${why}`);
  }
  const stop = () => {
    try {
      execFileSync(PG_SCRIPT, ['stop', pgDir], { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  };
  const exists = execFileSync(
    join(bin, 'psql'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-tAc',
      "SELECT 1 FROM pg_database WHERE datname = 'parley_washington'",
    ],
    { encoding: 'utf8' },
  ).trim();
  if (exists !== '1') execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'parley_washington']);
  return { url: `postgres://postgres@127.0.0.1:${port}/parley_washington`, stop };
}

/** One process of washington (`parley station start --listen URL`), its output in DIR/washington-N.log. */
async function startProcess(dir: string, url: string, n: number): Promise<ChildProcess> {
  const log = openSync(join(dir, `washington-${n}.log`), 'a');
  const child = spawn(process.execPath, [CLI_BIN, 'station', 'start', '--data', join(dir, 'washington'), '--listen', url], {
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new DemoError(`washington process ${n} exited with ${child.exitCode}; see ${dir}/washington-${n}.log`);
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new DemoError(`washington process ${n} did not come up at ${url}; see ${dir}/washington-${n}.log`);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run two stations, washington and moscow, on loopback with demo people and a line between them')
    .option('--dir <dir>', 'where the demo keeps its stations', '.parley-demo')
    .option('--port <port>', 'washington listens here, moscow on the next port', '7301')
    .option(
      '--postgres',
      'washington as three processes on a local PostgreSQL (on the two ports after moscow\u2019s); moscow stays on SQLite',
    )
    .action(async (o: { dir: string; port: string; postgres?: boolean }) => {
      const L = await lib();
      const dir = resolve(o.dir);
      const basePort = Number(o.port);
      const made = existsSync(join(dir, 'washington', 'station.json'));
      const madeWithPostgres = made && L.loadDataDir(join(dir, 'washington')).config.database !== undefined;
      if (made && madeWithPostgres !== Boolean(o.postgres)) {
        fail(`${dir} holds a demo made ${madeWithPostgres ? 'with' : 'without'} --postgres: run it the same way, or choose another --dir`);
      }
      let pg: { url: string; stop: () => void } | null = null;
      const children: ChildProcess[] = [];
      const stations: Station[] = [];
      let stopping = false;
      const stopAll = async () => {
        stopping = true;
        await Promise.all([
          ...stations.map((s) => s.stop()),
          ...children.map(
            (c) =>
              new Promise<void>((done) => {
                if (c.exitCode !== null || c.signalCode !== null) return done();
                c.once('exit', () => done());
                c.kill('SIGTERM');
              }),
          ),
        ]);
        pg?.stop();
      };
      const urls = demoUrls(basePort, Boolean(o.postgres));
      try {
        if (o.postgres) {
          mkdirSync(dir, { recursive: true });
          pg = await startPostgres(dir);
        }
        await prepare(dir, basePort, pg?.url);
        if (o.postgres) {
          for (const [i, url] of urls.washington.entries()) children.push(await startProcess(dir, url, i + 1));
          for (const [i, c] of children.entries()) {
            c.on('exit', (code, signal) => {
              if (!stopping)
                process.stderr.write(`washington process ${i + 1} stopped (${signal ?? code}); see ${dir}/washington-${i + 1}.log\n`);
            });
          }
          stations.push(await L.Station.start(join(dir, 'moscow'), { log: L.createLogger('moscow', { file: join(dir, 'moscow.log') }) }));
        } else {
          for (const n of ['washington', 'moscow'] as const)
            stations.push(await L.Station.start(join(dir, n), { log: L.createLogger(n, { file: join(dir, `${n}.log`) }) }));
        }
      } catch (e) {
        await stopAll();
        if (e instanceof DemoError) fail(e.message);
        throw e;
      }
      const names = ['washington', 'moscow'] as const;
      const fingerprints = names.map((n) => L.loadDataDir(join(dir, n)).key.fingerprint);
      // moscow always runs in this process; its lines are washington's.
      const lines = await L.allLines(stations[stations.length - 1]!.ctx.db);
      const out: string[] = ['', 'Parley demo is running. Two stations on loopback:', ''];
      names.forEach((n, i) => {
        out.push(`  ${n.padEnd(11)} ${urls[n].map((u) => `${u}/`).join('  ')}   fingerprint ${fingerprints[i]}`);
      });
      if (o.postgres && pg) {
        out.push(
          '',
          'washington runs as three processes (logs washington-1..3.log) on',
          `PostgreSQL ${pg.url} (data in ${dir}/postgres); moscow on SQLite.`,
          'Any of them serves any client. Kill -9 one: moscow carries on through the other two; a browser',
          'on the dead one\u2019s URL needs a load balancer in front to do the same (docs/deploy/nginx.conf).',
        );
      }
      out.push(
        '',
        `Line(s) between them: ${lines.map((l) => l.name).join(', ') || '(none)'}`,
        '',
        'Open the web app and log in as one of the people below:',
        `  washington  http://127.0.0.1:${basePort}/`,
        // Each station names its session cookie after itself: one browser keeps both logins.
        `  moscow      http://127.0.0.1:${basePort + 1}/`,
        '',
        'Demo people (handle / password), the same handles on both stations:',
      );
      for (const n of names)
        for (const p of PEOPLE[n])
          out.push(`  ${n.padEnd(11)} ${p.handle.padEnd(8)} ${password(n, p.handle).padEnd(28)} ${p.name} (${p.role})`);
      out.push(
        '',
        'Try the CLI in another terminal:',
        `  echo ${password('washington', 'chief')} > /tmp/pw && node packages/cli/dist/bundle/parley.js login --station http://127.0.0.1:${basePort} --handle chief --profile /tmp/wa --password-file /tmp/pw`,
        '  node packages/cli/dist/bundle/parley.js send --profile /tmp/wa --line chiefs-of-staff --wait 30 "Request a call at 14:00Z"',
        '  (--wait: a new device sends once the line\u2019s encrypted group has it; log in on moscow first to read it there,',
        '   or read older messages from your station\u2019s recorder with `read --history`)',
        '',
        `Logs: ${dir}/*.log. Stop with Ctrl-C.`,
        '',
      );
      process.stdout.write(out.join('\n'));
      const stop = async () => {
        await stopAll();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}

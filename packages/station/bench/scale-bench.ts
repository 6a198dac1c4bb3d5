/**
 * Scale-out benchmark (issue 10): the same line traffic on SQLite and on PostgreSQL, and many
 * lines at once with washington as one process and as three processes on one PostgreSQL.
 *
 * Two station pairs on loopback, washington → moscow, LINES lines between each pair, one sending
 * client on washington and one receiving client on moscow per line (all in this process):
 *  - SQLite: both stations on SQLite (WAL, synchronous=FULL), one process each;
 *  - PostgreSQL: both stations in databases of one PostgreSQL server (fsync on); washington
 *    advertises three URLs and runs either as one process listening on all three or as three
 *    processes (`station start --listen`), one per URL, on the same database.
 *
 * For each configuration:
 *  - latency: every sender sends RATE items/s for SECONDS seconds (paced, one `send` frame at a
 *    time on its WebSocket); one-way latency is from writing the frame to the receiving client
 *    reading the item on the other station;
 *  - throughput: every sender sends ITEMS items pipelined (WINDOW in flight); items/s is all
 *    arrivals over the time from the first send to the last arrival.
 *
 * PostgreSQL: PARLEY_BENCH_PG=<admin URL>, or the benchmark starts a throwaway server with
 * scripts/pg-server.sh in a temp directory (Debian's postgresql package; as root the script runs
 * the server as the `postgres` user). Prints a table, then the figures as JSON on the last line.
 *
 *   node packages/station/dist/bench/scale-bench.js
 *   node packages/station/dist/bench/scale-bench.js --lines 20 --items 150 --window 200 --rate 2 --seconds 5
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opaqueApplicationMessage } from '@parley/e2ee/frames';
import type { Item } from '@parley/protocol';
import pg from 'pg';
import { benchArg, cliOk, cpuMsOf, freePort, freshPostgresDatabase, lastLine, percentile, StationProcess, tempDir } from '@parley/testkit';
import { LineClient, lineSummary } from '../test/support/line-client.js';

const LINES = Number(benchArg('lines', '20'));
const ONE_RATE = Number(benchArg('one-rate', '20'));
const RATE = Number(benchArg('rate', '2'));
const SECONDS = Number(benchArg('seconds', '5'));
const ONE_ITEMS = Number(benchArg('one-items', '3000'));
const ONE_WINDOW = Number(benchArg('one-window', '1000'));
const ITEMS = Number(benchArg('items', '150'));
const WINDOW = Number(benchArg('window', '200'));
const STALL_S = Number(benchArg('stall-s', '30'));
const PAYLOAD_BYTES = 128;
const PG_SCRIPT = fileURLToPath(new URL('../../../../scripts/pg-server.sh', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ms of a process, 0 when it is gone (these are summed over processes). */
const cpuMsOrZero = (pid: number | undefined) => cpuMsOf(pid) || 0;

/** The PostgreSQL server's processes (the postmaster and its children), when we started it. */
function pgPids(dir: string | null): number[] {
  if (!dir) return [];
  try {
    const master = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const out = [master];
    for (const pid of execFileSync('pgrep', ['-P', String(master)], { encoding: 'utf8' }).split('\n')) if (pid) out.push(Number(pid));
    return out;
  } catch {
    return [];
  }
}

interface Pair {
  label: string;
  /** PostgreSQL admin URL and database names, to count transactions. */
  pg?: { admin: string; databases: string[] };
  wa: StationProcess;
  mo: StationProcess;
  lineIds: string[];
  alice: string;
  boris: string;
}

interface Running {
  /** washington's processes and the URL each line's sender uses. */
  procs: StationProcess[];
  senderUrl: (line: number) => string;
}

/** Committed transactions so far in these databases (PostgreSQL's statistics, flushed about every second). */
async function pgCommits(p: Pair['pg']): Promise<number> {
  if (!p) return Number.NaN;
  const client = new pg.Client({ connectionString: p.admin });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>('SELECT sum(xact_commit)::text AS n FROM pg_stat_database WHERE datname = ANY($1)', [
      p.databases,
    ]);
    return Number(r.rows[0]?.n ?? Number.NaN);
  } finally {
    await client.end();
  }
}

async function makePair(label: string, db: { wa?: string; mo?: string }, endpoints: number): Promise<Pair> {
  const wa = await StationProcess.create({ name: 'washington', endpoints, heartbeatMs: 1000, ...(db.wa ? { database: db.wa } : {}) });
  const mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 1000, ...(db.mo ? { database: db.mo } : {}) });
  await Promise.all([wa.start(), mo.start()]);
  const alice = await wa.addEnrolledMember('alice');
  const boris = await mo.addEnrolledMember('boris');
  // Two CLI ceremonies at a time: each is two node processes starting up.
  const names = Array.from({ length: LINES }, (_, i) => `l${i}`);
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(
      names.slice(i, i + 2).map(async (line) => {
        const inv = lastLine(await cliOk(['line', 'invite', '--data', wa.dir, '--line', line, '--seats', 'alice']));
        await cliOk(['line', 'accept', '--data', mo.dir, '--seats', 'boris', inv]);
      }),
    );
  }
  const lineIds: string[] = [];
  for (const line of names) lineIds.push((await lineSummary(wa.url, alice, line)).id as string);
  await Promise.all([wa.stop(), mo.stop()]);
  return { label, wa, mo, lineIds, alice, boris };
}

function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

function payloadFor(lineId: string): string {
  const envelope = opaqueApplicationMessage(lineId, new Uint8Array(0)).length;
  return Buffer.from(opaqueApplicationMessage(lineId, randomBytes(Math.max(0, PAYLOAD_BYTES - envelope)))).toString('base64url');
}

interface Measured {
  config: string;
  lines: number;
  latency: { samples: number; rate: number; p50Ms: number; p99Ms: number; maxMs: number };
  throughput: {
    items: number;
    window: number;
    itemsPerSec: number;
    seconds: number;
    cpuUsPerItem: Record<string, number>;
    /** PostgreSQL transactions (statements outside a transaction count as one) per item, both stations. */
    pgTransactionsPerItem: number | null;
  };
}

/** Runs both phases over the first `lines` lines of a pair whose processes are up. */
async function measure(config: string, pair: Pair, run: Running, lines: number, pgDir: string | null): Promise<Measured> {
  const sentAt = new Map<string, bigint>();
  const lat: number[] = [];
  // Client ids are unique per run: the same line is measured again later.
  const tag = randomBytes(4).toString('hex');
  let phase = '';
  let arrived = 0;
  let expected = 0;
  let lastArrival = 0n;
  let allArrived: () => void = () => {};
  const onItem = (item: Item, at: bigint) => {
    if (item.dir !== 'in' || item.clientId === null) return;
    const t0 = sentAt.get(item.clientId);
    if (t0 !== undefined) {
      sentAt.delete(item.clientId);
      lat.push(Number(at - t0) / 1e6);
    }
    if (item.clientId.startsWith(phase)) {
      arrived++;
      lastArrival = at;
      if (arrived === expected) allArrived();
    }
  };
  const receivers = Array.from({ length: lines }, (_, i) => new LineClient({ url: pair.mo.url, token: pair.boris, line: `l${i}`, onItem }));
  const senders = Array.from({ length: lines }, (_, i) => new LineClient({ url: run.senderUrl(i), token: pair.alice, line: `l${i}` }));
  await Promise.all([...receivers, ...senders].map((c) => c.start()));
  // The station attaches its frame handler after looking up the line: give it a moment.
  await sleep(300);
  const rate = lines === 1 ? ONE_RATE : RATE;
  try {
    // Latency: paced sends, each sender on its own schedule; a warm-up second first.
    const paced = async (prefix: string, seconds: number, keep: boolean) => {
      await Promise.all(
        senders.map(async (s, li) => {
          const n = Math.round(rate * seconds);
          const start = Date.now() + Math.random() * (1000 / rate);
          const pending: Promise<unknown>[] = [];
          for (let k = 0; k < n; k++) {
            const due = start + (k * 1000) / rate;
            if (due > Date.now()) await sleep(due - Date.now());
            const clientId = `${prefix}${tag}-${li}-${k}`;
            if (keep) sentAt.set(clientId, process.hrtime.bigint());
            pending.push(s.sendOne(clientId, payloadFor(pair.lineIds[li] as string)));
          }
          await Promise.all(pending);
        }),
      );
    };
    await paced('warm', 1, false);
    await paced('lat', SECONDS, true);
    const deadline = Date.now() + 30_000;
    while (sentAt.size > 0 && Date.now() < deadline) await sleep(20);
    if (sentAt.size > 0) throw new Error(`${sentAt.size} latency items never arrived`);
    lat.sort((a, b) => a - b);

    // Throughput: everything pipelined.
    const perLine = lines === 1 ? ONE_ITEMS : ITEMS;
    const window = lines === 1 ? ONE_WINDOW : WINDOW;
    phase = `tp${tag}-`;
    arrived = 0;
    expected = perLine * lines;
    const done = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const pids = [...run.procs.map((p) => p.child?.pid), pair.mo.child?.pid];
    const pg = pgPids(pgDir);
    const cpuOf = () => ({
      washington: run.procs.reduce((a, p) => a + cpuMsOrZero(p.child?.pid), 0),
      moscow: cpuMsOrZero(pids[pids.length - 1]),
      postgres: pg.reduce((a, p) => a + cpuMsOrZero(p), 0),
      clients: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    });
    const cpu0 = cpuOf();
    const tx0 = await pgCommits(pair.pg);
    const t0 = process.hrtime.bigint();
    await Promise.all(
      senders.map((s, li) =>
        s.sendAll(
          Array.from({ length: perLine }, (_, k) => ({
            clientId: `${phase}${li}-${k}`,
            payload: payloadFor(pair.lineIds[li] as string),
            acceptedSeq: null,
          })),
          { window },
        ),
      ),
    );
    // A run that stops making progress is reported, not waited for forever.
    let seen = -1;
    let still = 0;
    const watchdog = setInterval(() => {
      still = arrived === seen ? still + 1 : 0;
      seen = arrived;
    }, 1000);
    try {
      while (arrived < expected) {
        if (still >= STALL_S) {
          throw new Error(`${config}, ${lines} lines: stalled at ${arrived} of ${expected} items (see the stations' *.out logs)`);
        }
        await Promise.race([done, sleep(500)]);
      }
    } finally {
      clearInterval(watchdog);
    }
    const cpu1 = cpuOf();
    await sleep(1500); // let the backends flush their statistics
    const tx1 = await pgCommits(pair.pg);
    const seconds = Number(lastArrival - t0) / 1e9;
    const cpuUsPerItem: Record<string, number> = {};
    for (const k of Object.keys(cpu1) as (keyof typeof cpu1)[]) {
      if (k === 'postgres' && pg.length === 0) continue;
      cpuUsPerItem[k] = Number((((cpu1[k] - cpu0[k]) * 1000) / expected).toFixed(1));
    }
    return {
      config,
      lines,
      latency: {
        samples: lat.length,
        rate: rate * lines,
        p50Ms: percentile(lat, 50),
        p99Ms: percentile(lat, 99),
        maxMs: lat[lat.length - 1] as number,
      },
      throughput: {
        items: expected,
        window,
        itemsPerSec: Math.round(expected / seconds),
        seconds: Number(seconds.toFixed(2)),
        cpuUsPerItem,
        pgTransactionsPerItem: pair.pg ? Number(((tx1 - tx0) / expected).toFixed(1)) : null,
      },
    };
  } finally {
    for (const c of [...senders, ...receivers]) c.stop();
  }
}

async function main(): Promise<void> {
  // The SQLite pair must not follow a test run's PostgreSQL.
  delete process.env.PARLEY_TEST_PG;
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
  let pgDir: string | null = null;
  let pgAdmin = process.env.PARLEY_BENCH_PG;
  if (!pgAdmin) {
    const parent = tempDir('parley-bench-pg-');
    chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its directory
    pgDir = join(parent, 'pg');
    const port = await freePort();
    pgAdmin = lastLine(execFileSync(PG_SCRIPT, ['start', pgDir, String(port)], { encoding: 'utf8' }));
  }
  const results: Measured[] = [];
  const failures: string[] = [];
  const progress = async (m: Promise<Measured>) => {
    try {
      const r = await m;
      results.push(r);
      process.stderr.write(`${JSON.stringify(r)}\n`);
    } catch (e) {
      failures.push((e as Error).message);
      process.stderr.write(`FAILED: ${(e as Error).message}\n`);
    }
  };
  try {
    const sqlite = await makePair('SQLite', {}, 1);
    const databases = { wa: await freshPostgresDatabase(pgAdmin, 'bench_wa'), mo: await freshPostgresDatabase(pgAdmin, 'bench_mo') };
    const pgPair = await makePair('PostgreSQL', databases, 3);
    pgPair.pg = { admin: pgAdmin, databases: [databaseName(databases.wa), databaseName(databases.mo)] };

    // SQLite, washington as one process.
    await Promise.all([sqlite.wa.start(), sqlite.mo.start()]);
    const one: Running = { procs: [sqlite.wa], senderUrl: () => sqlite.wa.url };
    await progress(measure('SQLite, 1 process', sqlite, one, 1, null));
    await progress(measure('SQLite, 1 process', sqlite, one, LINES, null));
    await Promise.all([sqlite.wa.stop(), sqlite.mo.stop()]);

    // PostgreSQL, washington as one process listening on all three URLs.
    await Promise.all([pgPair.wa.start(), pgPair.mo.start()]);
    const pgUrls = pgPair.wa.ports.map((p) => `http://127.0.0.1:${p}`);
    const pgOne: Running = { procs: [pgPair.wa], senderUrl: (i) => pgUrls[i % 3] as string };
    await progress(measure('PostgreSQL, 1 process', pgPair, pgOne, 1, pgDir));
    await progress(measure('PostgreSQL, 1 process', pgPair, pgOne, LINES, pgDir));
    await pgPair.wa.stop();

    // PostgreSQL, washington as three processes; senders spread over them.
    const procs = [0, 1, 2].map((i) => pgPair.wa.processOf(i));
    await Promise.all(procs.map((p) => p.start()));
    const pgThree: Running = { procs, senderUrl: (i) => (procs[i % 3] as StationProcess).url };
    await sleep(6000); // leases of the stopped process run out; lines settle on the new ones
    await progress(measure('PostgreSQL, 3 processes', pgPair, pgThree, 1, pgDir));
    await progress(measure('PostgreSQL, 3 processes', pgPair, pgThree, LINES, pgDir));
    await Promise.all([...procs.map((p) => p.stop()), pgPair.mo.stop()]);
  } finally {
    if (pgDir) execFileSync(PG_SCRIPT, ['stop', pgDir]);
  }

  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const conditions = { loadavgAtStart: loadStart, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) };
  const head = [
    'configuration',
    'lines',
    'paced items/s',
    'p50 ms',
    'p99 ms',
    'throughput items/s',
    'CPU µs/item wa / mo / pg / clients',
    'pg tx/item',
  ];
  const rows = results.map((r) => {
    const c = r.throughput.cpuUsPerItem;
    return [
      r.config,
      String(r.lines),
      String(r.latency.rate),
      r.latency.p50Ms.toFixed(2),
      r.latency.p99Ms.toFixed(2),
      String(r.throughput.itemsPerSec),
      `${c.washington} / ${c.moscow} / ${c.postgres ?? '-'} / ${c.clients}`,
      r.throughput.pgTransactionsPerItem === null ? '-' : String(r.throughput.pgTransactionsPerItem),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]) => `  ${r.map((v, i) => v.padEnd(widths[i] as number)).join('  ')}\n`;
  process.stdout.write(
    `\nParley scale-out benchmark — ${machine.cpus} × ${machine.cpu}, node ${machine.node}, payload ${PAYLOAD_BYTES} B\n`,
  );
  process.stdout.write(fmt(head));
  for (const r of rows) process.stdout.write(fmt(r));
  for (const f of failures) process.stdout.write(`  FAILED: ${f}\n`);
  process.stdout.write(`  (load average ${conditions.loadavgAtStart[0]} → ${conditions.loadavgAtEnd[0]})\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'scale', payloadBytes: PAYLOAD_BYTES, machine, conditions, results, failures })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

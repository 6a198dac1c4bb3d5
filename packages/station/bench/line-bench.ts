/**
 * Line benchmark: two real station processes on loopback (durable commits: SQLite WAL,
 * synchronous=FULL), a sending client on one and a receiving client on the other, both on
 * the line WebSocket.
 *
 *  (a) one-way latency, client to client: one item at a time, small gaps, the time from the
 *      sender writing the frame to the receiver reading the item off its socket (both
 *      clients run in this process, so they share one clock): the first items after the
 *      stations start (V8 still compiling), then, after a warm-up, the steady state;
 *  (b) sustained throughput of one line: a pipelined sender keeps many items in flight and
 *      the receiving client counts what arrives.
 *
 * Prints a table, then the figures as JSON on the last line.
 *
 *   npm run bench                                  # defaults
 *   node packages/station/dist/bench/line-bench.js --samples 5000 --items 100000 --window 4000
 *   node packages/station/dist/bench/line-bench.js --cpu-prof DIR   # profile both stations
 *   node packages/station/dist/bench/line-bench.js --node-options '--trace-gc'   # flags for both stations
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { opaqueApplicationMessage } from '@parley/e2ee/frames';
import type { Item } from '@parley/protocol';
import { benchArg, cpuMsOf, linkStations, percentile, StationProcess } from '@parley/testkit';
import { LineClient, lineSummary } from '../test/support/line-client.js';

const SAMPLES = Number(benchArg('samples', '2000'));
/** Items sent one at a time after the cold sample and before the steady one. */
const WARMUP = Number(benchArg('warmup', '3000'));
const GAP_MS = Number(benchArg('gap-ms', '1'));
const ITEMS = Number(benchArg('items', '60000'));
const WINDOW = Number(benchArg('window', '2000'));
const PAYLOAD_BYTES = Number(benchArg('payload', '128'));
const CPU_PROF = benchArg('cpu-prof', '');
const SKIP = benchArg('only', 'both');
const NODE_OPTIONS = benchArg('node-options', '').split(' ').filter(Boolean);
/** The stations' heartbeat interval (the product's default is 10 s; 1 s here is ten times its load). */
const HEARTBEAT_MS = Number(benchArg('heartbeat-ms', '1000'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuNow(pids: (number | undefined)[]): number[] {
  const self = process.cpuUsage();
  return [...pids.map(cpuMsOf), (self.user + self.system) / 1000];
}

/** fdatasync latency of the temp filesystem (where the stations keep their databases) right now. */
function fsyncProbe(n = 200): { p50Ms: number; p99Ms: number } {
  const file = join(tmpdir(), `parley-fsync-probe-${process.pid}`);
  const fd = openSync(file, 'w');
  const lat: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      writeSync(fd, Buffer.alloc(4096, i));
      fdatasyncSync(fd);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  lat.sort((a, b) => a - b);
  return { p50Ms: Number(percentile(lat, 50).toFixed(3)), p99Ms: Number(percentile(lat, 99).toFixed(3)) };
}

/**
 * PAYLOAD_BYTES in all: random bytes in the envelope of an MLS application message of the line
 * (the stations refuse anything else), like a member's short encrypted message.
 */
let payload: () => string = () => {
  throw new Error('no line yet');
};
function usePayloadsFor(lineId: string): void {
  const envelope = opaqueApplicationMessage(lineId, new Uint8Array(0)).length;
  const body = Math.max(0, PAYLOAD_BYTES - envelope);
  payload = () => Buffer.from(opaqueApplicationMessage(lineId, randomBytes(body))).toString('base64url');
}

async function main(): Promise<void> {
  const conditions: Record<string, unknown> = {
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    fdatasyncAtStart: fsyncProbe(),
  };
  const nodeArgs = [...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []), ...NODE_OPTIONS];
  const washington = await StationProcess.create({ name: 'washington', heartbeatMs: HEARTBEAT_MS });
  const moscow = await StationProcess.create({ name: 'moscow', heartbeatMs: HEARTBEAT_MS });
  await washington.start({ nodeArgs });
  await moscow.start({ nodeArgs });
  const results: Record<string, unknown> = {};
  try {
    const alice = await washington.addEnrolledMember('alice');
    const boris = await moscow.addEnrolledMember('boris');
    await linkStations(washington, moscow, 'bench', ['alice'], ['boris']);
    usePayloadsFor((await lineSummary(washington.url, alice, 'bench')).id as string);

    // The receiver resolves whoever waits for a client id, and counts arrivals.
    const waiting = new Map<string, (at: bigint) => void>();
    let arrived = 0;
    let firstArrival = 0n;
    let lastArrival = 0n;
    const receiver = new LineClient({
      url: moscow.url,
      token: boris,
      line: 'bench',
      onItem: (item: Item, at: bigint) => {
        if (item.dir !== 'in' || item.clientId === null) return;
        arrived++;
        if (firstArrival === 0n) firstArrival = at;
        lastArrival = at;
        const w = waiting.get(item.clientId);
        if (w) {
          waiting.delete(item.clientId);
          w(at);
        }
      },
    });
    const sender = new LineClient({ url: washington.url, token: alice, line: 'bench' });
    await receiver.start();
    await sender.start();

    if (SKIP !== 'throughput') {
      // (a) latency: one item at a time. A station runs for days, so what counts is the
      // latency once V8 has compiled the hot paths (steady); the first items after a start
      // pay for that compilation too (cold), reported apart.
      const pids = [washington.child?.pid, moscow.child?.pid];
      let n = 0;
      const run = async (count: number) => {
        const lat: number[] = [];
        const acceptLat: number[] = [];
        const cpu0 = cpuNow(pids);
        for (let i = 0; i < count; i++) {
          const clientId = `lat-${String(n++).padStart(7, '0')}`;
          const arrival = new Promise<bigint>((resolve) => waiting.set(clientId, resolve));
          const t0 = process.hrtime.bigint();
          await sender.sendOne(clientId, payload());
          const t1 = process.hrtime.bigint();
          const t2 = await arrival;
          lat.push(Number(t2 - t0) / 1e6);
          acceptLat.push(Number(t1 - t0) / 1e6);
          await sleep(GAP_MS);
        }
        const cpu1 = cpuNow(pids);
        const cpuUs = cpu1.map((v, i) => Number((((v - (cpu0[i] as number)) * 1000) / count).toFixed(1)));
        lat.sort((a, b) => a - b);
        acceptLat.sort((a, b) => a - b);
        return {
          samples: lat.length,
          p50Ms: percentile(lat, 50),
          p90Ms: percentile(lat, 90),
          p99Ms: percentile(lat, 99),
          maxMs: lat[lat.length - 1] as number,
          acceptedP50Ms: percentile(acceptLat, 50),
          acceptedP99Ms: percentile(acceptLat, 99),
          cpuUsPerItem: { sendingStation: cpuUs[0], receivingStation: cpuUs[1], clients: cpuUs[2] },
        };
      };
      const cold = await run(SAMPLES);
      await run(WARMUP);
      results.latency = { ...(await run(SAMPLES)), warmupItems: SAMPLES + WARMUP, cold };
    }

    if (SKIP !== 'latency') {
      // (b) throughput
      const items = Array.from({ length: ITEMS }, (_, i) => ({
        clientId: `tp-${String(i).padStart(8, '0')}`,
        payload: payload(),
        acceptedSeq: null,
      }));
      const lastId = (items[items.length - 1] as { clientId: string }).clientId;
      const before = arrived;
      firstArrival = 0n;
      const done = new Promise<bigint>((resolve) => waiting.set(lastId, resolve));
      const pids = [washington.child?.pid, moscow.child?.pid];
      const cpu0 = cpuNow(pids);
      const t0 = process.hrtime.bigint();
      await sender.sendAll(items, { window: WINDOW });
      const tAccepted = process.hrtime.bigint();
      await done;
      const cpu1 = cpuNow(pids);
      const cpuUsPerItem = cpu1.map((v, i) => Number((((v - (cpu0[i] as number)) * 1000) / ITEMS).toFixed(1)));
      const got = arrived - before;
      const wallS = Number(lastArrival - t0) / 1e9;
      const steadyS = Number(lastArrival - firstArrival) / 1e9;
      results.throughput = {
        items: ITEMS,
        window: WINDOW,
        received: got,
        itemsPerSec: Math.round(got / wallS),
        steadyItemsPerSec: Math.round((got - 1) / steadyS),
        acceptedPerSec: Math.round(ITEMS / (Number(tAccepted - t0) / 1e9)),
        seconds: Number(wallS.toFixed(3)),
        cpuUsPerItem: { sendingStation: cpuUsPerItem[0], receivingStation: cpuUsPerItem[1], clients: cpuUsPerItem[2] },
      };
    }
    sender.stop();
    receiver.stop();
  } finally {
    await washington.stop();
    await moscow.stop();
  }

  conditions.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const out = { bench: 'line', payloadBytes: PAYLOAD_BYTES, machine, conditions, ...results };
  const lat = results.latency as Record<string, number> | undefined;
  const tp = results.throughput as Record<string, number> | undefined;
  const rows: [string, string][] = [];
  if (lat) {
    const cold = lat.cold as unknown as Record<string, number>;
    rows.push([`first ${cold.samples} items after start: p50 / p99`, `${cold.p50Ms?.toFixed(3)} / ${cold.p99Ms?.toFixed(3)} ms`]);
    rows.push([`steady (after ${lat.warmupItems} items), one-way p50`, `${lat.p50Ms?.toFixed(3)} ms`]);
    rows.push(['  p90', `${lat.p90Ms?.toFixed(3)} ms`]);
    rows.push(['  p99', `${lat.p99Ms?.toFixed(3)} ms`]);
    rows.push(['  max', `${lat.maxMs?.toFixed(3)} ms`]);
    rows.push(['sender "accepted" p50 / p99', `${lat.acceptedP50Ms?.toFixed(3)} / ${lat.acceptedP99Ms?.toFixed(3)} ms`]);
    rows.push(['latency samples', String(lat.samples)]);
    const c = lat.cpuUsPerItem as unknown as Record<string, number>;
    rows.push(['  CPU per item: sending / receiving station', `${c.sendingStation} / ${c.receivingStation} µs`]);
  }
  if (tp) {
    rows.push(['throughput, one line (at the receiver)', `${tp.itemsPerSec} items/s`]);
    rows.push(['  steady (first to last arrival)', `${tp.steadyItemsPerSec} items/s`]);
    rows.push(['  sender accepted', `${tp.acceptedPerSec} items/s`]);
    rows.push(['  items / window', `${tp.items} / ${tp.window}`]);
    const c = tp.cpuUsPerItem as unknown as Record<string, number>;
    rows.push(['  CPU per item: sending / receiving station', `${c.sendingStation} / ${c.receivingStation} µs`]);
    rows.push(['  CPU per item: both clients (this process)', `${c.clients} µs`]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\nParley line benchmark — ${machine.cpus} × ${machine.cpu}, node ${machine.node}, payload ${PAYLOAD_BYTES} B\n`);
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
  const fs0 = conditions.fdatasyncAtStart as { p50Ms: number; p99Ms: number };
  process.stdout.write(
    `  (load average ${(conditions.loadavgAtStart as number[])[0]} → ${(conditions.loadavgAtEnd as number[])[0]}; fdatasync p50 ${fs0.p50Ms} ms, p99 ${fs0.p99Ms} ms before the run)\n`,
  );
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

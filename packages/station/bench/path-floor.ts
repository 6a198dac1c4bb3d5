/**
 * The floor of the line benchmark's latency on this machine: the same path as an item takes
 * (client → station A → station B → client over three loopback WebSockets, with one durable
 * SQLite commit at each station: WAL, synchronous=FULL), with no Parley code at all. Two child
 * processes play the stations; each only parses the frame, inserts one row, commits and passes
 * the frame on. Whatever the line benchmark measures above this, our code costs; what this
 * measures, no code of ours can win back.
 *
 *   node packages/station/dist/bench/path-floor.js [--n 2000] [--gap-ms 1] [--aftermath on]
 *
 * `--aftermath on` adds what every real item also causes: A answers the client ("accepted")
 * and B acknowledges to A, which tells the client "delivered".
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArg, cpuMsOf, percentile } from '@parley/testkit';
import Database from 'better-sqlite3';
import { WebSocket, WebSocketServer } from 'ws';

const N = Number(benchArg('n', '2000'));
const GAP_MS = Number(benchArg('gap-ms', '1'));
const AFTERMATH = benchArg('aftermath', 'off') === 'on';

/** One station's stand-in: a WebSocket server that commits each frame and passes it on. */
function station(role: 'a' | 'b', dir: string): void {
  const db = new Database(join(dir, `${role}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table if not exists items (pos integer primary key, client_id text unique, payload blob)');
  const insert = db.prepare('insert into items (client_id, payload) values (?, ?)');
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  let toClient: WebSocket | null = null;
  let toPeer: WebSocket | null = null;
  wss.on('connection', (ws, req) => {
    if (req.url === '/client') toClient = ws;
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { id: string; payload?: string; ack?: boolean };
      if (frame.ack) {
        if (AFTERMATH) toClient?.send(JSON.stringify({ delivered: frame.id }));
        return;
      }
      insert.run(frame.id, Buffer.from(frame.payload ?? '', 'base64'));
      if (role === 'a') {
        toPeer?.send(String(raw));
        if (AFTERMATH) ws.send(JSON.stringify({ accepted: frame.id }));
      } else {
        toClient?.send(String(raw));
        if (AFTERMATH) ws.send(JSON.stringify({ ack: true, id: frame.id }));
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
  process.on('message', (m: { peer?: number }) => {
    if (m.peer === undefined) return;
    toPeer = new WebSocket(`ws://127.0.0.1:${m.peer}/peer`);
    toPeer.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { id: string };
      if (AFTERMATH) toClient?.send(JSON.stringify({ delivered: frame.id }));
    });
    toPeer.once('open', () => process.send?.('linked'));
  });
  process.on('disconnect', () => process.exit(0));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-path-floor-'));
  const self = fileURLToPath(import.meta.url);
  const a = fork(self, ['--station', 'a', dir], { stdio: 'inherit' });
  const b = fork(self, ['--station', 'b', dir], { stdio: 'inherit' });
  try {
    const portOf = (c: typeof a) => new Promise<number>((resolve) => c.once('message', (m) => resolve(Number(m))));
    const [pa, pb] = await Promise.all([portOf(a), portOf(b)]);
    const linked = new Promise((resolve) => a.once('message', resolve));
    a.send({ peer: pb });
    await linked;
    const open = (port: number) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/client`);
        ws.once('open', () => resolve(ws)).once('error', reject);
      });
    const sender = await open(pa);
    const receiver = await open(pb);
    const waiting = new Map<string, () => void>();
    receiver.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { id?: string };
      if (frame.id) waiting.get(frame.id)?.();
    });
    sender.on('message', (raw) => JSON.parse(String(raw)));
    const payload = Buffer.alloc(128, 7).toString('base64');
    const lat: number[] = [];
    let cpu0 = [0, 0];
    for (let i = 0; i < N + 300; i++) {
      const id = `i${i}`;
      const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
      const t0 = performance.now();
      sender.send(JSON.stringify({ id, payload }));
      await arrived;
      if (i === 300) cpu0 = [cpuMsOf(a.pid), cpuMsOf(b.pid)];
      if (i >= 300) lat.push(performance.now() - t0);
      waiting.delete(id);
      if (GAP_MS > 0) await sleep(GAP_MS);
    }
    const cpuUs = [cpuMsOf(a.pid), cpuMsOf(b.pid)].map((v, i) => Math.round(((v - (cpu0[i] as number)) * 1000) / N));
    sender.close();
    receiver.close();
    lat.sort((x, y) => x - y);
    const at = (p: number) => Number(percentile(lat, p).toFixed(3));
    const out = {
      bench: 'path-floor',
      n: N,
      gapMs: GAP_MS,
      aftermath: AFTERMATH,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: at(100),
      cpuUsPerItem: { a: cpuUs[0], b: cpuUs[1] },
    };
    process.stdout.write(
      `  bare path, client → A (commit) → B (commit) → client${AFTERMATH ? ', with accepted/ack/delivered' : ''}: p50 ${out.p50Ms} ms  p90 ${out.p90Ms} ms  p99 ${out.p99Ms} ms  max ${out.maxMs} ms  CPU per item A/B ${cpuUs[0]}/${cpuUs[1]} µs\n`,
    );
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    a.disconnect();
    b.disconnect();
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--station');
if (at >= 0) station(process.argv[at + 1] as 'a' | 'b', process.argv[at + 2] as string);
else await main();

/**
 * The machine's floor for one hop: what a bare request/answer between two Node processes on
 * loopback costs, with no Parley code in it — an HTTP keep-alive POST (what a station's forwarder
 * sends its peer) and a WebSocket message (what a client and its station exchange). Each is
 * timed one at a time with a gap between (as a single item travels), and the CPU it cost the
 * asking process is read from `process.cpuUsage`. The line benchmark's one-way latency crosses
 * three such hops and two durable commits; this says how much of it no code of ours can win back.
 *
 *   node packages/station/dist/bench/hop-probe.js [--n 2000] [--gap-ms 1]
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { benchArg, percentile } from '@parley/testkit';
import { WebSocket, WebSocketServer } from 'ws';

const N = Number(benchArg('n', '2000'));
const GAP_MS = Number(benchArg('gap-ms', '1'));
const ANSWER = '{"ackedSeq":1}';

/** The answering side, in a child process: an HTTP server and a WebSocket server on 127.0.0.1. */
function serve(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(ANSWER));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', () => ws.send(ANSWER)));
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
  process.on('disconnect', () => process.exit(0));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(what: string, once: () => Promise<void>): Promise<Record<string, number | string>> {
  for (let i = 0; i < 200; i++) await once();
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await once();
    lat.push(performance.now() - t0);
    if (GAP_MS > 0) await sleep(GAP_MS);
  }
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const at = (p: number) => Number(percentile(lat, p).toFixed(3));
  return { hop: what, p50Ms: at(50), p99Ms: at(99), askerCpuUsPerHop: Math.round((cpu.user + cpu.system) / N) };
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    const agent = new http.Agent({ keepAlive: true });
    const body = Buffer.from(JSON.stringify({ items: [{ seq: 1, payload: 'x'.repeat(180) }] }));
    const post = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const message = () =>
      new Promise<void>((resolve) => {
        ws.once('message', () => resolve());
        ws.send(body);
      });
    const results = [await measure('HTTP keep-alive POST + answer', post), await measure('WebSocket message + answer', message)];
    ws.close();
    agent.destroy();
    for (const r of results) {
      process.stdout.write(
        `  ${String(r.hop).padEnd(32)} p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  CPU at the asking side ${r.askerCpuUsPerHop} µs\n`,
      );
    }
    process.stdout.write(`${JSON.stringify({ bench: 'hop-probe', n: N, gapMs: GAP_MS, results })}\n`);
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) serve();
else await main();

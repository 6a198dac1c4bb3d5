/**
 * End-to-end latency with encryption on: two real station processes on loopback (durable
 * commits), one MLS device per side in this process (the same @parley/e2ee code the CLI and the
 * web app run), both on the line WebSocket. Each sample is the time from the sender starting to
 * encrypt a short message to the receiver holding its decrypted, verified plaintext; the
 * encryption and decryption shares are printed apart.
 *
 *   node packages/station/dist/bench/e2ee-line-bench.js [--samples 500] [--warmup 50] [--gap-ms 5]
 */
import { cpus, loadavg } from 'node:os';
import { encrypt, processMessage } from '@parley/e2ee';
import type { Item } from '@parley/protocol';
import { benchArg, linkStations, StationProcess } from '@parley/testkit';
import { TestDevice } from '../test/support/e2ee-device.js';
import { LineClient } from '../test/support/line-client.js';

const SAMPLES = Number(benchArg('samples', '500'));
const WARMUP = Number(benchArg('warmup', '50'));
const GAP_MS = Number(benchArg('gap-ms', '5'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;

function pct(sorted: number[], p: number): number {
  return Number((sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN).toFixed(3));
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  const wa = await StationProcess.create({ name: 'washington', heartbeatMs: 1000 });
  const mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 1000 });
  await Promise.all([wa.start(), mo.start()]);
  try {
    const aliceToken = await wa.addEnrolledMember('alice');
    const borisToken = await mo.addEnrolledMember('boris');
    await linkStations(wa, mo, 'bench', ['alice'], ['boris']);
    const alice = new TestDevice(wa.url, aliceToken, 'alice');
    const boris = new TestDevice(mo.url, borisToken, 'boris');
    await alice.register();
    await boris.register();
    // Until the hub has added both devices (and they have read everything so far).
    for (let i = 0; !(alice.group && boris.group && alice.group.epoch === boris.group.epoch); i++) {
      if (i > 300) throw new Error('the devices did not join the line\u2019s group');
      await alice.sync('bench');
      await boris.sync('bench');
      await sleep(100);
    }
    await sleep(4000); // the hub's reconcile settles: no commit in flight during the samples
    await alice.sync('bench');
    await boris.sync('bench');
    const policy = await boris.policy('bench');

    const waiting = new Map<string, (at: { arrived: bigint; decrypted: bigint }) => void>();
    let chain: Promise<void> = Promise.resolve();
    const receiver = new LineClient({
      url: mo.url,
      token: borisToken,
      line: 'bench',
      onItem: (item: Item, arrived: bigint) => {
        if (item.pos <= boris.cursor) return;
        boris.cursor = item.pos;
        // Decrypt in timeline order, one at a time, as a real client does.
        chain = chain.then(async () => {
          if (item.kind !== 'mls' || !boris.group) return;
          const res = await processMessage(boris.group, new Uint8Array(Buffer.from(item.payload, 'base64url')), policy);
          boris.group = res.state;
          const decrypted = process.hrtime.bigint();
          if (res.kind === 'application') waiting.get(new TextDecoder().decode(res.plaintext))?.({ arrived, decrypted });
        });
      },
    });
    const sender = new LineClient({ url: wa.url, token: aliceToken, line: 'bench' });
    await receiver.start();
    await sender.start();

    const total: number[] = [];
    const enc: number[] = [];
    const dec: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const text = `sample ${i}: the quick brown fox jumps over the lazy dog`;
      const got = new Promise<{ arrived: bigint; decrypted: bigint }>((resolve) => waiting.set(text, resolve));
      const t0 = process.hrtime.bigint();
      const out = await encrypt(alice.group as NonNullable<typeof alice.group>, new TextEncoder().encode(text));
      alice.group = out.state;
      const t1 = process.hrtime.bigint();
      await sender.sendOne(`e2e-${String(i).padStart(7, '0')}`, Buffer.from(out.message).toString('base64url'));
      const { arrived, decrypted } = await got;
      waiting.delete(text);
      if (i >= WARMUP) {
        total.push(ms(t0, decrypted));
        enc.push(ms(t0, t1));
        dec.push(ms(arrived, decrypted));
      }
      await sleep(GAP_MS);
    }
    sender.stop();
    receiver.stop();
    for (const a of [total, enc, dec]) a.sort((x, y) => x - y);
    const result = {
      bench: 'e2ee-line',
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model.trim(), node: process.version },
      loadavg: [loadStart, loadavg()[0]],
      samples: total.length,
      endToEnd: { p50Ms: pct(total, 50), p90Ms: pct(total, 90), p99Ms: pct(total, 99) },
      encryptP50Ms: pct(enc, 50),
      decryptP50Ms: pct(dec, 50),
    };
    process.stdout.write(
      `\nParley end-to-end encrypted latency — ${result.machine.cpus} × ${result.machine.cpu}\n` +
        `  encrypt → station → station → decrypt  p50 ${result.endToEnd.p50Ms} ms  p90 ${result.endToEnd.p90Ms} ms  p99 ${result.endToEnd.p99Ms} ms\n` +
        `  of which encrypt p50 ${result.encryptP50Ms} ms, decrypt p50 ${result.decryptP50Ms} ms (${result.samples} samples)\n` +
        `${JSON.stringify(result)}\n`,
    );
  } finally {
    await Promise.all([wa.stop(), mo.stop()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

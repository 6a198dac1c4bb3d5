import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { checkStream, linkStations, StationProcess, testPostgresUrl } from '@parley/testkit';
import {
  type ClientItem,
  httpSendAll,
  LineClient,
  lineSummary,
  opaquePayload,
  readTimeline,
  timelinesAtRest,
  waitFor,
} from './support/line-client.js';

const pgAdmin = testPostgresUrl();
const LINE = 'chiefs';
/** Items the first test sent, so the second can check the whole stream from seq 1. */
const early = { toMoscow: [] as ClientItem[], toWashington: [] as ClientItem[] };

let lineId = '';

function makeItems(prefix: string, n: number): ClientItem[] {
  return Array.from({ length: n }, (_, i) => ({
    clientId: `${prefix}-${i}-${randomBytes(4).toString('hex')}`,
    payload: opaquePayload(lineId, `${prefix} ${i}`),
    acceptedSeq: null,
  }));
}

// Issue 10: one station as several processes on one PostgreSQL database. Runs when
// PARLEY_TEST_PG names a PostgreSQL server (CI starts one); skipped on SQLite-only runs.
describe('a station of three processes on PostgreSQL', { skip: pgAdmin ? false : 'PARLEY_TEST_PG is not set' }, () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let procs: StationProcess[];
  const alive = new Set<number>();
  let waToken: string;
  let moToken: string;

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', endpoints: 3, heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    procs = [0, 1, 2].map((i) => wa.processOf(i));
    await Promise.all([...procs.map((p) => p.start()), mo.start()]);
    for (const i of [0, 1, 2]) alive.add(i);
    waToken = await (procs[0] as StationProcess).addEnrolledMember('chief', 'principal');
    moToken = await mo.addEnrolledMember('chief', 'principal');
    await linkStations(procs[0] as StationProcess, mo, LINE, ['chief'], ['chief']);
    lineId = (await lineSummary(mo.url, moToken, LINE)).id as string;
  });
  after(async () => {
    await Promise.all([...procs.map((p) => p.stop()), mo.stop()]);
  });

  it('delivers a message accepted by one process to a client connected to another, without polling', async () => {
    const watcher = new LineClient({ url: (procs[1] as StationProcess).url, token: waToken, line: LINE, keepView: true });
    await watcher.start();
    try {
      const mine = makeItems('via-process-2', 1);
      await httpSendAll(() => (procs[2] as StationProcess).url, waToken, LINE, mine);
      const theirs = makeItems('from-moscow', 1);
      await httpSendAll(() => mo.url, moToken, LINE, theirs);
      early.toMoscow.push(...mine);
      early.toWashington.push(...theirs);
      await waitFor('both items in the live view of process 1', async () => {
        const ids = new Set(watcher.view.map((i) => i.clientId));
        return ids.has(mine[0]?.clientId as string) && ids.has(theirs[0]?.clientId as string) ? true : undefined;
      });
    } finally {
      watcher.stop();
    }
  });

  it('keeps sequence numbers gap-free and loses nothing while processes are killed one at a time', async () => {
    const toMoscow = makeItems('wa', 5000);
    const toWashington = makeItems('mo', 5000);
    let rr = 0;
    const anyAlive = () => {
      const list = [...alive];
      const i = list[rr++ % list.length] as number;
      return (procs[i] as StationProcess).url;
    };
    let sending = true;
    const killer = (async () => {
      let kills = 0;
      while (sending && kills < 6) {
        await new Promise((r) => setTimeout(r, 700 + Math.random() * 1200));
        if (!sending) break;
        const i = Math.floor(Math.random() * 3);
        alive.delete(i);
        await (procs[i] as StationProcess).kill9();
        kills++;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 500));
        await (procs[i] as StationProcess).start();
        alive.add(i);
      }
      return kills;
    })();
    await Promise.all([
      httpSendAll(anyAlive, waToken, LINE, toMoscow, { concurrency: 12 }),
      httpSendAll(() => mo.url, moToken, LINE, toWashington, { concurrency: 8 }),
    ]);
    sending = false;
    const kills = await killer;
    assert.ok(kills >= 1, 'at least one process was killed mid-run');

    const expectedAtMoscow = toMoscow.length + early.toMoscow.length;
    const expectedAtWashington = toWashington.length + early.toWashington.length;
    await waitFor(
      'both stations to hold everything',
      async () => {
        const clientItemsIn = async (url: string, token: string) =>
          (await readTimeline(url, token, LINE)).filter((i) => i.dir === 'in' && i.sender.handle !== 'recorder').length;
        return (await clientItemsIn(mo.url, moToken)) >= expectedAtMoscow &&
          (await clientItemsIn(anyAlive(), waToken)) >= expectedAtWashington
          ? true
          : undefined;
      },
      120_000,
      500,
    );
    // Washington's hub goes on adding record items for a moment: compare both ends at rest.
    const { a: waTimeline, b: moTimeline } = await timelinesAtRest(
      { url: anyAlive, token: waToken },
      { url: mo.url, token: moToken },
      LINE,
    );

    const wa2mo = checkStream({
      senders: [{ name: 'washington clients', handle: 'chief', ordered: false, items: [...early.toMoscow, ...toMoscow] }],
      receiverTimeline: moTimeline,
      senderTimeline: waTimeline,
      otherSenders: ['recorder'], // the recorders' group commits share the stream
    });
    const mo2wa = checkStream({
      senders: [{ name: 'moscow clients', handle: 'chief', ordered: false, items: [...early.toWashington, ...toWashington] }],
      receiverTimeline: waTimeline,
      senderTimeline: moTimeline,
      otherSenders: ['recorder'],
    });
    assert.deepEqual(wa2mo.problems, [], 'washington → moscow');
    assert.deepEqual(mo2wa.problems, [], 'moscow → washington');
    // Concurrent senders on three processes drew from one sequence: 1..N without a gap.
    const outSeqs = waTimeline.filter((i) => i.dir === 'out').map((i) => i.seq);
    assert.deepEqual(
      outSeqs,
      Array.from({ length: outSeqs.length }, (_, k) => k + 1),
    );
  });
});

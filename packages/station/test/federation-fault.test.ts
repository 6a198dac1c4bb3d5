import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { RECORDER_HANDLE } from '@parley/protocol';
import { checkLiveView, checkStream, linkStations, StationProcess, TcpProxy, type SenderLog } from '@parley/testkit';
import { type ClientItem, httpSendAll, LineClient, lineSummary, opaquePayload, timelinesAtRest } from './support/line-client.js';

// Two real station processes, each reaching the other only through a TCP proxy; clients on
// both sides send thousands of items at once while the stations are killed with SIGKILL and
// restarted and the proxies reset every connection. Afterwards a checker proves each
// direction of the line is exactly-once and ordered. Set PARLEY_FAULT_SEED to replay a run.

const PER_DIRECTION_WS = 4000;
const PER_DIRECTION_HTTP = 1200;
const KILLS = 3;
const MIN_CUTS = 4;

function prng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeItems(lineId: string, prefix: string, n: number): ClientItem[] {
  return Array.from({ length: n }, (_, i) => ({
    clientId: `${prefix}-${String(i).padStart(6, '0')}`,
    payload: opaquePayload(lineId, Buffer.concat([Buffer.from(`${prefix}:${i}:`), randomBytes(24)])),
    acceptedSeq: null,
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a line under faults', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('delivers every acknowledged item exactly once and in order through kill -9 and connection resets', async (t) => {
    const seed = Number(process.env.PARLEY_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed ${seed}`);
    const rand = prng(seed);
    const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo));

    // The acceptor reaches the inviter through toInviter, the inviter the acceptor through toAcceptor.
    const toInviter = await TcpProxy.start();
    const toAcceptor = await TcpProxy.start();
    cleanup.push(
      () => toInviter.close(),
      () => toAcceptor.close(),
    );
    const washington = await StationProcess.create({
      name: 'washington',
      heartbeatMs: 500,
      advertise: (ports) => {
        toInviter.setTarget(ports[0] as number);
        return [toInviter.url];
      },
    });
    const moscow = await StationProcess.create({
      name: 'moscow',
      heartbeatMs: 500,
      advertise: (ports) => {
        toAcceptor.setTarget(ports[0] as number);
        return [toAcceptor.url];
      },
    });
    await washington.start();
    await moscow.start();
    cleanup.push(
      () => washington.stop().then(() => undefined),
      () => moscow.stop().then(() => undefined),
    );
    const tokens = {
      alice: await washington.addEnrolledMember('alice'),
      anna: await washington.addEnrolledMember('anna'),
      boris: await moscow.addEnrolledMember('boris'),
      bella: await moscow.addEnrolledMember('bella'),
    };
    await linkStations(washington, moscow, 'hotline', ['alice', 'anna'], ['boris', 'bella']);
    const lineId = (await lineSummary(washington.url, tokens.alice, 'hotline')).id as string;

    // Each side: one pipelined WebSocket client (also watching the line live) and parallel HTTP senders.
    const alice = new LineClient({ url: washington.url, token: tokens.alice, line: 'hotline', keepView: true });
    const boris = new LineClient({ url: moscow.url, token: tokens.boris, line: 'hotline', keepView: true });
    cleanup.push(
      () => alice.stop(),
      () => boris.stop(),
    );
    await alice.start();
    await boris.start();
    const sent = {
      alice: makeItems(lineId, 'alice', PER_DIRECTION_WS),
      anna: makeItems(lineId, 'anna', PER_DIRECTION_HTTP),
      boris: makeItems(lineId, 'boris', PER_DIRECTION_WS),
      bella: makeItems(lineId, 'bella', PER_DIRECTION_HTTP),
    };

    const t0 = Date.now();
    let sendersDone = false;
    const senders = Promise.all([
      alice.sendAll(sent.alice, { window: 200, ratePerSec: 350 }),
      boris.sendAll(sent.boris, { window: 200, ratePerSec: 350 }),
      httpSendAll(() => washington.url, tokens.anna, 'hotline', sent.anna, { concurrency: 6, ratePerSec: 100 }),
      httpSendAll(() => moscow.url, tokens.bella, 'hotline', sent.bella, { concurrency: 6, ratePerSec: 100 }),
    ]).finally(() => {
      t.diagnostic(`senders done after ${Date.now() - t0} ms`);
      sendersDone = true;
    });

    // Chaos: each station is killed and restarted on its own schedule (so sometimes both are
    // down at once), and the proxies reset every open connection now and then.
    const kills = { washington: 0, moscow: 0 };
    const killer = async (st: StationProcess, name: 'washington' | 'moscow') => {
      while (kills[name] < KILLS) {
        await sleep(between(800, 2500));
        await st.kill9();
        kills[name]++;
        await sleep(between(0, 400));
        const r0 = Date.now();
        await st.start();
        if (process.env.PARLEY_FAULT_DEBUG)
          console.error(
            `${name} restarted in ${Date.now() - r0} ms at ${Date.now() - t0}; alice ${sent.alice.filter((x) => x.acceptedSeq !== null).length} boris ${sent.boris.filter((x) => x.acceptedSeq !== null).length} anna ${sent.anna.filter((x) => x.acceptedSeq !== null).length}`,
          );
      }
    };
    let cuts = 0;
    const cutter = async () => {
      while (!sendersDone || cuts < MIN_CUTS) {
        await sleep(between(200, 900));
        (rand() < 0.5 ? toInviter : toAcceptor).cut();
        if (rand() < 0.3) (rand() < 0.5 ? toAcceptor : toInviter).cut();
        cuts++;
      }
    };
    await Promise.all([senders, killer(washington, 'washington'), killer(moscow, 'moscow'), cutter()]);
    t.diagnostic(
      `kills: ${JSON.stringify(kills)}, cut rounds: ${cuts}, client reconnects: alice ${alice.connects}, boris ${boris.connects}`,
    );

    // Quiescence: nothing left to forward either way, both live views caught up, and both
    // timelines read in one still moment (the recorders may add a group commit now and then).
    const { a: wTimeline, b: mTimeline } = await timelinesAtRest(
      { url: washington.url, token: tokens.alice },
      { url: moscow.url, token: tokens.boris },
      'hotline',
      (w, m) => alice.lastPos === w.lastPos && boris.lastPos === m.lastPos,
    );
    t.diagnostic(`washington lastPos ${wTimeline.length}, moscow lastPos ${mTimeline.length}`);

    const senderLog = (name: 'alice' | 'anna' | 'boris' | 'bella', ordered: boolean): SenderLog => ({
      name,
      handle: name,
      ordered,
      items: sent[name],
    });

    const toMoscow = checkStream({
      senders: [senderLog('alice', true), senderLog('anna', false)],
      receiverTimeline: mTimeline,
      senderTimeline: wTimeline,
      otherSenders: [RECORDER_HANDLE], // each station's recorder device puts its group commits on the line too
    });
    const toWashington = checkStream({
      senders: [senderLog('boris', true), senderLog('bella', false)],
      receiverTimeline: wTimeline,
      senderTimeline: mTimeline,
      otherSenders: [RECORDER_HANDLE], // each station's recorder device puts its group commits on the line too
    });
    t.diagnostic(`washington → moscow: ${JSON.stringify(toMoscow.stats)}`);
    t.diagnostic(`moscow → washington: ${JSON.stringify(toWashington.stats)}`);
    assert.deepEqual(toMoscow.problems, [], 'washington → moscow');
    assert.deepEqual(toWashington.problems, [], 'moscow → washington');
    // The clients retried until every send was answered, so everything was acknowledged.
    assert.equal(toMoscow.stats.acknowledged, PER_DIRECTION_WS + PER_DIRECTION_HTTP);
    assert.equal(toWashington.stats.acknowledged, PER_DIRECTION_WS + PER_DIRECTION_HTTP);
    assert.equal(toMoscow.stats.received, PER_DIRECTION_WS + PER_DIRECTION_HTTP);
    assert.equal(toWashington.stats.received, PER_DIRECTION_WS + PER_DIRECTION_HTTP);

    // What the WebSocket clients watched live, across their reconnects, is the timeline itself.
    assert.deepEqual(checkLiveView(alice.view, wTimeline).problems, [], 'alice live view');
    assert.deepEqual(checkLiveView(boris.view, mTimeline).problems, [], 'boris live view');
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(boris.errors, []);

    // The faults really happened, and on the path under test.
    assert.ok(kills.washington === KILLS && kills.moscow === KILLS);
    assert.ok(alice.connects > 1 && boris.connects > 1, 'clients reconnected after restarts');
    assert.ok(toInviter.connections > 0 && toAcceptor.connections > 0, 'stations reached each other through the proxies');
  });
});

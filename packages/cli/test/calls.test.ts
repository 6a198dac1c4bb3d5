// Calls through the real `parley call` commands against two real stations on loopback: a
// request from one side, acknowledged and accepted by the other, rung, connected and ended; every
// state reached is seen, with who and when, identically on both sides; refusals change nothing;
// an unacknowledged flash request escalates and is marked unanswered on both sides.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliMember, cliOk, eventually, linkStations, runCli, StationProcess } from '@parley/testkit';

const LINE = 'hotline';
// Short deadlines so escalation shows within the test: acknowledge a flash request within 3 s,
// deputies 2 s later.
const POLICY = JSON.stringify({ ackDeadlineMs: { flash: 3000 }, deputyAfterMs: { flash: 2000 } });
// Duty-officer test messages every minute (the first at once), to be acknowledged within 4 s.
const TESTS = JSON.stringify({ intervalMs: 60_000, ackDeadlineMs: 4000 });
const ENV = { PARLEY_CALL_POLICY: POLICY, PARLEY_TEST_POLICY: TESTS };

interface TestJson {
  testId: string;
  from: string;
  sentAt: number;
  acknowledged: { at: number; by: { side: string; handle: string } } | null;
  unansweredAt: number | null;
}

interface CallJson {
  callId: string;
  talkId: string;
  urgency: string;
  state: string;
  requester: { side: string; handle: string };
  to: string | null;
  reached: Record<string, { at: number; by: { side: string; handle?: string } }>;
  escalated: Record<string, number>;
  unansweredAt: number | null;
}

describe('calls on a line, through the CLI', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  const profiles: Record<string, string> = {};

  const login = cliMember;

  const list = async (who: string): Promise<CallJson[]> =>
    (JSON.parse(await cliOk(['call', 'list', '--profile', profiles[who] as string, '--line', LINE, '--json'])) as { calls: CallJson[] })
      .calls;
  const call = (who: string, args: string[]) => runCli(['call', ...args, '--profile', profiles[who] as string, '--line', LINE, '--json']);

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start({ env: ENV }), mo.start({ env: ENV })]);
    profiles.waChief = await login(wa, 'chief', 'principal');
    profiles.moChief = await login(mo, 'chief', 'principal');
    profiles.moDuty = await login(mo, 'duty', 'duty_officer');
    profiles.moDeputy = await login(mo, 'deputy', 'deputy');
    await linkStations(wa, mo, LINE, ['chief'], ['chief', 'duty', 'deputy']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('takes a call from request to end, both sides seeing each state with who and when', async () => {
    // Moscow (not the hub) requests: its station passes the request on to the hub.
    const req = await call('moChief', ['request', '--urgency', 'priority', '--to', 'chief']);
    assert.equal(req.code, 0, req.stderr);
    const callId = (JSON.parse(req.stdout) as { event: { callId: string } }).event.callId;
    const seenAtMoscow = await list('moDuty');
    assert.equal(seenAtMoscow.find((c) => c.callId === callId)?.state, 'requested', 'the requester\u2019s station shows it at once');

    // The requester cannot acknowledge its own request; the far side can.
    const own = await call('moChief', ['ack', '--call', callId]);
    assert.notEqual(own.code, 0);
    assert.match(own.stderr, /CALL_NOT_FAR_SIDE/);
    assert.equal((await call('waChief', ['ack', '--call', callId.slice(0, 8)])).code, 0, 'a short id names the call');
    assert.equal((await call('waChief', ['accept', '--call', callId])).code, 0);
    const twice = await call('waChief', ['accept', '--call', callId]);
    assert.notEqual(twice.code, 0, 'accepting twice is refused');
    assert.match(twice.stderr, /CALL_ALREADY_DECIDED/);
    for (const step of ['ring', 'connect', 'end'] as const) {
      const r = await call(step === 'ring' ? 'moChief' : 'waChief', [step, '--call', callId]);
      assert.equal(r.code, 0, `${step}: ${r.stderr}`);
    }

    const states = ['requested', 'acknowledged', 'accepted', 'ringing', 'connected', 'ended'];
    const wash = await eventually('washington to show the call ended', async () => {
      const c = (await list('waChief')).find((x) => x.callId === callId);
      return c?.state === 'ended' ? c : undefined;
    });
    const mosc = await eventually('moscow to show the call ended', async () => {
      const c = (await list('moChief')).find((x) => x.callId === callId);
      return c?.state === 'ended' ? c : undefined;
    });
    assert.deepEqual(mosc, wash, 'both stations hold the same call, state by state');
    assert.deepEqual(Object.keys(wash.reached).sort(), [...states].sort());
    assert.deepEqual(wash.requester, { side: 'acceptor', handle: 'chief' });
    assert.deepEqual(wash.reached.acknowledged?.by, { side: 'inviter', handle: 'chief' });
    const times = states.map((s) => wash.reached[s]?.at as number);
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
      'each state was reached after the one before',
    );
  });

  it('refuses acting on a call one has no seat for, or that does not exist, and changes nothing', async () => {
    const before = await list('moChief');
    const missing = await call('waChief', ['accept', '--call', 'AAAAAAAAAAAAAAAAAAAAAA']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /CALL_NOT_FOUND/);
    const badTo = await call('waChief', ['request', '--urgency', 'routine', '--to', 'nobody']);
    assert.notEqual(badTo.code, 0);
    assert.match(badTo.stderr, /holds no seat/);
    // A member of moscow without a seat on the line.
    const outsider = await login(mo, 'clerk', 'principal');
    const r = await runCli(['call', 'request', '--urgency', 'flash', '--profile', outsider, '--line', LINE]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NOT_FOUND|FORBIDDEN/);
    assert.deepEqual(await list('moChief'), before);
  });

  it('escalates an unacknowledged flash request to duty officers, then deputies, unanswered on both sides', async () => {
    const req = await call('waChief', ['request', '--urgency', 'flash', '--topic', 'border incident']);
    assert.equal(req.code, 0, req.stderr);
    const callId = (JSON.parse(req.stdout) as { event: { callId: string } }).event.callId;
    for (const who of ['waChief', 'moDuty']) {
      const c = await eventually(`${who} to see the request escalated to deputies`, async () => {
        const found = (await list(who)).find((x) => x.callId === callId);
        return found?.escalated.deputy !== undefined ? found : undefined;
      });
      assert.notEqual(c.unansweredAt, null, 'marked unanswered');
      assert.ok((c.escalated.duty_officer as number) < (c.escalated.deputy as number), 'duty officers first, then deputies');
      assert.ok((c.unansweredAt as number) - (c.reached.requested?.at as number) >= 3000, 'not before the deadline');
    }
    // The far side's timeline shows the escalation and the decrypted topic.
    const view = (await cliOk(['read', '--profile', profiles.moDuty as string, '--line', LINE])).trim();
    assert.match(view, /requests a flash call/);
    assert.match(view, /duty officers of the called side alerted/);
    assert.match(view, /deputies of the called side alerted/);
    assert.match(view, /Topics: border incident/);
    // A late answer is still taken, and the record of it stays.
    assert.equal((await call('moDuty', ['ack', '--call', callId])).code, 0);
    const after = (await list('waChief')).find((x) => x.callId === callId) as CallJson;
    assert.equal(after.state, 'acknowledged');
    assert.notEqual(after.unansweredAt, null);
  });

  it('sends duty-officer test messages both ways: acknowledged by a duty officer, or the line is unanswered', async () => {
    const tests = async (who: string) =>
      JSON.parse(await cliOk(['call', 'list', '--profile', profiles[who] as string, '--line', LINE, '--json'])) as {
        tests: TestJson[];
        stats: { unanswered: boolean; tests: { due: number; inTime: number }; unansweredCount: number };
      };
    const fromWashington = await eventually('washington\u2019s test message at moscow', async () =>
      (await tests('moDuty')).tests.find((t) => t.from === 'inviter'),
    );
    // Only the far side's duty officer may acknowledge it.
    const principal = await call('moChief', ['test-ack', '--test', fromWashington.testId]);
    assert.notEqual(principal.code, 0);
    assert.match(principal.stderr, /TEST_NOT_DUTY_OFFICER/);
    const own = await call('waChief', ['test-ack', '--test', fromWashington.testId]);
    assert.notEqual(own.code, 0);
    assert.match(own.stderr, /TEST_NOT_FAR_SIDE|TEST_NOT_DUTY_OFFICER/);
    const ack = await call('moDuty', ['test-ack', '--test', fromWashington.testId]);
    assert.equal(ack.code, 0, ack.stderr);
    // Washington has no duty officer on the line: moscow's test goes unanswered.
    const seen = await eventually('moscow\u2019s test marked unanswered at washington', async () => {
      const v = await tests('waChief');
      return v.tests.some((t) => t.from === 'acceptor' && t.unansweredAt !== null) ? v : undefined;
    });
    assert.equal(seen.stats.unanswered, true, 'the line shows as unanswered');
    const acked = seen.tests.find((t) => t.testId === fromWashington.testId);
    assert.deepEqual(acked?.acknowledged?.by, { side: 'acceptor', handle: 'duty' });
    const atMoscow = await tests('moChief');
    assert.deepEqual(
      atMoscow.tests.map((t) => [t.testId, t.acknowledged?.at ?? null, t.unansweredAt]),
      seen.tests.map((t) => [t.testId, t.acknowledged?.at ?? null, t.unansweredAt]).slice(0, atMoscow.tests.length),
      'both stations hold the same tests',
    );
    const text = await cliOk(['call', 'list', '--profile', profiles.waChief as string, '--line', LINE]);
    assert.match(text, /UNANSWERED since/);
    // The operators see it too: `line status` and /metrics.
    // The admin command reads the database with the same deadlines as the station (its env).
    Object.assign(process.env, ENV);
    const status = await cliOk(['line', 'status', '--data', wa.dir, '--line', LINE]);
    assert.match(status, /UNANSWERED/);
    const metrics = await (await fetch(`${wa.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`parley_line_unanswered\\{line="${LINE}"\\} 1`));
    assert.match(metrics, new RegExp(`parley_line_availability\\{line="${LINE}"\\} `));
  });

  it('keeps the topics out of both stations\u2019 storage', () => {
    for (const st of [wa, mo]) {
      const db = readFileSync(join(st.dir, 'station.db'));
      const wal = (() => {
        try {
          return readFileSync(join(st.dir, 'station.db-wal'));
        } catch {
          return Buffer.alloc(0);
        }
      })();
      assert.equal(Buffer.concat([db, wal]).includes('border incident'), false, `${st.name} stores no topic in clear`);
    }
  });
});

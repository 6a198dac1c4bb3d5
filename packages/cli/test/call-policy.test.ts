// Per-line deadlines through the real `parley call policy` command against two real stations on
// loopback: the far station's principal shortens one line's flash deadline (passed on to the hub,
// signed), both stations then show it and run it, so a flash request on that line escalates and
// is marked unanswered on both sides by that line's deadline, while another line keeps the
// default minute. Bad values and a duty officer's attempt are refused, and nothing changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliMember, cliOk, eventually, linkStations, runCli, StationProcess } from '@parley/testkit';

const FAST = 'fastline';
const SLOW = 'slowline';

interface PolicyJson {
  ackDeadlineMs: Record<'flash' | 'immediate' | 'priority' | 'routine', number>;
  deputyAfterMs: Record<string, number>;
  requestTtlMs: number;
  testIntervalMs: number;
  testAckDeadlineMs: number;
}

interface CallJson {
  callId: string;
  state: string;
  reached: Record<string, { at: number }>;
  escalated: Record<string, number>;
  unansweredAt: number | null;
}

describe('per-line deadlines, through the CLI', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  const profiles: Record<string, string> = {};

  const policy = async (who: string, line: string): Promise<PolicyJson> =>
    JSON.parse(await cliOk(['call', 'policy', '--profile', profiles[who] as string, '--line', line, '--json'])) as PolicyJson;
  const calls = async (who: string, line: string): Promise<CallJson[]> =>
    (JSON.parse(await cliOk(['call', 'list', '--profile', profiles[who] as string, '--line', line, '--json'])) as { calls: CallJson[] })
      .calls;
  const setPolicy = (who: string, line: string, args: string[]) =>
    runCli(['call', 'policy', '--profile', profiles[who] as string, '--line', line, ...args]);

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    // No PARLEY_CALL_POLICY: every line starts with the built-in defaults (flash 1 min).
    await Promise.all([wa.start(), mo.start()]);
    profiles.waChief = await cliMember(wa, 'chief', 'principal');
    profiles.waDuty = await cliMember(wa, 'duty', 'duty_officer');
    profiles.moChief = await cliMember(mo, 'chief', 'principal');
    profiles.moDuty = await cliMember(mo, 'duty', 'duty_officer');
    await linkStations(wa, mo, FAST, ['chief', 'duty'], ['chief', 'duty']);
    await linkStations(wa, mo, SLOW, ['chief', 'duty'], ['chief', 'duty']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('shows the default deadlines of a line that set none', async () => {
    const p = await policy('waChief', FAST);
    assert.deepEqual(p.ackDeadlineMs, { routine: 4 * 3_600_000, priority: 1_800_000, immediate: 300_000, flash: 60_000 });
    assert.equal(p.testIntervalMs, 3_600_000);
    assert.deepEqual(await policy('moDuty', FAST), p, 'both stations hold the same');
    const text = await cliOk(['call', 'policy', '--profile', profiles.moChief as string, '--line', FAST]);
    assert.match(text, /acknowledge flash 1m, immediate 5m, priority 30m, routine 4h/);
    assert.match(text, /a test message every 1h, acknowledged within 5m/);
  });

  it('refuses bad values and a duty officer, and changes nothing on either side', async () => {
    const before = [await policy('waChief', FAST), await policy('moChief', FAST)];
    const cases: [string, string[], RegExp][] = [
      ['moChief', ['--test-every', '10m', '--test-deadline', '20m'], /CALL_POLICY_INVALID/],
      ['waChief', ['--test-deadline', '2h'], /CALL_POLICY_INVALID/],
      ['waChief', ['--flash', '0s'], /CALL_POLICY_INVALID/],
      ['moChief', ['--flash=-1m'], /CALL_POLICY_INVALID/],
      ['waChief', ['--flash', 'soon'], /CALL_POLICY_INVALID/],
      ['waChief', ['--routine', '30d'], /CALL_POLICY_INVALID/],
      ['moDuty', ['--flash', '2s'], /CALL_POLICY_FORBIDDEN/],
      ['waDuty', ['--flash', '2s'], /CALL_POLICY_FORBIDDEN/],
    ];
    for (const [who, args, code] of cases) {
      const r = await setPolicy(who, FAST, args);
      assert.notEqual(r.code, 0, `${who} ${args.join(' ')} should be refused`);
      assert.match(r.stderr, code, `${who} ${args.join(' ')}`);
    }
    assert.deepEqual([await policy('waChief', FAST), await policy('moChief', FAST)], before);
  });

  it('a shortened flash deadline on one line escalates there, unanswered on both sides, while the other line keeps the minute', async () => {
    // Moscow is not the hub: its station passes its principal's change on to washington, signed.
    const set = await setPolicy('moChief', FAST, ['--flash', '2s']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /acknowledge flash 2s, immediate 5m/);
    for (const who of ['waChief', 'moChief']) {
      const p = await eventually(`${who} to hold the new deadline`, async () => {
        const v = await policy(who, FAST);
        return v.ackDeadlineMs.flash === 2000 ? v : undefined;
      });
      assert.equal(p.ackDeadlineMs.immediate, 300_000, 'the other urgencies keep theirs');
      assert.equal((await policy(who, SLOW)).ackDeadlineMs.flash, 60_000, 'the other line keeps the default');
    }

    const request = async (line: string): Promise<string> => {
      const r = await runCli(['call', 'request', '--urgency', 'flash', '--profile', profiles.waChief as string, '--line', line, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { event: { callId: string } }).event.callId;
    };
    const fastCall = await request(FAST);
    const slowCall = await request(SLOW);

    for (const who of ['waChief', 'moDuty']) {
      const c = await eventually(`${who} to see the fast line's flash request unanswered`, async () => {
        const found = (await calls(who, FAST)).find((x) => x.callId === fastCall);
        return found?.unansweredAt != null && found.escalated.duty_officer !== undefined ? found : undefined;
      });
      const requestedAt = c.reached.requested?.at as number;
      assert.ok((c.unansweredAt as number) - requestedAt >= 2000, 'not before the line\u2019s deadline');
      assert.ok((c.unansweredAt as number) - requestedAt < 60_000, 'by the line\u2019s deadline, not the default minute');
      assert.equal(c.state, 'requested');
    }
    // Same books on both stations.
    const atWa = (await calls('waChief', FAST)).find((x) => x.callId === fastCall);
    const atMo = (await calls('moChief', FAST)).find((x) => x.callId === fastCall);
    assert.deepEqual(atMo?.unansweredAt, atWa?.unansweredAt);
    assert.deepEqual(atMo?.escalated, atWa?.escalated);

    // The slow line's request, made at the same moment, waits for its minute on both sides.
    for (const who of ['waChief', 'moDuty']) {
      const c = (await calls(who, SLOW)).find((x) => x.callId === slowCall) as CallJson;
      assert.equal(c.state, 'requested');
      if (Date.now() - (c.reached.requested?.at as number) < 60_000) {
        assert.equal(c.unansweredAt, null, 'the default deadline has not passed');
        assert.deepEqual(c.escalated, {});
      }
    }

    // Both timelines say who changed the deadlines, and both joint records hold it.
    for (const who of ['waChief', 'moDuty']) {
      const view = await cliOk(['read', '--profile', profiles[who] as string, '--line', FAST]);
      assert.match(view, /moscow\/chief set the line's deadlines: flash 2s/);
    }
    for (const [st, who] of [
      [wa, 'waChief'],
      [mo, 'moChief'],
    ] as const) {
      const { token } = JSON.parse(readFileSync(join(profiles[who] as string, 'profile.json'), 'utf8')) as { token: string };
      const entry = await eventually(`${st.name}'s record to hold the policy change`, async () => {
        const res = await fetch(`${st.url}/api/v1/lines/${FAST}/record?entries=true`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { entries?: { type: string; by: unknown; policy?: unknown }[] };
        return body.entries?.find((e) => e.type === 'policy_set');
      });
      assert.deepEqual(entry.by, { side: 'acceptor', handle: 'chief' });
      assert.deepEqual(entry.policy, { calls: { ackDeadlineMs: { flash: 2000 } } });
    }

    // The operators see the line's deadlines in `line status`.
    const status = JSON.parse(await cliOk(['line', 'status', '--data', mo.dir, '--line', FAST, '--json'])) as {
      duty: { policy: PolicyJson; unanswered: boolean };
    };
    assert.equal(status.duty.policy.ackDeadlineMs.flash, 2000);
    assert.equal(status.duty.unanswered, true);
    const table = await cliOk(['line', 'status', '--data', wa.dir]);
    assert.match(table, new RegExp(`${FAST}.*2s/5m/30m/4h`));
    assert.match(table, new RegExp(`${SLOW}.*1m/5m/30m/4h`));
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { opaqueApplicationMessage } from '@parley/e2ee/frames';
import { CLI_BIN, cliOk, lastLine, runCli, StationProcess, tempDir } from '@parley/testkit';

interface LineStatus {
  name: string;
  health: string;
  lastContactAt: number | null;
  backlogOut: number;
  backlogIn: number;
  safetyNumber: string;
  seats: { handle: string }[];
  peerSeats: { handle: string }[];
  peer: { name: string; fingerprint: string };
}

async function status(dir: string, line: string): Promise<LineStatus> {
  return JSON.parse(await cliOk(['line', 'status', '--data', dir, '--line', line, '--json'])) as LineStatus;
}

async function login(st: StationProcess, handle: string, password: string): Promise<string> {
  const pw = join(tempDir(), 'pw');
  writeFileSync(pw, password);
  const profile = join(tempDir(), handle);
  await cliOk(['login', '--station', st.url, '--handle', handle, '--profile', profile, '--password-file', pw]);
  return profile;
}

interface ReadMessage {
  kind: string;
  pos: number;
  text: string;
  verified: boolean;
  sender: { handle: string; station: string };
}

/** The messages a CLI device shows (events such as key or roster changes left out). */
async function readJson(profile: string, line: string): Promise<ReadMessage[]> {
  const out = await cliOk(['read', '--profile', profile, '--line', line, '--json']);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ReadMessage)
    .filter((m) => m.kind === 'message');
}

/** Wait until each CLI device is in the line's encrypted group, so all of them read what follows. */
async function inGroup(profiles: string[], line: string): Promise<void> {
  for (const profile of profiles) {
    await until(`${profile} to join ${line}'s group`, async () => {
      const r = await runCli(['roster', '--profile', profile, '--line', line, '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as { deviceEpoch: number | null }).deviceEpoch !== null ? true : undefined;
    });
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('lines between two stations', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let invitation: string;
  let safety: string;

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    await wa.addEnrolledMember('chief', 'principal', 'wa-chief-password');
    await wa.addEnrolledMember('clerk', 'duty_officer', 'wa-clerk-password');
    await mo.addEnrolledMember('chief', 'principal', 'mo-chief-password');
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('links by invitation; both operators see the same safety number', async () => {
    const inv = await cliOk(['line', 'invite', '--data', wa.dir, '--line', 'chiefs', '--seats', 'chief']);
    invitation = lastLine(inv);
    assert.match(invitation, /^parley1\./);
    const acc = await cliOk(['line', 'accept', '--data', mo.dir, '--seats', 'chief', invitation]);
    safety = lastLine(acc);
    assert.match(safety, /^(\d{5} ){11}\d{5}$/);
    const ours = await status(mo.dir, 'chiefs');
    const theirs = await until('the inviter to record the line', async () => {
      const r = await runCli(['line', 'status', '--data', wa.dir, '--line', 'chiefs', '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as LineStatus) : undefined;
    });
    assert.equal(ours.safetyNumber, safety);
    assert.equal(theirs.safetyNumber, safety, 'the same safety number on both sides');
    assert.equal(ours.peer.name, 'washington');
    assert.equal(theirs.peer.name, 'moscow');
    const waInfo = JSON.parse(await cliOk(['station', 'info', '--data', wa.dir, '--json'])) as { fingerprint: string };
    assert.equal(ours.peer.fingerprint, waInfo.fingerprint, 'the pinned key is the inviter\u2019s');
    assert.deepEqual(
      theirs.peerSeats.map((s) => s.handle),
      ['chief'],
    );
    const table = await cliOk(['line', 'list', '--data', mo.dir]);
    assert.match(table, /chiefs\s+washington/);
  });

  it('refuses a used, expired or tampered invitation', async () => {
    const used = await runCli(['line', 'accept', '--data', mo.dir, '--seats', 'chief', '--name', 'again', invitation]);
    assert.equal(used.code, 1);
    assert.match(used.stderr, /INVITATION_USED/);

    const fresh = lastLine(await cliOk(['line', 'invite', '--data', wa.dir, '--line', 'spare', '--seats', 'chief']));
    const [prefix, body, sig] = fresh.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { expiresAt: number; station: { urls: string[] } };
    decoded.expiresAt += 3600_000;
    const altered = `${prefix}.${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${sig}`;
    const tampered = await runCli(['line', 'accept', '--data', mo.dir, '--seats', 'chief', altered]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /INVITATION_TAMPERED/);
    const garbage = await runCli(['line', 'accept', '--data', mo.dir, '--seats', 'chief', 'parley1.nonsense']);
    assert.match(garbage.stderr, /INVITATION_TAMPERED/);

    const short = lastLine(
      await cliOk(['line', 'invite', '--data', wa.dir, '--line', 'brief', '--seats', 'chief', '--ttl-hours', '0.0003']),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await runCli(['line', 'accept', '--data', mo.dir, '--seats', 'chief', short]);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /INVITATION_EXPIRED/);
    const lines = JSON.parse(await cliOk(['line', 'list', '--data', mo.dir, '--json'])) as LineStatus[];
    assert.deepEqual(
      lines.map((l) => l.name),
      ['chiefs'],
      'no refused invitation created a line',
    );
  });

  it('carries messages both ways through the CLI, in order, each once', async () => {
    const waChief = await login(wa, 'chief', 'wa-chief-password');
    const moChief = await login(mo, 'chief', 'mo-chief-password');
    await inGroup([waChief, moChief], 'chiefs');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = `from washington ${i}`;
      const b = `из москвы ${i}`;
      // --wait: a freshly logged-in device sends once the hub has added it to the line's group.
      await cliOk(['send', '--profile', waChief, '--line', 'chiefs', '--wait', '60', a]);
      await cliOk(['send', '--profile', moChief, '--line', 'chiefs', '--wait', '60', b]);
      sent.push(a, b);
    }
    const atMoscow = await until('all ten at moscow', async () => {
      const items = await readJson(moChief, 'chiefs');
      return items.length === 10 ? items : undefined;
    });
    const atWashington = await until('all ten at washington', async () => {
      const items = await readJson(waChief, 'chiefs');
      return items.length === 10 ? items : undefined;
    });
    for (const view of [atMoscow, atWashington]) {
      const fromWa = view.filter((i) => i.sender.station === 'washington').map((i) => i.text);
      const fromMo = view.filter((i) => i.sender.station === 'moscow').map((i) => i.text);
      assert.deepEqual(
        fromWa,
        sent.filter((t) => t.startsWith('from')),
        'washington\u2019s messages in order, once each',
      );
      assert.deepEqual(
        fromMo,
        sent.filter((t) => t.startsWith('из')),
        'moscow\u2019s messages in order, once each',
      );
    }
    for (const view of [atMoscow, atWashington])
      assert.ok(
        view.every((m) => m.verified),
        'every sender verified',
      );
    const plain = await cliOk(['read', '--profile', moChief, '--line', 'chiefs']);
    assert.match(plain, /chief@washington: from washington 0/);

    const st = await until('backlog drained and line up', async () => {
      const s = await status(wa.dir, 'chiefs');
      return s.backlogOut === 0 && s.health === 'up' ? s : undefined;
    });
    assert.ok(st.lastContactAt !== null && Date.now() - st.lastContactAt < 10_000);
  });

  it('follows a line live and resumes from where it left off', async () => {
    const moChief = await login(mo, 'chief', 'mo-chief-password');
    const waChief = await login(wa, 'chief', 'wa-chief-password');
    await inGroup([moChief, waChief], 'chiefs');
    const seen = await readJson(moChief, 'chiefs');
    const before = Math.max(0, ...seen.map((m) => m.pos));
    const follower = spawn(process.execPath, [
      CLI_BIN,
      'read',
      '--profile',
      moChief,
      '--line',
      'chiefs',
      '--follow',
      '--json',
      '--after',
      String(before),
    ]);
    let out = '';
    follower.stdout.on('data', (d) => {
      out += d;
    });
    try {
      await cliOk(['send', '--profile', waChief, '--line', 'chiefs', '--wait', '60', 'live one']);
      await until('the follower to print it', async () => (out.includes('live one') ? true : undefined));
      const messages = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ReadMessage)
        .filter((m) => m.kind === 'message');
      assert.deepEqual(
        messages.map((m) => m.text),
        ['live one'],
        'only the new message, nothing replayed',
      );
    } finally {
      follower.kill();
    }
  });

  it('shows a member only the lines they hold a seat on', async () => {
    const clerk = await login(wa, 'clerk', 'wa-clerk-password');
    const lines = await cliOk(['lines', '--profile', clerk, '--json']);
    assert.deepEqual(JSON.parse(lines), []);
    const read = await runCli(['read', '--profile', clerk, '--line', 'chiefs']);
    assert.equal(read.code, 1);
    assert.match(read.stderr, /LINE_NOT_FOUND/);
    const send = await runCli(['send', '--profile', clerk, '--line', 'chiefs', 'sneaky']);
    assert.equal(send.code, 1);
    assert.match(send.stderr, /LINE_NOT_FOUND/);
    const chief = await login(wa, 'chief', 'wa-chief-password');
    const texts = (await readJson(chief, 'chiefs')).map((i) => i.text);
    assert.ok(!texts.includes('sneaky'), 'a refused send stored nothing');
  });

  it('sends idempotently: a retried client id is stored once', async () => {
    const token = await wa.addEnrolledMember('retry', 'deputy', 'retry-password');
    // Seat the new member through a second line to keep the first line's stream exact.
    const inv = lastLine(await cliOk(['line', 'invite', '--data', wa.dir, '--line', 'deputies', '--seats', 'retry']));
    await cliOk(['line', 'accept', '--data', mo.dir, '--seats', 'chief', inv]);
    const summary = (await (await fetch(`${wa.url}/api/v1/lines/deputies`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      id: string;
    };
    const payload = Buffer.from(opaqueApplicationMessage(summary.id, new TextEncoder().encode('once only'))).toString('base64url');
    const send = () =>
      fetch(`${wa.url}/api/v1/lines/deputies/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ payload, clientId: 'client-id-0001' }),
      }).then((r) => r.json() as Promise<{ item: { pos: number }; duplicate: boolean }>);
    const [a, b] = await Promise.all([send(), send()]);
    const c = await send();
    assert.equal(a.item.pos, b.item.pos);
    assert.equal(a.item.pos, c.item.pos);
    assert.deepEqual([a.duplicate, b.duplicate, c.duplicate].filter(Boolean).length, 2);
    const page = (await (
      await fetch(`${wa.url}/api/v1/lines/deputies/items`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      items: { sender: { handle: string } }[];
    };
    // The line also carries the recorders' group commits; count what this member sent.
    assert.equal(page.items.filter((i) => i.sender.handle === 'retry').length, 1);
  });

  it('reports a line down when the peer stops, and up again when it returns', async () => {
    await mo.stop();
    await until('washington to see the line down', async () => ((await status(wa.dir, 'chiefs')).health === 'down' ? true : undefined));
    await mo.start();
    await until('the line to come back up', async () => ((await status(wa.dir, 'chiefs')).health === 'up' ? true : undefined));
  });
});

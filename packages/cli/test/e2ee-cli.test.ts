// The `parley` CLI as an end-to-end encrypted MLS device, through its real command line, against
// two real stations on loopback: several devices per side, verification marks, rosters,
// self-updates, an offline device catching up, the recorder archive, and a removed seat.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_BIN, cliOk, linkStations, runCli, StationProcess, tempDir } from '@parley/testkit';

const LINE = 'chiefs';

interface Shown {
  kind: 'message' | 'event';
  pos: number;
  text: string | null;
  lang?: string | null;
  event?: string;
  sender?: { handle: string; station: string; deviceId: string | null };
  verified?: boolean;
  error?: string | null;
  status?: string;
}

interface Roster {
  deviceEpoch: number | null;
  stationEpoch: number;
  matches: boolean;
  devices: { station: string; handle: string; deviceId: string; inDevice: boolean; inStation: boolean; signatureKeyFingerprint: string }[];
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const passwords = new Map<string, string>();

async function login(st: StationProcess, handle: string): Promise<{ dir: string; deviceId: string; out: string }> {
  const pw = join(tempDir(), 'pw');
  writeFileSync(pw, passwords.get(`${st.name}/${handle}`) as string);
  const dir = join(tempDir(), `${st.name}-${handle}`);
  const out = await cliOk(['login', '--station', st.url, '--handle', handle, '--profile', dir, '--password-file', pw]);
  const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')) as { deviceId: string };
  return { dir, deviceId: profile.deviceId, out };
}

async function read(profile: string, extra: string[] = []): Promise<Shown[]> {
  const out = await cliOk(['read', '--profile', profile, '--line', LINE, '--json', ...extra]);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Shown);
}

const messages = (view: Shown[]) => view.filter((r) => r.kind === 'message');

/** Until the hub has added this device to the line's group (the device shows it joined). */
async function joined(profile: string): Promise<void> {
  await until(`${profile} to join the group`, async () => ((await read(profile)).some((r) => r.event === 'joined') ? true : undefined));
}

async function roster(profile: string): Promise<Roster> {
  return JSON.parse(await cliOk(['roster', '--profile', profile, '--line', LINE, '--json'])) as Roster;
}

/** Until every one of `texts` shows, decrypted, on this device. */
async function sees(profile: string, texts: string[]): Promise<Shown[]> {
  return until(`${profile} to decrypt ${texts.join(' / ')}`, async () => {
    const view = messages(await read(profile));
    return texts.every((t) => view.some((m) => m.text === t)) ? view : undefined;
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('the CLI as an end-to-end encrypted device', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let wa1: { dir: string; deviceId: string; out: string };
  let wa2: { dir: string; deviceId: string; out: string };
  let mo1: { dir: string; deviceId: string; out: string };
  let clerk: { dir: string; deviceId: string; out: string };
  const sent: string[] = [];

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    for (const [st, handle, role] of [
      [wa, 'chief', 'principal'],
      [wa, 'clerk', 'duty_officer'],
      [mo, 'chief', 'principal'],
    ] as const) {
      const password = `${st.name}-${handle}-password`;
      passwords.set(`${st.name}/${handle}`, password);
      await st.addEnrolledMember(handle, role, password);
    }
    await linkStations(wa, mo, LINE, ['chief', 'clerk'], ['chief']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('carries messages both ways, decrypted on every device, with sender and verification', async () => {
    wa1 = await login(wa, 'chief');
    assert.match(wa1.out, /end-to-end keys ([0-9a-f]{4} ){9}[0-9a-f]{4}; 5 key packages ready/);
    wa2 = await login(wa, 'chief');
    mo1 = await login(mo, 'chief');
    for (const p of [wa1, wa2]) await joined(p.dir);
    // A device reads only what was sent after the hub added it: send once Moscow's is in the group.
    await until('the hub to add moscow-chief', async () =>
      (await roster(wa1.dir)).devices.some((d) => d.deviceId === mo1.deviceId && d.inDevice) ? true : undefined,
    );

    await cliOk(['send', '--profile', wa1.dir, '--line', LINE, 'ORCHID-TANGO from washington, device one']);
    // Straight after login: --wait gives the hub time to add the device.
    await cliOk(['send', '--profile', mo1.dir, '--line', LINE, '--wait', '30', '--lang', 'ru', 'ВОЛГА-КРЕМЕНЬ из москвы']);
    await cliOk(['send', '--profile', wa2.dir, '--line', LINE, 'SAPPHIRE-LEDGER from washington, device two']);
    sent.push('ORCHID-TANGO from washington, device one', 'ВОЛГА-КРЕМЕНЬ из москвы', 'SAPPHIRE-LEDGER from washington, device two');

    for (const p of [wa1, wa2, mo1]) {
      const view = await sees(p.dir, sent);
      const byText = new Map(view.map((m) => [m.text, m]));
      const ru = byText.get('ВОЛГА-КРЕМЕНЬ из москвы') as Shown;
      assert.deepEqual(ru.sender, { handle: 'chief', station: 'moscow', deviceId: mo1.deviceId });
      assert.equal(ru.lang, 'ru');
      const one = byText.get(sent[0] as string) as Shown;
      assert.deepEqual(one.sender, { handle: 'chief', station: 'washington', deviceId: wa1.deviceId });
      for (const m of view) {
        assert.equal(m.verified, true, `${m.text} is verified on ${p.dir}`);
        assert.equal(m.error, null);
      }
      assert.equal(one.status, p === wa1 ? 'own' : 'ok');
    }
    // In order, each once.
    const order = messages(await read(mo1.dir)).map((m) => m.text);
    assert.equal(new Set(order).size, order.length);

    const plain = await cliOk(['read', '--profile', wa2.dir, '--line', LINE]);
    assert.match(plain, /\u2713 chief@moscow \[ru\]: ВОЛГА-КРЕМЕНЬ из москвы/);
    assert.match(plain, /\u2713 chief@washington \(this device\): SAPPHIRE-LEDGER/);
    assert.match(plain, /this device joined the line's encrypted group/);

    // Neither station holds any of it in the clear.
    for (const st of [wa, mo]) {
      for (const f of filesUnder(st.dir)) {
        const bytes = readFileSync(f);
        for (const word of ['ORCHID-TANGO', 'ВОЛГА-КРЕМЕНЬ', 'SAPPHIRE-LEDGER']) {
          assert.ok(!bytes.includes(Buffer.from(word)), `${f} holds ${word} in the clear`);
        }
      }
    }
  });

  it('shows both sides\u2019 devices and whether the station\u2019s view matches the device\u2019s', async () => {
    const view = await until('the station and the device to agree', async () => {
      const r = await roster(mo1.dir);
      return r.matches ? r : undefined;
    });
    const who = view.devices.map((d) => `${d.handle}@${d.station}`).sort();
    assert.deepEqual(who, ['chief@moscow', 'chief@washington', 'chief@washington', 'recorder@moscow', 'recorder@washington']);
    assert.ok(view.devices.every((d) => d.inDevice && d.inStation && /^([0-9a-f]{4} ){9}[0-9a-f]{4}$/.test(d.signatureKeyFingerprint)));
    const table = await cliOk(['roster', '--profile', wa1.dir, '--line', LINE]);
    assert.match(table, new RegExp(`${wa1.deviceId} \\(this device\\)`));
    assert.match(table, /matches this device's/);
  });

  it('refreshes a device\u2019s keys (either side) and messages still flow', async () => {
    const before = (await roster(mo1.dir)).deviceEpoch as number;
    const out = await cliOk(['rotate', '--profile', mo1.dir, '--line', LINE]);
    const epoch = Number(/epoch (\d+)/.exec(out)?.[1]);
    assert.ok(epoch > before, out);
    await cliOk(['send', '--profile', mo1.dir, '--line', LINE, 'after moscow rotated']);
    await cliOk(['rotate', '--profile', wa2.dir, '--line', LINE]);
    await cliOk(['send', '--profile', wa2.dir, '--line', LINE, 'after washington rotated']);
    await cliOk(['send', '--profile', mo1.dir, '--line', LINE, 'moscow again']);
    sent.push('after moscow rotated', 'after washington rotated', 'moscow again');
    for (const p of [wa1, wa2, mo1]) {
      const view = await sees(p.dir, sent);
      assert.ok(
        view.every((m) => m.verified),
        `everything verified on ${p.dir}`,
      );
    }
    const events = (await read(wa1.dir)).filter((r) => r.event === 'keys').map((r) => r.text);
    assert.ok(events.some((t) => /chief@moscow .* refreshed its keys/.test(t ?? '')));
    const own = (await read(mo1.dir)).filter((r) => r.event === 'keys').map((r) => r.text);
    assert.ok(own.some((t) => /this device refreshed its keys/.test(t ?? '')));
    for (const p of [wa1, mo1]) {
      const r = await until('rosters to agree after the updates', async () => {
        const v = await roster(p.dir);
        return v.matches ? v : undefined;
      });
      assert.equal(r.devices.length, 5);
    }
  });

  it('follows a line live, while other commands use the same device, and refreshes keys every Nth send', async () => {
    const follower = spawn(process.execPath, [CLI_BIN, 'read', '--profile', wa1.dir, '--line', LINE, '--follow', '--json']);
    let out = '';
    follower.stdout.on('data', (d) => {
      out += d;
    });
    const printed = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Shown)
        .filter((r) => r.kind === 'message');
    try {
      await until('the follower to print what is there', async () => (printed().some((m) => m.text === 'moscow again') ? true : undefined));
      const ownUpdates = async () => (await read(mo1.dir)).filter((r) => r.event === 'keys' && /this device/.test(r.text ?? '')).length;
      const updatesBefore = await ownUpdates();
      const live = ['live 0', 'live 1', 'live 2'];
      for (const t of live) await cliOk(['send', '--profile', mo1.dir, '--line', LINE, t], { env: { PARLEY_SELF_UPDATE_EVERY: '2' } });
      await cliOk(['send', '--profile', wa1.dir, '--line', LINE, 'sent by the following device']);
      sent.push(...live, 'sent by the following device');
      await until('the follower to print them', async () =>
        [...live, 'sent by the following device'].every((t) => printed().some((m) => m.text === t)) ? true : undefined,
      );
      for (const t of [...live, 'sent by the following device']) {
        const shown = printed().filter((m) => m.text === t);
        assert.equal(shown.length, 1, `${t} printed once`);
        assert.equal(shown[0]?.verified, true);
      }
      assert.ok((await ownUpdates()) > updatesBefore, 'the device refreshed its keys on its own');
    } finally {
      follower.kill();
    }
  });

  it('an offline device catches up after many roster changes, and a late device reads older history from the archive', async () => {
    // wa2 stays offline from here on while ten devices join, one at a time.
    const start = (await roster(wa1.dir)).stationEpoch;
    const late: { dir: string; deviceId: string }[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await login(i % 2 === 0 ? wa : mo, i % 2 === 0 ? 'clerk' : 'chief');
      late.push(p);
      await until(`the hub to add device ${i + 1}`, async () => {
        const r = await roster(wa1.dir);
        return r.devices.some((d) => d.deviceId === p.deviceId && d.inStation) ? true : undefined;
      });
      if (i === 4) {
        await cliOk(['send', '--profile', wa1.dir, '--line', LINE, 'while wa2 was away']);
        sent.push('while wa2 was away');
      }
    }
    clerk = late[8] as { dir: string; deviceId: string; out: string };
    const now = await roster(wa1.dir);
    assert.ok(now.stationEpoch >= start + 10, `ten epochs at least (${start} → ${now.stationEpoch})`);
    await joined(clerk.dir);
    await cliOk(['send', '--profile', clerk.dir, '--line', LINE, 'from the newest clerk device']);
    sent.push('from the newest clerk device');

    const view = await sees(wa2.dir, sent);
    assert.ok(view.every((m) => m.verified && m.error === null));
    const caughtUp = await until('wa2 to agree with the station', async () => {
      const r = await roster(wa2.dir);
      return r.matches ? r : undefined;
    });
    assert.equal(caughtUp.devices.length, 15);

    // The newest device cannot decrypt what came before it joined; the recorder's archive can show it, unverified.
    const mine = messages(await read(clerk.dir));
    const early = mine.find((m) => m.status === 'before-join');
    assert.ok(early, 'messages from before this device joined are marked so');
    assert.equal(early.text, null);
    assert.equal(early.error, null);
    const withHistory = messages(await read(clerk.dir, ['--history']));
    const archived = withHistory.filter((m) => m.status === 'archive');
    assert.ok(archived.some((m) => m.text === 'ORCHID-TANGO from washington, device one'));
    assert.ok(archived.every((m) => m.verified === false));
    const plain = await cliOk(['read', '--profile', clerk.dir, '--line', LINE, '--history']);
    assert.match(plain, /from the station archive, not verified by this device\): ORCHID-TANGO/);
  });

  it('a member whose seat is taken away cannot read what is sent afterwards', async () => {
    const before = messages(await read(clerk.dir));
    assert.ok(before.some((m) => m.text === 'from the newest clerk device'));
    await cliOk(['line', 'seat', 'remove', '--data', wa.dir, '--line', LINE, '--handle', 'clerk']);
    await until('the hub to remove every clerk device', async () => {
      const r = await roster(wa1.dir);
      return r.matches && !r.devices.some((d) => d.handle === 'clerk') ? true : undefined;
    });
    await cliOk(['send', '--profile', wa1.dir, '--line', LINE, 'NIGHTFALL after the clerk left']);
    await sees(mo1.dir, ['NIGHTFALL after the clerk left']);

    const r = await runCli(['read', '--profile', clerk.dir, '--line', LINE, '--json']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /LINE_NOT_FOUND/);
    assert.ok(!r.stdout.includes('NIGHTFALL'));
    const s = await runCli(['send', '--profile', clerk.dir, '--line', LINE, 'still here?']);
    assert.equal(s.code, 1);
    for (const f of filesUnder(clerk.dir)) assert.ok(!readFileSync(f).includes(Buffer.from('NIGHTFALL')), `${f} holds nothing new`);
  });
});

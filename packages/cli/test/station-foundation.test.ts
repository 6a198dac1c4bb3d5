import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stationFingerprint } from '@parley/protocol';
import { cliOk, lastLine, runCli, StationProcess, tempDir } from '@parley/testkit';

// biome-ignore lint/suspicious/noExplicitAny: response JSON is probed field by field by assertions, which fail loudly on a wrong shape.
type Json = Record<string, any>;

async function post(url: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

async function get(url: string, token?: string) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: Json | string = text;
  try {
    body = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: res.status, body: body as Json };
}

async function memberList(dir: string): Promise<Array<{ handle: string; enrolled: boolean; role: string }>> {
  return JSON.parse(await cliOk(['member', 'list', '--data', dir, '--json']));
}

describe('station foundation', () => {
  let st: StationProcess;

  before(async () => {
    st = await StationProcess.create({ name: 'washington' });
    await st.start();
  });
  after(async () => {
    await st.stop();
  });

  it('init writes an Ed25519 key readable only by its owner and prints a fingerprint', async () => {
    const dir = join(tempDir(), 'st');
    const out = await cliOk(['station', 'init', '--data', dir, '--name', 'moscow', '--url', 'http://127.0.0.1:1', '--json']);
    const info = JSON.parse(out) as { fingerprint: string; name: string };
    assert.match(info.fingerprint, /^([0-9a-f]{4} ){9}[0-9a-f]{4}$/);
    assert.equal(statSync(join(dir, 'station.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, 'station.key'), 'utf8'), /BEGIN PRIVATE KEY/);
    const again = await runCli(['station', 'init', '--data', dir, '--name', 'moscow', '--url', 'http://127.0.0.1:1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /DATA_DIR_EXISTS/);
    const shown = JSON.parse(await cliOk(['station', 'info', '--data', dir, '--json'])) as { fingerprint: string; publicKey: string };
    assert.equal(shown.fingerprint, info.fingerprint, 'the fingerprint is stable across runs');
    // The public key shown (what `record verify` takes) is the one the fingerprint is of.
    assert.equal(stationFingerprint(new Uint8Array(Buffer.from(shown.publicKey, 'base64url'))), info.fingerprint);
  });

  it('refuses a missing or corrupt data directory with a one-line reason', async () => {
    const missing = await runCli(['member', 'list', '--data', join(tempDir(), 'nothing-here')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^parley: .*\[DATA_DIR_MISSING\]\n$/);

    const dir = join(tempDir(), 'st');
    await cliOk(['station', 'init', '--data', dir, '--name', 'corrupt', '--url', 'http://127.0.0.1:1']);
    writeFileSync(join(dir, 'station.json'), '{"version": 1, "name": ');
    const badJson = await runCli(['member', 'list', '--data', dir]);
    assert.equal(badJson.code, 1);
    assert.match(badJson.stderr, /DATA_DIR_CORRUPT/);

    const dir2 = join(tempDir(), 'st');
    await cliOk(['station', 'init', '--data', dir2, '--name', 'corrupt', '--url', 'http://127.0.0.1:1']);
    writeFileSync(join(dir2, 'station.db'), 'this is not a database, just text that is long enough to matter'.repeat(100));
    const badDb = await runCli(['member', 'list', '--data', dir2]);
    assert.equal(badDb.code, 1);
    assert.match(badDb.stderr, /DATA_DIR_CORRUPT/);
    const badStart = await runCli(['station', 'start', '--data', dir2]);
    assert.equal(badStart.code, 1);
    assert.match(badStart.stderr, /DATA_DIR_CORRUPT/);
  });

  it('adds members while the station runs; the secret is the last line and works once', async () => {
    const out = await cliOk(['member', 'add', '--data', st.dir, '--handle', 'alice', '--name', 'Alice Adams', '--role', 'principal']);
    const secret = lastLine(out);
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    let list = await memberList(st.dir);
    assert.deepEqual(
      list.map((m) => [m.handle, m.role, m.enrolled]),
      [['alice', 'principal', false]],
    );

    const dup = await runCli(['member', 'add', '--data', st.dir, '--handle', 'alice', '--name', 'Other', '--role', 'deputy']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /HANDLE_TAKEN/);
    const badRole = await runCli(['member', 'add', '--data', st.dir, '--handle', 'zed', '--name', 'Zed', '--role', 'emperor']);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /VALIDATION_FAILED/);

    // Enroll through the real CLI, password from a file.
    const profile = join(tempDir(), 'alice');
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'correct horse battery\n');
    await cliOk(['enroll', '--station', st.url, '--handle', 'alice', '--secret', secret, '--profile', profile, '--password-file', pw]);
    assert.equal(statSync(join(profile, 'profile.json')).mode & 0o777, 0o600);
    list = await memberList(st.dir);
    assert.equal(list.find((m) => m.handle === 'alice')?.enrolled, true);

    // The same secret again: refused, and the password set first still works.
    const reuse = await post(`${st.url}/api/v1/enroll`, { handle: 'alice', secret, password: 'an attacker password' });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.error.code, 'ENROLLMENT_INVALID');
    const login = await post(`${st.url}/api/v1/login`, { handle: 'alice', password: 'correct horse battery', session: 'bearer' });
    assert.equal(login.status, 200);
    assert.equal(login.body.member.handle, 'alice');
  });

  it('logs in with a cookie for the web app and a bearer token for the CLI', async () => {
    await st.addEnrolledMember('carol', 'deputy', 'carol-password-1');
    const cookie = await post(`${st.url}/api/v1/login`, { handle: 'carol', password: 'carol-password-1' });
    assert.equal(cookie.status, 200);
    assert.equal(cookie.body.token, undefined, 'a cookie session never shows its token to scripts');
    const setCookie = cookie.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /parley_session_[a-z0-9_-]+=/);
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    const me = await fetch(`${st.url}/api/v1/me`, { headers: { cookie: setCookie.split(';')[0] as string } });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { member: { handle: string } }).member.handle, 'carol');

    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'carol-password-1');
    const profile = join(tempDir(), 'carol');
    const out = await cliOk(['login', '--station', st.url, '--handle', 'carol', '--profile', profile, '--password-file', pw]);
    assert.match(out, /Logged in as carol/);
    const lines = await cliOk(['lines', '--profile', profile]);
    assert.match(lines, /no seat on any line/);

    const anon = await get(`${st.url}/api/v1/me`);
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, 'UNAUTHENTICATED');
  });

  it('refuses wrong passwords and then rate-limits even the right one', async () => {
    await st.addEnrolledMember('dave', 'duty_officer', 'dave-password-1');
    for (let i = 0; i < 5; i++) {
      const r = await post(`${st.url}/api/v1/login`, { handle: 'dave', password: `wrong-${i}` });
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'BAD_CREDENTIALS');
    }
    const limited = await post(`${st.url}/api/v1/login`, { handle: 'dave', password: 'dave-password-1' });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    const cli = await runCli(['login', '--station', st.url, '--handle', 'nobody', '--profile', join(tempDir(), 'x')], {
      input: 'whatever\n',
    });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /RATE_LIMITED|BAD_CREDENTIALS/);
  });

  it('answers bad input with a stable code and changes nothing', async () => {
    const secret = await st.addMember('erin', 'Erin', 'press_officer');
    const before = await memberList(st.dir);
    const cases: Array<[string, string | object, number, string]> = [
      ['malformed JSON', '{"handle": "erin", "secret": ', 400, 'MALFORMED_JSON'],
      ['unknown field', { handle: 'erin', secret, password: 'long enough pw', admin: true }, 400, 'VALIDATION_FAILED'],
      ['wrong type', { handle: 'erin', secret, password: 1234567890123 }, 400, 'VALIDATION_FAILED'],
      ['password too short', { handle: 'erin', secret, password: 'short' }, 400, 'VALIDATION_FAILED'],
      ['oversized body', { handle: 'erin', secret, password: 'x'.repeat(300 * 1024) }, 413, 'BODY_TOO_LARGE'],
    ];
    for (const [what, body, status, code] of cases) {
      const r = await post(`${st.url}/api/v1/enroll`, body);
      assert.equal(r.status, status, what);
      assert.equal(r.body.error.code, code, what);
      assert.equal(typeof r.body.error.message, 'string', what);
    }
    const form = await fetch(`${st.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'handle=erin',
    });
    assert.equal(form.status, 415);
    assert.equal(((await form.json()) as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(await memberList(st.dir), before, 'no bad request changed any member');
    // The secret was never consumed by the bad requests.
    const ok = await post(`${st.url}/api/v1/enroll`, { handle: 'erin', secret, password: 'erin-password-1', session: 'bearer' });
    assert.equal(ok.status, 200);
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const h = await get(`${st.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.station, 'washington');
    const m = await get(`${st.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(String(m.body), /# TYPE parley_items_accepted_total counter/);
    assert.match(String(m.body), /process_cpu|parley_lines|parley_line_health/);
    // The event loop's delay, where an operator sees what a line's latency tail waits for.
    assert.match(String(m.body), /^nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it('keeps members and sessions across a restart, and logs no secrets', async () => {
    const token = await st.addEnrolledMember('frank', 'principal', 'frank-password-1');
    const membersBefore = await memberList(st.dir);
    const code = await st.stop();
    assert.equal(code, 0, 'SIGTERM shuts the station down cleanly');
    await st.start();
    assert.deepEqual(await memberList(st.dir), membersBefore);
    const me = await get(`${st.url}/api/v1/me`, token);
    assert.equal(me.status, 200, 'the bearer session survived the restart');
    assert.equal(me.body.member.handle, 'frank');

    const log = readFileSync(join(st.dir, 'station.out'), 'utf8');
    const pem = readFileSync(join(st.dir, 'station.key'), 'utf8').split('\n')[1] as string;
    assert.ok(log.length > 0);
    assert.ok(!log.includes(pem), 'private key material never appears in logs');
    assert.ok(!log.includes('frank-password-1'), 'passwords never appear in logs');
    assert.ok(!log.includes(token), 'session tokens never appear in logs');
  });
});

describe('the CLI', () => {
  it('has --help on every command and exits non-zero with one line on a usage error', async () => {
    const commands = [
      [],
      ['station'],
      ['station', 'init'],
      ['station', 'start'],
      ['station', 'info'],
      ['member', 'add'],
      ['member', 'list'],
      ['member', 'reset'],
      ['line', 'invite'],
      ['line', 'accept'],
      ['line', 'list'],
      ['line', 'status'],
      ['enroll'],
      ['login'],
      ['lines'],
      ['send'],
      ['read'],
      ['demo'],
    ];
    for (const c of commands) {
      const r = await runCli([...c, '--help']);
      assert.equal(r.code, 0, c.join(' '));
      assert.match(r.stdout, /Usage: parley/, c.join(' '));
    }
    const bad = await runCli(['member', 'add', '--data', tempDir()]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /required option/);
  });
});

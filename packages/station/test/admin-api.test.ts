import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linkStations, StationProcess } from '@parley/testkit';

// biome-ignore lint/suspicious/noExplicitAny: response JSON is probed field by field by assertions, which fail loudly on a wrong shape.
type Json = Record<string, any>;

async function call(
  url: string,
  opts: { method?: string; token?: string; cookie?: string; body?: string | object } = {},
): Promise<{ status: number; body: Json; setCookie: string | null }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers,
    body: opts.body === undefined ? null : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, setCookie: res.headers.get('set-cookie') };
}

describe('admin API', () => {
  let st: StationProcess;
  let peer: StationProcess;
  let admin: string;
  let principal: string;
  const api = (path: string) => `${st.url}/api/v1/admin/${path}`;
  const handles = async () => ((await call(api('members'), { token: admin })).body.members as Json[]).map((m) => m.handle);

  before(async () => {
    st = await StationProcess.create({ name: 'washington' });
    peer = await StationProcess.create({ name: 'moscow' });
    await Promise.all([st.start(), peer.start()]);
    admin = await st.addEnrolledMember('admin', 'admin');
    principal = await st.addEnrolledMember('chief', 'principal');
    await peer.addEnrolledMember('chief', 'principal');
    await linkStations(st, peer, 'chiefs-of-staff', ['chief'], ['chief']);
  });
  after(async () => {
    await Promise.all([st.stop(), peer.stop()]);
  });

  it('refuses callers without a session, and members who are not admins, before looking at their input', async () => {
    const requests: [string, { body?: string | object }][] = [
      ['members', {}],
      ['members', { body: { handle: 'mallory', name: 'Mallory', role: 'admin' } }],
      ['members', { body: { handle: 'Not Valid!', extra: true } }],
      ['members', { body: '{not json' }],
      ['members/chief/reset', { body: {} }],
      ['members/NOT%20VALID/reset', { body: {} }],
      ['lines', {}],
    ];
    for (const [path, opts] of requests) {
      const anon = await call(api(path), opts);
      assert.equal(anon.status, 401, path);
      assert.equal(anon.body.error.code, 'UNAUTHENTICATED');
      const notAdmin = await call(api(path), { ...opts, token: principal });
      assert.equal(notAdmin.status, 403, path);
      assert.equal(notAdmin.body.error.code, 'FORBIDDEN');
      assert.match(notAdmin.body.error.message, /admin/);
    }
    assert.deepEqual(await handles(), ['admin', 'chief'], 'nothing was added');
  });

  it('lists members without secrets or password hashes', async () => {
    const r = await call(api('members'), { token: admin });
    assert.equal(r.status, 200);
    const chief = (r.body.members as Json[]).find((m) => m.handle === 'chief');
    assert.deepEqual(Object.keys(chief ?? {}).sort(), ['createdAt', 'enrolled', 'handle', 'name', 'role']);
    assert.equal(chief?.enrolled, true);
  });

  it('adds a member whose one-time secret enrolls them exactly once', async () => {
    const r = await call(api('members'), { token: admin, body: { handle: 'duty', name: 'Duty Officer, NMCC', role: 'duty_officer' } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.member, {
      ...r.body.member,
      handle: 'duty',
      name: 'Duty Officer, NMCC',
      role: 'duty_officer',
      enrolled: false,
    });
    assert.match(r.body.enrollmentSecret, /^[A-Za-z0-9_-]{20,}$/);
    const enroll = { handle: 'duty', secret: r.body.enrollmentSecret, password: 'duty-password-123', session: 'bearer' };
    assert.equal((await call(`${st.url}/api/v1/enroll`, { body: enroll })).status, 200);
    const again = await call(`${st.url}/api/v1/enroll`, { body: { ...enroll, password: 'another-password-1' } });
    assert.equal(again.body.error.code, 'ENROLLMENT_INVALID');
    const listed = (await call(api('members'), { token: admin })).body.members as Json[];
    assert.equal(listed.find((m) => m.handle === 'duty')?.enrolled, true);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const before = await handles();
    const bad: [string | object, string, RegExp][] = [
      [{ handle: 'x', name: 'Too short', role: 'deputy' }, 'VALIDATION_FAILED', /handle/],
      [{ handle: 'Upper', name: 'Upper case', role: 'deputy' }, 'VALIDATION_FAILED', /handle/],
      [{ handle: 'press', name: 'Press', role: 'emperor' }, 'VALIDATION_FAILED', /role/],
      [{ handle: 'press', name: '', role: 'deputy' }, 'VALIDATION_FAILED', /name/],
      [{ handle: 'press', role: 'deputy' }, 'VALIDATION_FAILED', /.+/],
      [{ handle: 'press', name: 'Press', role: 'deputy', password: 'x' }, 'VALIDATION_FAILED', /unknown field/],
      ['{"handle": "press",', 'MALFORMED_JSON', /JSON/],
      [{ handle: 'chief', name: 'Second chief', role: 'principal' }, 'HANDLE_TAKEN', /chief/],
    ];
    for (const [body, code, message] of bad) {
      const r = await call(api('members'), { token: admin, body });
      assert.equal(r.body.error?.code, code, JSON.stringify(body));
      assert.equal(r.status, code === 'HANDLE_TAKEN' ? 409 : 400);
      assert.match(r.body.error.message, message);
    }
    assert.deepEqual(await handles(), before);
  });

  it('resets an enrollment: the new secret works, the old one no longer does', async () => {
    const added = await call(api('members'), { token: admin, body: { handle: 'deputy', name: 'Vice Chairman', role: 'deputy' } });
    const reset = await call(api('members/deputy/reset'), { token: admin, method: 'POST' });
    assert.equal(reset.status, 200);
    assert.deepEqual(Object.keys(reset.body), ['enrollmentSecret']);
    assert.notEqual(reset.body.enrollmentSecret, added.body.enrollmentSecret);
    const old = await call(`${st.url}/api/v1/enroll`, {
      body: { handle: 'deputy', secret: added.body.enrollmentSecret, password: 'deputy-password-1', session: 'bearer' },
    });
    assert.equal(old.body.error.code, 'ENROLLMENT_INVALID');
    const fresh = await call(`${st.url}/api/v1/enroll`, {
      body: { handle: 'deputy', secret: reset.body.enrollmentSecret, password: 'deputy-password-1', session: 'bearer' },
    });
    assert.equal(fresh.status, 200);
  });

  it('refuses to reset a member who does not exist or a malformed handle', async () => {
    const missing = await call(api('members/nobody/reset'), { token: admin, method: 'POST' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
    const malformed = await call(api('members/NOBODY!/reset'), { token: admin, method: 'POST' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'VALIDATION_FAILED');
  });

  it('lists every line of the station with its summary, whether or not the admin holds a seat', async () => {
    const r = await call(api('lines'), { token: admin });
    assert.equal(r.status, 200);
    assert.equal(r.body.lines.length, 1);
    const line = r.body.lines[0] as Json;
    assert.equal(line.name, 'chiefs-of-staff');
    assert.equal(line.peer.name, 'moscow');
    assert.deepEqual(
      (line.seats as Json[]).map((s) => s.handle),
      ['chief'],
    );
    assert.match(line.safetyNumber, /^(\d{5} ){11}\d{5}$/);
    const own = await call(`${st.url}/api/v1/lines`, { token: admin });
    assert.deepEqual(own.body.lines, [], 'the admin holds no seat: the client API shows no line');
  });

  it('accepts the web app cookie session', async () => {
    const login = await call(`${st.url}/api/v1/login`, { body: { handle: 'admin', password: 'admin-password-123', session: 'cookie' } });
    assert.equal(login.status, 200);
    const cookie = (login.setCookie ?? '').split(';')[0] ?? '';
    assert.match(cookie, /^parley_session_washington_[0-9a-f]{8}=/);
    const r = await call(api('members'), { cookie });
    assert.equal(r.status, 200);
  });

  it('links a line from the web: an invitation made here, accepted there, the same safety number on both', async () => {
    const peerAdmin = await peer.addEnrolledMember('padmin', 'admin', 'padmin-password-123');
    // Bad input changes nothing, with a typed error.
    const empty = await call(api('lines/invitations'), { token: admin, body: { line: 'press-line', seats: [] } });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'VALIDATION_FAILED');
    const unknown = await call(api('lines/invitations'), { token: admin, body: { line: 'press-line', seats: ['nobody'] } });
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
    const notAdmin = await call(api('lines/invitations'), { token: principal, body: { line: 'press-line', seats: ['chief'] } });
    assert.equal(notAdmin.body.error.code, 'FORBIDDEN');

    const inv = await call(api('lines/invitations'), { token: admin, body: { line: 'press-line', seats: ['chief'], ttlHours: 2 } });
    assert.equal(inv.status, 201);
    assert.match(inv.body.invitation, /^parley1\./);
    assert.equal(inv.body.station.name, 'washington');
    assert.ok(inv.body.expiresAt > Date.now() + 3600_000 && inv.body.expiresAt <= Date.now() + 2 * 3600_000);
    const again = await call(api('lines/invitations'), { token: admin, body: { line: 'press-line', seats: ['chief'] } });
    assert.equal(again.body.error.code, 'LINE_EXISTS');

    const tampered = await call(`${peer.url}/api/v1/admin/lines/accept`, {
      token: peerAdmin,
      body: { invitation: `${inv.body.invitation.slice(0, -3)}AAA`, seats: ['chief'] },
    });
    assert.equal(tampered.body.error.code, 'INVITATION_TAMPERED');
    const acc = await call(`${peer.url}/api/v1/admin/lines/accept`, {
      token: peerAdmin,
      body: { invitation: inv.body.invitation, seats: ['chief'], name: 'washington-press' },
    });
    assert.equal(acc.status, 201, JSON.stringify(acc.body));
    assert.equal(acc.body.lineName, 'washington-press');
    assert.equal(acc.body.peer.name, 'washington');
    assert.equal(acc.body.peer.fingerprint, inv.body.station.fingerprint);
    const ours = ((await call(api('lines'), { token: admin })).body.lines as Json[]).find((l) => l.name === 'press-line');
    assert.ok(ours, 'the inviter holds the line too');
    assert.equal(ours.safetyNumber, acc.body.safetyNumber, 'the same safety number on both sides');
    const reused = await call(`${peer.url}/api/v1/admin/lines/accept`, {
      token: peerAdmin,
      body: { invitation: inv.body.invitation, seats: ['chief'], name: 'other-name' },
    });
    assert.equal(reused.body.error.code, 'INVITATION_USED');
  });

  it('keeps the logins of two stations on one host apart in one browser (cookies ignore ports)', async () => {
    await peer.addEnrolledMember('admin', 'admin', 'moscow-admin-password');
    // A browser's cookie jar for 127.0.0.1: one cookie per name, whatever the port.
    const jar = new Map<string, string>();
    const send = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const logIn = async (url: string, password: string) => {
      const res = await call(`${url}/api/v1/login`, { body: { handle: 'admin', password, session: 'cookie' } });
      assert.equal(res.status, 200);
      const [pair] = (res.setCookie ?? '').split(';');
      const [name, value] = (pair ?? '').split('=');
      jar.set(name as string, value as string);
      return name as string;
    };
    const washington = await logIn(st.url, 'admin-password-123');
    const moscow = await logIn(peer.url, 'moscow-admin-password');
    assert.notEqual(washington, moscow, 'each station names its cookie after itself');
    assert.match(moscow, /^parley_session_moscow_[0-9a-f]{8}$/);
    // The browser sends both cookies to both stations: each still knows its own officer.
    for (const [url, station] of [
      [st.url, 'washington'],
      [peer.url, 'moscow'],
    ] as const) {
      const me = await call(`${url}/api/v1/me`, { cookie: send() });
      assert.equal(me.status, 200, `still logged in at ${station}`);
      assert.equal(me.body.station.name, station);
    }
    // Logging out of one leaves the other logged in.
    const out = await call(`${peer.url}/api/v1/logout`, { method: 'POST', cookie: send() });
    assert.equal(out.status, 200);
    assert.match(out.setCookie ?? '', new RegExp(`^${moscow}=;`));
    jar.delete(moscow);
    assert.equal((await call(`${st.url}/api/v1/me`, { cookie: send() })).status, 200);
    assert.equal((await call(`${peer.url}/api/v1/me`, { cookie: send() })).status, 401);
  });
});

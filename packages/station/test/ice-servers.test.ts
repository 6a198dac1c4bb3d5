import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { StationProcess } from '@parley/testkit';
import { iceServersFor, resolveIceSetting } from '../src/calls/ice-servers.js';

// ICE servers per station: the setting is checked when the station starts, and the web app asks
// GET /api/v1/ice for them; a TURN relay's password is minted per member (coturn use-auth-secret).

const SECRET = 'a-long-shared-turn-secret-for-tests';
const SETTING = {
  servers: [{ urls: 'stun:stun.washington.example:3478' }],
  turn: {
    urls: ['turn:turn.washington.example:3478?transport=udp', 'turns:turn.washington.example:5349'],
    secret: SECRET,
    ttlSeconds: 3600,
  },
};

describe('ICE servers per station', () => {
  it('refuses a malformed setting with ICE_CONFIG_INVALID, naming where it came from', () => {
    for (const [env, why] of [
      ['{not json', /PARLEY_ICE_SERVERS is not JSON/],
      [JSON.stringify({ servers: [{ urls: 'http://example.org' }] }), /PARLEY_ICE_SERVERS: ICE setting is not valid/],
      [JSON.stringify({ servers: [], extra: 1 }), /not valid/],
      [JSON.stringify({ servers: [{ urls: 'turn:relay.example:3478' }] }), /needs a username and a credential/],
      [JSON.stringify({ servers: [], turn: { urls: ['turn:relay.example'], secret: 'short' } }), /not valid/],
    ] as const) {
      assert.throws(
        () => resolveIceSetting(undefined, env),
        (e: unknown) => e instanceof ParleyError && e.code === 'ICE_CONFIG_INVALID' && why.test(e.message),
        env,
      );
    }
    assert.throws(() => resolveIceSetting({ servers: [{ urls: 'ftp:x' }] }, undefined), /station.json ice/);
    assert.deepEqual(resolveIceSetting(undefined, undefined), { servers: [] });
    assert.deepEqual(resolveIceSetting(SETTING, ''), SETTING, 'an empty variable leaves station.json in charge');
  });

  it('mints time-limited TURN credentials coturn accepts, never handing out the secret', () => {
    const now = Date.UTC(2026, 0, 1);
    const res = iceServersFor(SETTING, { station: 'washington', handle: 'duty' }, now);
    assert.equal(res.ttlSeconds, 3600);
    assert.deepEqual(res.iceServers[0], { urls: 'stun:stun.washington.example:3478' });
    const turn = res.iceServers[1];
    assert.ok(turn);
    assert.equal(turn.username, `${now / 1000 + 3600}:washington/duty`);
    assert.equal(
      turn.credential,
      createHmac('sha1', SECRET)
        .update(turn.username ?? '')
        .digest('base64'),
    );
    assert.ok(!JSON.stringify(res).includes(SECRET));
  });
});

describe('GET /api/v1/ice', () => {
  let st: StationProcess;
  let token: string;
  before(async () => {
    st = await StationProcess.create({ name: 'washington' });
    await st.start({ env: { PARLEY_ICE_SERVERS: JSON.stringify(SETTING) } });
    const secret = await st.addMember('duty', 'Duty Officer', 'duty_officer');
    const res = await fetch(`${st.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'duty', secret, password: 'duty-password-long', session: 'bearer' }),
    });
    token = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await st?.stop();
  });

  it('answers a signed-in member with the station’s servers and their own TURN credentials, and nobody else', async () => {
    const res = await fetch(`${st.url}/api/v1/ice`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { iceServers: { urls: string | string[]; username?: string }[]; ttlSeconds: number };
    assert.equal(body.iceServers.length, 2);
    assert.match(body.iceServers[1]?.username ?? '', /^\d+:washington\/duty$/);
    assert.equal(body.ttlSeconds, 3600);
    const anon = await fetch(`${st.url}/api/v1/ice`);
    assert.equal(anon.status, 401);
  });
});

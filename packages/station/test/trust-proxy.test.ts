// Behind nginx every login comes from the proxy's address. Without being told which addresses
// are its proxies, a station must not believe X-Forwarded-For (anyone could write it to dodge the
// throttle); told, it throttles the client the proxy names, so one guesser does not lock every
// officer out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, StationProcess } from '@parley/testkit';
import { isProxyAddress, resolveTrustProxy } from '../src/http/trust-proxy.js';

const ADDRESS_LIMIT = 50; // failures per address in the window (station.ts)

async function login(st: StationProcess, handle: string, password: string, from: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${st.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ handle, password, session: 'bearer' }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, ...(body.error ? { code: body.error.code } : {}) };
}

/** Fail the per-address limit from `from`, each time as another handle (the per-handle limit is 5). */
async function exhaust(st: StationProcess, from: (i: number) => string): Promise<void> {
  for (let i = 0; i < ADDRESS_LIMIT; i++) {
    const r = await login(st, `guess${i}`, 'wrong-password', from(i));
    assert.equal(r.code, 'BAD_CREDENTIALS', `attempt ${i} is an ordinary failure`);
  }
}

describe('trusted proxies', () => {
  it('accepts addresses, ranges and range names, and refuses anything else', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'loopback', 'uniquelocal']) assert.equal(isProxyAddress(ok), true, ok);
    for (const bad of ['10.0.0.0/33', 'nginx.internal', '127.0.0.1/8/8', '', '300.1.1.1', '::1/129'])
      assert.equal(isProxyAddress(bad), false, bad);
    assert.deepEqual(resolveTrustProxy(['127.0.0.1'], undefined), ['127.0.0.1']);
    assert.deepEqual(
      resolveTrustProxy(['127.0.0.1'], ' 10.0.0.5 , loopback '),
      ['10.0.0.5', 'loopback'],
      'the environment overrides station.json',
    );
    assert.throws(
      () => resolveTrustProxy(['10.0.0.0/33'], undefined),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'CONFIG_INVALID');
        assert.match(e.message, /station\.json trustProxy: "10\.0\.0\.0\/33"/);
        return true;
      },
    );
  });

  describe('two stations on loopback, one told that 127.0.0.1 is its proxy', () => {
    let behindProxy: StationProcess;
    let direct: StationProcess;
    before(async () => {
      behindProxy = await StationProcess.create({ name: 'washington' });
      direct = await StationProcess.create({ name: 'moscow' });
      await Promise.all([behindProxy.start({ env: { PARLEY_TRUST_PROXY: '127.0.0.1' } }), direct.start()]);
      await behindProxy.addEnrolledMember('alice', 'principal', 'alice-password-1');
      await direct.addEnrolledMember('boris', 'principal', 'boris-password-1');
    });
    after(async () => {
      await Promise.all([behindProxy.stop(), direct.stop()]);
    });

    it('throttles the client the proxy names, and lets another client log in', async () => {
      await exhaust(behindProxy, () => '203.0.113.7');
      const guesser = await login(behindProxy, 'alice', 'alice-password-1', '203.0.113.7');
      assert.equal(guesser.code, 'RATE_LIMITED', 'the guessing address is held back, even with a right password');
      const officer = await login(behindProxy, 'alice', 'alice-password-1', '203.0.113.8');
      assert.equal(officer.status, 200, 'an officer at another address logs in');
    });

    it('does not believe X-Forwarded-For from anyone it was not told about', async () => {
      await exhaust(direct, (i) => `198.51.100.${i}`);
      const next = await login(direct, 'boris', 'boris-password-1', '198.51.100.200');
      assert.equal(next.code, 'RATE_LIMITED', 'every attempt counted against the real address, whatever the header said');
    });
  });

  it('refuses to start on a setting it cannot use, and says which', async () => {
    const st = await StationProcess.create({ name: 'ottawa' });
    const r = await runCli(['station', 'start', '--data', st.dir], { env: { PARLEY_TRUST_PROXY: '127.0.0.1,proxy.example' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CONFIG_INVALID/);
    assert.match(r.stderr, /PARLEY_TRUST_PROXY: "proxy\.example"/);
  });
});

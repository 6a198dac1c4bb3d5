import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLiveView, checkStream, freePort, linkStations, StationProcess, tempDir, testPostgresUrl } from '@parley/testkit';
import { type ClientItem, httpSendAll, LineClient, lineSummary, opaquePayload, readTimeline, waitFor } from './support/line-client.js';

// Issue 10: the example nginx configuration of docs/deploy/nginx.conf, run as it is (addresses,
// ports and file paths replaced) in front of a station of three processes on PostgreSQL.

const EXAMPLE = fileURLToPath(new URL('../../../../docs/deploy/nginx.conf', import.meta.url));
const LINE = 'chiefs';
const pgAdmin = testPostgresUrl();

/** nginx on PATH; Debian puts it in /usr/sbin, which a non-root PATH often lacks. */
function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, 'nginx'), constants.X_OK);
      return join(d, 'nginx');
    } catch {
      // not here
    }
  }
  return null;
}

const nginxBin = findNginx();
const skip = !pgAdmin
  ? 'PARLEY_TEST_PG is not set (a station of several processes needs PostgreSQL)'
  : !nginxBin
    ? 'nginx is not installed (apt-get install nginx)'
    : false;

/**
 * The example with this run's addresses: the three processes, a free listen port on loopback,
 * logs and temporary files in `dir`. Fails when the example no longer has what it replaces, so
 * the file and the test cannot drift apart.
 */
function renderConfig(template: string, o: { upstreams: number[]; listen: number; dir: string; asRoot: boolean }): string {
  let s = template;
  const swap = (from: RegExp, to: string) => {
    if (!from.test(s)) throw new Error(`docs/deploy/nginx.conf no longer matches ${from}`);
    s = s.replace(from, to);
  };
  for (const [i, port] of o.upstreams.entries()) {
    swap(new RegExp(`^(\\s*server )10\\.0\\.0\\.5:730${i + 1}( )`, 'm'), `$1127.0.0.1:${port}$2`);
  }
  swap(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${o.listen};`);
  // The master stays root in CI (the workers then need an account that can write `dir`); an
  // ordinary user's nginx ignores `user` anyway.
  swap(/^user www-data;$/m, o.asRoot ? 'user root;' : '');
  const tmp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${o.dir}/tmp/${k};`).join('\n');
  swap(/^(\s*)access_log \/var\/log\/nginx\/parley\.access\.log;$/m, `$1access_log ${o.dir}/access.log;\n${tmp}`);
  return s;
}

/** A throwaway nginx in the foreground, as a child of this test. */
class Nginx {
  private child: ChildProcess | null = null;
  private stderr = '';
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid as number;
  }

  async start(): Promise<void> {
    const child = spawn(
      nginxBin as string,
      [
        '-p',
        this.dir,
        '-e',
        'stderr',
        '-c',
        join(this.dir, 'nginx.conf'),
        '-g',
        `daemon off; pid ${this.dir}/nginx.pid; error_log stderr;`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
    });
    process.on('exit', () => child.kill('SIGKILL'));
    await waitFor(
      'nginx to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${this.stderr}`);
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        return res.ok ? true : undefined;
      },
      15_000,
      50,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nnginx said: ${this.stderr}`);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /**
   * Upstream ports of the connections nginx's workers hold open to the processes right now.
   * The example keeps no idle upstream connections, so these are the open line views.
   */
  upstreamConnections(upstreamPorts: number[]): number[] {
    const workers = readdirSync('/proc').filter((d) => {
      if (!/^\d+$/.test(d)) return false;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === this.pid;
      } catch {
        return false;
      }
    });
    const inodes = new Set<string>();
    for (const w of workers) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${w}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${w}/fd/${fd}`));
          if (m) inodes.add(m[1] as string);
        } catch {
          // closed meanwhile
        }
      }
    }
    const ports: number[] = [];
    for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // local, remote, state (01 = ESTABLISHED), …, inode
      if (f.length < 10 || f[3] !== '01' || !inodes.has(f[9] as string)) continue;
      const remotePort = Number.parseInt((f[2] as string).split(':')[1] as string, 16);
      if (upstreamPorts.includes(remotePort)) ports.push(remotePort);
    }
    return ports;
  }
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('nginx (docs/deploy/nginx.conf) in front of a station of three processes', { skip }, () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let procs: StationProcess[];
  let lb: Nginx;
  let moToken: string;
  let waSecret: string;
  let waToken = '';
  let lineId = '';
  const makeItems = (prefix: string, n: number): ClientItem[] =>
    Array.from({ length: n }, (_, i) => ({
      clientId: `${prefix}-${i}-${randomBytes(4).toString('hex')}`,
      payload: opaquePayload(lineId, `${prefix} ${i}`),
      acceptedSeq: null,
    }));

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', endpoints: 3, heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    procs = [0, 1, 2].map((i) => wa.processOf(i));
    await Promise.all([...procs.map((p) => p.start()), mo.start()]);
    waSecret = await (procs[0] as StationProcess).addMember('chief', 'Chairman', 'principal');
    moToken = await mo.addEnrolledMember('chief', 'principal');
    await linkStations(procs[0] as StationProcess, mo, LINE, ['chief'], ['chief']);
    lineId = (await lineSummary(mo.url, moToken, LINE)).id as string;

    const dir = tempDir('parley-nginx-');
    mkdirSync(join(dir, 'tmp'));
    const port = await freePort();
    const conf = renderConfig(readFileSync(EXAMPLE, 'utf8'), {
      upstreams: wa.ports,
      listen: port,
      dir,
      asRoot: process.getuid?.() === 0,
    });
    writeFileSync(join(dir, 'nginx.conf'), conf);
    lb = new Nginx(dir, port);
    await lb.start();
  });
  after(async () => {
    await lb?.stop();
    await Promise.all([...(procs ?? []).map((p) => p.stop()), mo?.stop()]);
  });

  it('enrols and logs in through the balancer, with bearer tokens and with the session cookie', async () => {
    const enrolled = await post(`${lb.url}/api/v1/enroll`, {
      handle: 'chief',
      secret: waSecret,
      password: 'chief-password-123',
      session: 'bearer',
    });
    assert.equal(enrolled.status, 200, await enrolled.clone().text());

    const bearer = await post(`${lb.url}/api/v1/login`, { handle: 'chief', password: 'chief-password-123', session: 'bearer' });
    assert.equal(bearer.status, 200);
    waToken = ((await bearer.json()) as { token: string }).token;
    assert.ok(waToken);

    // The browser's way: an httpOnly cookie set through the balancer, good on every process.
    const login = await post(`${lb.url}/api/v1/login`, { handle: 'chief', password: 'chief-password-123' });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    assert.match(cookie, /=/, 'a session cookie');
    for (let i = 0; i < 6; i++) {
      const me = await fetch(`${lb.url}/api/v1/me`, { headers: { cookie } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { member: { handle: string } }).member.handle, 'chief');
    }
    const wrong = await post(`${lb.url}/api/v1/login`, { handle: 'chief', password: 'not-the-password' });
    assert.equal(wrong.status, 401);
  });

  it('keeps a line view through the balancer when its process is killed: it reconnects and misses nothing', async (t) => {
    assert.ok(waToken, 'logged in by the test before');
    const client = new LineClient({ url: lb.url, token: waToken, line: LINE, keepView: true });
    await client.start();
    try {
      const indexOf = (port: number) => wa.ports.indexOf(port);
      const first = await waitFor('the line view to hold one upstream connection', async () => {
        const conns = lb.upstreamConnections(wa.ports);
        return conns.length === 1 ? indexOf(conns[0] as number) : undefined;
      });

      // Traffic both ways while the process dies: moscow sends to washington, washington's
      // member sends through the balancer over HTTP (a request caught by the kill gets a 502 from
      // nginx and is sent again with the same client id). Not over the view's WebSocket: the
      // station drops frames that arrive before its stream handler has looked up the line, so a
      // client that resends on open (as LineClient does) can wait forever; see the report.
      const toWashington = makeItems('mo', 1500);
      const toMoscow = makeItems('via-nginx', 1500);
      const moSending = httpSendAll(() => mo.url, moToken, LINE, toWashington, { concurrency: 4, ratePerSec: 300 });
      const waSending = httpSendAll(() => lb.url, waToken, LINE, toMoscow, { concurrency: 4, ratePerSec: 300 });
      await waitFor('items to flow through the balancer', async () => (client.view.length >= 300 ? true : undefined), 30_000, 20);

      const connectsBefore = client.connects;
      await (procs[first] as StationProcess).kill9();
      const second = await waitFor(
        'the client to reconnect through nginx to another process',
        async () => {
          if (client.connects <= connectsBefore || !client.connected) return undefined;
          const conns = lb.upstreamConnections(wa.ports);
          return conns.length === 1 ? indexOf(conns[0] as number) : undefined;
        },
        30_000,
        20,
      );
      assert.notEqual(second, first, 'the view moved off the dead process');

      // Plain requests fail over too: none of them sees the dead process.
      for (let i = 0; i < 12; i++) {
        const me = await fetch(`${lb.url}/api/v1/me`, { headers: { authorization: `Bearer ${waToken}` } });
        assert.equal(me.status, 200, `request ${i} after the kill`);
      }

      const sending = Promise.all([moSending, waSending]).then(([, wa]) => wa.retries);
      let finished = false;
      sending.then(
        () => {
          finished = true;
        },
        () => {
          finished = true;
        },
      );
      await waitFor('both senders to finish', async () => (finished ? true : undefined), 120_000).catch((e: Error) => {
        const state = {
          connects: client.connects,
          connected: client.connected,
          lastPos: client.lastPos,
          accepted: toMoscow.filter((i) => i.acceptedSeq !== null).length,
          fromMoscow: toWashington.filter((i) => i.acceptedSeq !== null).length,
          errors: client.errors.slice(-5),
        };
        throw new Error(`${e.message}: ${JSON.stringify(state)}`);
      });
      const retries = await sending;
      t.diagnostic(`line view on process ${first}, killed; reconnected to process ${second}; ${retries} sends through nginx repeated`);

      // Quiescence: both ends hold everything, two reads a moment apart agree (the recorders may
      // still be adding items), and the view ends where the timeline ends.
      let previous = '';
      const { timeline, moTimeline, view } = await waitFor(
        'both stations to settle and the live view to catch up',
        async () => {
          const t = await readTimeline(lb.url, waToken, LINE);
          const m = await readTimeline(mo.url, moToken, LINE);
          const view = client.view.slice();
          const counted = (x: typeof t) => x.filter((i) => i.dir === 'in' && i.sender.handle !== 'recorder').length;
          const shape = `${t.length}/${m.length}`;
          const settled = shape === previous;
          previous = shape;
          const complete = counted(t) >= toWashington.length && counted(m) >= toMoscow.length;
          const last = t[t.length - 1]?.pos ?? 0;
          return complete && settled && view[view.length - 1]?.pos === last ? { timeline: t, moTimeline: m, view } : undefined;
        },
        120_000,
        500,
      );

      assert.ok(client.connects >= 2, 'the client reconnected');
      assert.deepEqual(
        client.errors.filter((e) => e.includes('seen again')),
        [],
        'no item shown twice',
      );
      assert.deepEqual(checkLiveView(view, timeline).problems, [], 'the live view is the timeline: nothing lost');
      const sent = checkStream({
        senders: [{ name: 'client behind nginx', handle: 'chief', ordered: false, items: toMoscow }],
        receiverTimeline: moTimeline,
        senderTimeline: timeline,
        otherSenders: ['recorder'],
      });
      assert.deepEqual(sent.problems, [], 'washington → moscow');
      assert.equal(sent.stats.acknowledged, toMoscow.length);
      const received = checkStream({
        senders: [{ name: 'moscow client', handle: 'chief', ordered: false, items: toWashington }],
        receiverTimeline: timeline,
        senderTimeline: moTimeline,
        otherSenders: ['recorder'],
      });
      assert.deepEqual(received.problems, [], 'moscow → washington');
    } finally {
      client.stop();
    }
  });
});

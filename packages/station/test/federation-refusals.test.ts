import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FED_HEADERS, type Item } from '@parley/protocol';
import { linkStations, StationProcess, TcpProxy } from '@parley/testkit';
import { signRequest, verifyResponse } from '../src/federation/signing.js';
import { StationKey } from '../src/identity/station-key.js';
import { type ClientItem, LineClient, lineSummary, opaquePayload, readTimeline, waitFor } from './support/line-client.js';

// A peer station's requests are crafted here by hand, signed with the peer's real key (read
// from its data directory) or a stranger's, and sent straight to the station under test.
// Every bad one must be refused with its stable code, answered with a signed reply, and
// leave the line exactly as it was.

interface FedReply {
  status: number;
  code: string | undefined;
  body: Record<string, unknown>;
  signedByStation: boolean;
}

let lineId = '';

function item(n: number, prefix = 'fresh'): ClientItem {
  return {
    clientId: `${prefix}-${String(n).padStart(6, '0')}`,
    payload: opaquePayload(lineId, `${prefix} ${n}`),
    acceptedSeq: null,
  };
}

describe('federation refusals', () => {
  let washington: StationProcess;
  let moscow: StationProcess;
  let alice: string;
  let boris: string;
  let moscowKey: StationKey;
  let washingtonKey: StationKey;
  let delivered: Item[];

  before(async () => {
    washington = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    moscow = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await washington.start();
    await moscow.start();
    alice = await washington.addEnrolledMember('alice');
    boris = await moscow.addEnrolledMember('boris');
    await linkStations(washington, moscow, 'hotline', ['alice'], ['boris']);
    lineId = (await lineSummary(washington.url, alice, 'hotline')).id as string;
    moscowKey = StationKey.fromPem(readFileSync(join(moscow.dir, 'station.key'), 'utf8'));
    washingtonKey = StationKey.fromPem(readFileSync(join(washington.dir, 'station.key'), 'utf8'));

    // Three items delivered for real, so there is a stream to protect.
    const client = new LineClient({ url: moscow.url, token: boris, line: 'hotline' });
    await client.start();
    await client.sendAll([item(1, 'real'), item(2, 'real'), item(3, 'real')]);
    client.stop();
    delivered = await waitFor('three items at washington', async () => {
      const tl = (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.dir === 'in');
      return tl.length === 3 ? tl : undefined;
    });
    // Let the line's MLS group settle (the hub adds moscow's recorder with a commit on its own
    // timeline) so nothing but the crafted requests could change washington's timeline.
    await waitFor('both recorders in the line\u2019s group', async () => {
      const res = await fetch(`${washington.url}/api/v1/lines/hotline/roster`, { headers: { authorization: `Bearer ${alice}` } });
      const roster = res.ok ? ((await res.json()) as { devices: unknown[] }) : undefined;
      return roster && roster.devices.length === 2 ? true : undefined;
    });
    // Moscow stays out of the way from here on: only the crafted requests reach washington.
    await moscow.stop();
  });

  after(async () => {
    await washington.stop();
    await moscow.stop();
  });

  async function fed(
    path: string,
    body: string | object,
    opts: { key?: StationKey | null; now?: number; tamper?: (raw: Buffer) => Buffer; headers?: Record<string, string> } = {},
  ): Promise<FedReply & { send: () => Promise<FedReply> }> {
    const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const key = opts.key === undefined ? moscowKey : opts.key;
    const signed = key ? signRequest(key, 'POST', path, raw, opts.now) : {};
    const sentBody = opts.tamper ? opts.tamper(raw) : raw;
    const send = async (): Promise<FedReply> => {
      const res = await fetch(`${washington.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed, ...opts.headers },
        body: sentBody,
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
      const sig = res.headers.get(FED_HEADERS.signature);
      const nonce = signed[FED_HEADERS.nonce];
      return {
        status: res.status,
        code: (json.error as { code?: string } | undefined)?.code,
        body: json,
        signedByStation: !!sig && !!nonce && verifyResponse(washingtonKey.publicKey, nonce, res.status, bytes, sig),
      };
    };
    return { ...(await send()), send };
  }

  const itemsPath = () => `/fed/v1/lines/${lineId}/items`;
  const asFed = (i: Item, changes: Partial<Record<string, unknown>> = {}) => ({
    seq: i.seq,
    kind: i.kind,
    payload: i.payload,
    sender: i.sender.handle,
    clientId: i.clientId,
    sentAt: i.sentAt,
    ...changes,
  });
  const freshItem = (seq: number, changes: Partial<Record<string, unknown>> = {}) => ({
    seq,
    kind: 'mls',
    payload: opaquePayload(lineId, `injected ${seq}`),
    sender: 'boris',
    clientId: `injected-${seq}-abcdef`,
    sentAt: Date.now(),
    ...changes,
  });

  /**
   * Run `act`, then prove that nothing from moscow got into the line at washington. (Washington's
   * own stream may grow meanwhile: as the hub it adds joint-record entries by itself.)
   */
  async function unchanged(act: () => Promise<void>): Promise<void> {
    const fromPeer = async () => (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.dir === 'in');
    const before = await fromPeer();
    const sumBefore = await lineSummary(washington.url, alice, 'hotline');
    await act();
    const after = await fromPeer();
    const sumAfter = await lineSummary(washington.url, alice, 'hotline');
    assert.deepEqual(after, before, 'nothing from the peer was stored');
    assert.equal(sumAfter.backlogIn, sumBefore.backlogIn);
  }

  function refused(r: FedReply, status: number, code: string, signed = true): void {
    assert.equal(r.code, code, JSON.stringify(r.body));
    assert.equal(r.status, status);
    if (signed) assert.ok(r.signedByStation, 'the refusal is signed by the station');
  }

  it('refuses a body that is not JSON', async () => {
    await unchanged(async () => {
      refused(await fed(itemsPath(), '{"items": [ {"seq": 4,'), 400, 'MALFORMED_JSON');
      refused(await fed(itemsPath(), 'garbage \u0000\u00ff'), 400, 'MALFORMED_JSON');
    });
  });

  it('refuses an unsigned request, and one with a malformed signature header', async () => {
    await unchanged(async () => {
      refused(await fed(itemsPath(), { items: [freshItem(4)] }, { key: null }), 401, 'FED_UNSIGNED', false);
      const r = await fed(itemsPath(), { items: [freshItem(4)] }, { headers: { [FED_HEADERS.timestamp]: 'yesterday' } });
      refused(r, 401, 'FED_UNSIGNED');
    });
  });

  it('refuses a request signed by another key, or whose body or path was altered after signing', async () => {
    await unchanged(async () => {
      refused(await fed(itemsPath(), { items: [freshItem(4)] }, { key: StationKey.generate() }), 401, 'FED_BAD_SIGNATURE');
      // The pinned peer of this line signed it, but washington's own key is not that peer.
      refused(await fed(itemsPath(), { items: [freshItem(4)] }, { key: washingtonKey }), 401, 'FED_BAD_SIGNATURE');
      const tampered = await fed(
        itemsPath(),
        { items: [freshItem(4)] },
        { tamper: (raw) => Buffer.from(raw.toString('utf8').replace('"seq":4', '"seq":5')) },
      );
      refused(tampered, 401, 'FED_BAD_SIGNATURE');
      // A signature over another line's path does not carry over.
      const signedElsewhere = signRequest(moscowKey, 'POST', '/fed/v1/lines/another-line-id/items', Buffer.from('{}'));
      const res = await fetch(`${washington.url}${itemsPath()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedElsewhere },
        body: '{}',
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'FED_BAD_SIGNATURE');
    });
  });

  it('refuses a replayed request', async () => {
    await unchanged(async () => {
      // A resend of items washington already holds, identical: harmless, accepted once.
      const first = await fed(itemsPath(), { items: delivered.map((i) => asFed(i)) });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, { ackedSeq: 3 });
      assert.ok(first.signedByStation);
      refused(await first.send(), 409, 'FED_REPLAY');
    });
  });

  it('refuses a request replayed after its refusal', async () => {
    await unchanged(async () => {
      const first = await fed(itemsPath(), { items: [freshItem(6)] });
      refused(first, 409, 'SEQ_GAP');
      refused(await first.send(), 409, 'FED_REPLAY');
    });
  });

  it('refuses a request whose timestamp is outside the window', async () => {
    await unchanged(async () => {
      refused(await fed(itemsPath(), { items: [freshItem(4)] }, { now: Date.now() - 10 * 60_000 }), 401, 'FED_CLOCK_SKEW');
      refused(await fed(itemsPath(), { items: [freshItem(4)] }, { now: Date.now() + 10 * 60_000 }), 401, 'FED_CLOCK_SKEW');
    });
  });

  it('refuses a line it does not share with the signer', async () => {
    await unchanged(async () => {
      refused(await fed('/fed/v1/lines/NoSuchLine0000000000/items', { items: [freshItem(4)] }), 403, 'FED_WRONG_LINE', false);
      refused(
        await fed('/fed/v1/lines/NoSuchLine0000000000/heartbeat', { sentSeq: 0, ackedSeq: 0, at: Date.now() }),
        403,
        'FED_WRONG_LINE',
        false,
      );
    });
  });

  it('refuses a gap in sequence numbers, and says where to resume', async () => {
    await unchanged(async () => {
      const gap = await fed(itemsPath(), { items: [freshItem(5)] });
      refused(gap, 409, 'SEQ_GAP');
      assert.equal(gap.body.ackedSeq, 3, 'the refusal names the last sequence held');
      refused(await fed(itemsPath(), { items: [freshItem(4), freshItem(6)] }), 409, 'SEQ_GAP');
      refused(await fed(itemsPath(), { items: [freshItem(0)] }), 409, 'SEQ_GAP');
    });
  });

  it('refuses a rewind that alters an item already delivered', async () => {
    await unchanged(async () => {
      const [one, two, three] = delivered as [Item, Item, Item];
      const altered = opaquePayload(lineId, 'not what was said');
      refused(await fed(itemsPath(), { items: [asFed(two, { payload: altered })] }), 409, 'SEQ_CONFLICT');
      refused(await fed(itemsPath(), { items: [asFed(one), asFed(two, { sender: 'mallory' })] }), 409, 'SEQ_CONFLICT');
      // Even riding along with a legitimate new item, the rewrite sinks the whole batch.
      refused(await fed(itemsPath(), { items: [asFed(three, { clientId: 'other-client-id' }), freshItem(4)] }), 409, 'SEQ_CONFLICT');
      // A new sequence number that reuses a delivered item's client id is a rewrite too.
      refused(await fed(itemsPath(), { items: [freshItem(4, { clientId: one.clientId })] }), 409, 'SEQ_CONFLICT');
    });
  });

  it('refuses unknown fields and ill-typed values', async () => {
    await unchanged(async () => {
      refused(await fed(itemsPath(), { items: [freshItem(4, { urgent: true })] }), 400, 'VALIDATION_FAILED');
      refused(await fed(itemsPath(), { items: [freshItem(4)], note: 'hi' }), 400, 'VALIDATION_FAILED');
      refused(await fed(itemsPath(), { items: [freshItem(4, { seq: '4' })] }), 400, 'VALIDATION_FAILED');
      refused(await fed(itemsPath(), { items: [freshItem(4, { payload: 'not base64url!' })] }), 400, 'VALIDATION_FAILED');
      refused(await fed(itemsPath(), { items: [] }), 400, 'VALIDATION_FAILED');
    });
  });

  it('refuses anything but MLS of this line, from the peer and from a member: no plaintext is stored', async () => {
    const plain = Buffer.from('plain words').toString('base64url');
    const otherLine = opaquePayload('some-other-line', 'wrong group');
    await unchanged(async () => {
      refused(await fed(itemsPath(), { items: [freshItem(4, { kind: 'message', payload: plain })] }), 400, 'VALIDATION_FAILED');
      refused(await fed(itemsPath(), { items: [freshItem(4, { payload: plain })] }), 422, 'FED_BAD_ITEM');
      refused(await fed(itemsPath(), { items: [freshItem(4, { payload: otherLine })] }), 422, 'FED_BAD_ITEM');
      // Moscow is not the hub of this line: it may not send Welcomes on its stream.
      refused(await fed(itemsPath(), { items: [freshItem(4, { kind: 'welcome' })] }), 422, 'FED_BAD_ITEM');
      const post = async (body: Record<string, unknown>) => {
        const res = await fetch(`${washington.url}/api/v1/lines/hotline/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
          body: JSON.stringify(body),
        });
        return { status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code };
      };
      assert.deepEqual(await post({ payload: plain, clientId: 'plain-000001' }), { status: 422, code: 'NOT_ENCRYPTED' });
      assert.deepEqual(await post({ kind: 'message', payload: plain, clientId: 'plain-000002' }), {
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      assert.deepEqual(await post({ payload: otherLine, clientId: 'plain-000003' }), { status: 422, code: 'NOT_ENCRYPTED' });
    });
    const stored = (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.clientId?.startsWith('plain-'));
    assert.deepEqual(stored, [], 'none of the refused sends was stored');
  });

  it('still takes the genuine next item after all that', async () => {
    const ok = await fed(itemsPath(), { items: [freshItem(4)] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { ackedSeq: 4 });
    const incoming = (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.dir === 'in');
    assert.deepEqual(
      incoming.map((i) => [i.seq, i.clientId]),
      [
        [1, 'real-000001'],
        [2, 'real-000002'],
        [3, 'real-000003'],
        [4, 'injected-4-abcdef'],
      ],
    );
  });
});

describe('endpoint failover', () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('keeps delivering through the second endpoint while the first is out, then returns to the first', async (t) => {
    const first = await TcpProxy.start();
    const second = await TcpProxy.start();
    cleanup.push(
      () => first.close(),
      () => second.close(),
    );
    // Washington advertises two endpoints, each reached through its own proxy.
    const washington = await StationProcess.create({
      name: 'washington',
      heartbeatMs: 500,
      endpoints: 2,
      advertise: (ports) => {
        first.setTarget(ports[0] as number);
        second.setTarget(ports[1] as number);
        return [first.url, second.url];
      },
    });
    const moscow = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await washington.start();
    await moscow.start();
    cleanup.push(
      () => washington.stop(),
      () => moscow.stop(),
    );
    const alice = await washington.addEnrolledMember('alice');
    const boris = await moscow.addEnrolledMember('boris');
    await linkStations(washington, moscow, 'hotline', ['alice'], ['boris']);
    lineId = (await lineSummary(moscow.url, boris, 'hotline')).id as string;
    const client = new LineClient({ url: moscow.url, token: boris, line: 'hotline' });
    await client.start();
    cleanup.push(() => client.stop());

    let n = 0;
    /** Send `count` items from moscow and wait until washington holds every one. */
    const deliver = async (count: number, label: string) => {
      const batch = Array.from({ length: count }, () => item(++n, 'fo'));
      await client.sendAll(batch);
      await waitFor(`${label}: ${count} items at washington`, async () => {
        const tl = (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.dir === 'in');
        return tl.length === n ? tl : undefined;
      });
    };
    const summary = () => lineSummary(moscow.url, boris, 'hotline');
    const until = (what: string, ok: (s: Awaited<ReturnType<typeof summary>>) => boolean) =>
      waitFor(what, async () => {
        const s = await summary();
        return ok(s) ? s : undefined;
      });

    await until('the line up on the first endpoint', (s) => s.health === 'up' && s.endpoint === first.url);
    await deliver(20, 'both endpoints up');

    for (const mode of ['refuse', 'blackhole'] as const) {
      // The first endpoint goes away: open connections are reset, new ones refused (or swallowed).
      const [viaFirst, viaSecond] = [first.bytesUp, second.bytesUp];
      first.pause(mode);
      first.cut();
      await deliver(50, `first endpoint out (${mode})`);
      const s = await until(
        `the line degraded on the second endpoint (${mode})`,
        (x) => x.health === 'degraded' && x.endpoint === second.url,
      );
      t.diagnostic(`${mode}: ${JSON.stringify({ health: s.health, endpoint: s.endpoint })}`);
      await deliver(50, `still degraded (${mode})`);
      assert.equal(first.bytesUp, viaFirst, 'nothing went through the first endpoint while it was out');
      assert.ok(second.bytesUp - viaSecond > 100 * 20, 'the items went through the second endpoint');

      first.resume();
      await until(`the line back up on the first endpoint (${mode})`, (x) => x.health === 'up' && x.endpoint === first.url);
      await deliver(20, `recovered (${mode})`);
    }

    // And every item arrived once, in order.
    const incoming = (await readTimeline(washington.url, alice, 'hotline')).filter((i) => i.dir === 'in');
    assert.deepEqual(
      incoming.map((i) => i.seq),
      incoming.map((_, k) => k + 1),
    );
    assert.equal(new Set(incoming.map((i) => i.clientId)).size, n);
  });
});

// The line's item stream between stations runs over one WebSocket per direction: a signed upgrade
// with an ephemeral key, the peer's signed answer, then MAC'd frames. These tests play the
// sending station by hand against a real one and check that what must be refused is, with
// nothing stored. (The fault test sends 10,000 items through the same path under kill -9 and
// connection resets.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FED_HEADERS } from '@parley/protocol';
import { eventually, linkStations, StationProcess } from '@parley/testkit';
import { WebSocket } from 'ws';
import { loadDataDir } from '../src/config/data-dir.js';
import { signRequest, verifyResponse } from '../src/federation/signing.js';
import {
  channelKeys,
  type Ephemeral,
  newEphemeral,
  openFrame,
  STREAM_EPHEMERAL_HEADER,
  sealFrame,
  streamPath,
} from '../src/federation/stream-channel.js';
import { StationKey } from '../src/identity/station-key.js';
import { httpSendAll, lineSummary, opaquePayload, readTimeline } from './support/line-client.js';

describe('stream frames', () => {
  const a = newEphemeral();
  const b = newEphemeral();
  const opener = channelKeys(a, b.publicKey, 'nonce-1234567890abcdef', 'opener');
  const acceptor = channelKeys(b, a.publicKey, 'nonce-1234567890abcdef', 'acceptor');
  const body = Buffer.from('{"items":[]}');

  it('opens what the other side sealed, in order', () => {
    assert.deepEqual(openFrame(acceptor.receive, 0, sealFrame(opener.send, 0, body)), body);
    assert.deepEqual(openFrame(opener.receive, 3, sealFrame(acceptor.send, 3, body)), body);
  });

  it('refuses an altered byte, a replayed or skipped counter, a frame reflected back, another connection’s key', () => {
    const frame = sealFrame(opener.send, 1, body);
    const altered = Buffer.from(frame);
    altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
    assert.equal(openFrame(acceptor.receive, 1, altered), null, 'altered body');
    assert.equal(openFrame(acceptor.receive, 0, frame), null, 'counter 1 where 0 is due (skipped)');
    assert.equal(openFrame(acceptor.receive, 2, frame), null, 'counter 1 where 2 is due (replayed)');
    assert.equal(openFrame(opener.receive, 1, frame), null, 'our own frame sent back to us');
    const other = channelKeys(b, a.publicKey, 'another-nonce-abcdef123456', 'acceptor');
    assert.equal(openFrame(other.receive, 1, frame), null, 'another connection');
    assert.equal(openFrame(acceptor.receive, 0, Buffer.alloc(10)), null, 'too short');
  });
});

describe('the stream route of a real station', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let moToken: string;
  let lineId: string;
  let waKey: StationKey;
  let moPublic: Uint8Array;
  before(async () => {
    wa = await StationProcess.create({ name: 'washington' });
    mo = await StationProcess.create({ name: 'moscow' });
    await Promise.all([wa.start(), mo.start()]);
    await wa.addEnrolledMember('alice');
    moToken = await mo.addEnrolledMember('boris');
    await linkStations(wa, mo, 'hotline', ['alice'], ['boris']);
    lineId = (await lineSummary(mo.url, moToken, 'hotline')).id as string;
    waKey = loadDataDir(wa.dir).key;
    moPublic = loadDataDir(mo.dir).key.publicKey;
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  /** Open moscow's stream for the line as `key` would; resolves with the upgrade's outcome. */
  function open(
    key: StationKey,
    headers?: Record<string, string>,
  ): Promise<
    | { refused: { status: number; code: string } }
    | { ws: WebSocket; hello: { ephemeral: string; signature: string }; ours: Ephemeral; nonce: string }
  > {
    const ours = newEphemeral();
    const h = headers ?? {
      ...signRequest(key, 'GET', streamPath(lineId), ours.publicKey),
      [STREAM_EPHEMERAL_HEADER]: Buffer.from(ours.publicKey).toString('base64url'),
    };
    const ws = new WebSocket(`${mo.url.replace('http', 'ws')}${streamPath(lineId)}`, { headers: h });
    return new Promise((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ refused: { status: res.statusCode ?? 0, code: (JSON.parse(text) as { error: { code: string } }).error.code } }),
        );
      });
      ws.once('message', (data: Buffer) =>
        resolve({ ws, hello: JSON.parse(data.toString()), ours, nonce: h[FED_HEADERS.nonce] as string }),
      );
      ws.on('error', reject);
    });
  }

  const answer = (ws: WebSocket) => new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));

  it('refuses an upgrade not signed by the line’s peer, and a replayed one', async () => {
    const stranger = await open(StationKey.generate());
    assert.deepEqual('refused' in stranger && stranger.refused, { status: 401, code: 'FED_BAD_SIGNATURE' });

    const ours = newEphemeral();
    const headers = {
      ...signRequest(waKey, 'GET', streamPath(lineId), ours.publicKey),
      [STREAM_EPHEMERAL_HEADER]: Buffer.from(ours.publicKey).toString('base64url'),
    };
    const first = await open(waKey, headers);
    assert.ok('ws' in first, 'the peer’s own signed upgrade is taken');
    first.ws.close();
    const replay = await open(waKey, headers);
    assert.deepEqual('refused' in replay && replay.refused, { status: 409, code: 'FED_REPLAY' });

    // Someone who swaps the ephemeral key of a signed upgrade (to hold the keys) is refused too.
    const swapped = await open(waKey, {
      ...signRequest(waKey, 'GET', streamPath(lineId), ours.publicKey),
      [STREAM_EPHEMERAL_HEADER]: Buffer.from(newEphemeral().publicKey).toString('base64url'),
    });
    assert.deepEqual('refused' in swapped && swapped.refused, { status: 401, code: 'FED_BAD_SIGNATURE' });
  });

  it('answers with its own ephemeral key, signed over our nonce, and refuses bad batches with their codes', async () => {
    const c = await open(waKey);
    assert.ok('ws' in c);
    const theirs = Buffer.from(c.hello.ephemeral, 'base64url');
    assert.equal(verifyResponse(moPublic, c.nonce, 101, theirs, c.hello.signature), true, 'the hello is moscow’s');
    const keys = channelKeys(c.ours, theirs, c.nonce, 'opener');
    let sent = 0;
    let received = 0;
    const ask = async (body: object) => {
      const reply = answer(c.ws);
      c.ws.send(sealFrame(keys.send, sent++, Buffer.from(JSON.stringify(body))));
      const opened = openFrame(keys.receive, received++, await reply);
      assert.ok(opened, 'the answer carries moscow’s MAC');
      return JSON.parse(opened.toString()) as { ackedSeq?: number; error?: { code: string } };
    };
    const item = (seq: number, payload: string) => ({
      seq,
      kind: 'mls',
      payload,
      sender: 'alice',
      clientId: `stray-item-${seq}`,
      sentAt: Date.now(),
    });

    const gap = await ask({ items: [item(1000, opaquePayload(lineId, 'far ahead'))] });
    assert.equal(gap.error?.code, 'SEQ_GAP');
    assert.equal(typeof gap.ackedSeq, 'number', 'a gap is answered with what moscow holds');
    const garbage = await ask({
      items: [item((gap.ackedSeq as number) + 1, Buffer.from('this is not an MLS message of the line'.repeat(3)).toString('base64url'))],
    });
    assert.equal(garbage.error?.code, 'FED_BAD_ITEM');
    const malformed = await ask({ items: 'none' });
    assert.equal(malformed.error?.code, 'VALIDATION_FAILED');

    // A frame that fails its MAC ends the connection; nothing of it is read.
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    const forged = sealFrame(
      Buffer.alloc(32, 7),
      sent,
      Buffer.from(JSON.stringify({ items: [item((gap.ackedSeq as number) + 1, opaquePayload(lineId, 'forged'))] })),
    );
    c.ws.send(forged);
    assert.equal(await closed, 1008);

    const timeline = await readTimeline(mo.url, moToken, 'hotline');
    assert.equal(
      timeline.some((i) => i.clientId?.startsWith('stray-')),
      false,
      'none of it was stored',
    );
  });
});

describe('a peer without the stream', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  const tokens: Record<string, string> = {};
  before(async () => {
    wa = await StationProcess.create({ name: 'washington' });
    mo = await StationProcess.create({ name: 'moscow' });
    // Moscow answers the stream's upgrade 404, as a station from before the stream would.
    await Promise.all([wa.start(), mo.start({ env: { PARLEY_FED_STREAM: 'off' } })]);
    tokens.alice = await wa.addEnrolledMember('alice');
    tokens.boris = await mo.addEnrolledMember('boris');
    await linkStations(wa, mo, 'hotline', ['alice'], ['boris']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('gets every item both ways, washington falling back to a signed POST per batch', async () => {
    const lineId = (await lineSummary(wa.url, tokens.alice as string, 'hotline')).id as string;
    const batch = (who: string) =>
      Array.from({ length: 30 }, (_, i) => ({
        clientId: `${who}-item-${i}`,
        payload: opaquePayload(lineId, `${who} ${i}`),
        acceptedSeq: null,
      }));
    const fromAlice = batch('alice');
    const fromBoris = batch('boris');
    await Promise.all([
      httpSendAll(() => wa.url, tokens.alice as string, 'hotline', fromAlice, { concurrency: 3 }),
      httpSendAll(() => mo.url, tokens.boris as string, 'hotline', fromBoris, { concurrency: 3 }),
    ]);
    const arrived = async (st: StationProcess, token: string, ids: string[]) =>
      eventually('every item on the other side', async () => {
        const have = new Set((await readTimeline(st.url, token, 'hotline')).map((i) => i.clientId));
        return ids.every((id) => have.has(id)) ? true : undefined;
      });
    await arrived(
      mo,
      tokens.boris as string,
      fromAlice.map((i) => i.clientId),
    );
    await arrived(
      wa,
      tokens.alice as string,
      fromBoris.map((i) => i.clientId),
    );
    const status = await lineSummary(wa.url, tokens.alice as string, 'hotline');
    assert.equal(status.peerRefusal, null, 'the 404 was taken as an older peer, not as a refusal');
  });
});

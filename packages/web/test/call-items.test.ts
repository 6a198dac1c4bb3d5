import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encrypt } from '@parley/e2ee';
import { LineEngine, type LineRecord } from '../src/e2ee/line-engine.js';
import { applyEvents, emptyTimeline, timelineEntries } from '../src/timeline.js';
import { FakeLine } from './e2ee-fixtures.js';

// The hub orders call events as items of kind 'call' (payload: base64url JSON {event, body});
// the engine shows each as an event of the conversation, with its encrypted part (topics, a
// reason) decrypted like a message from the member who acted. Items of kind 'record' (the
// joint record's bookkeeping) are passed over without a word.

const CALL = 'call-0000000000000001';
const TALK = 'talk-0000000000000001';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const lineEvent = (event: unknown, body: Uint8Array | string | null) =>
  new TextEncoder().encode(JSON.stringify({ event, body: body instanceof Uint8Array ? b64(body) : body }));

async function joined() {
  const line = await FakeLine.create();
  const { ctx } = await line.webDevice();
  const { topUpKeyPackages } = await import('../src/e2ee/device.js');
  await topUpKeyPackages(ctx);
  const engine = await LineEngine.open(ctx, line.summary({ side: 'inviter' }));
  await line.addWebDevice();
  await engine.ingest(line.after(0));
  assert.equal(engine.membership, 'member');
  return { line, ctx, engine };
}

/** Boris (moscow, the acceptor side) encrypts a call body as the CLI does. */
async function borisCallBody(line: FakeLine, text: string): Promise<Uint8Array> {
  const out = await encrypt(line.borisState, new TextEncoder().encode(JSON.stringify({ type: 'call', text })));
  line.borisState = out.state;
  return out.message;
}

const callOf = (records: LineRecord[]) => records.flatMap((r) => (r.body.t === 'call' ? [r.body] : []));

describe('call events in the web app’s line engine', () => {
  it('shows a request from the far side with its topics decrypted and the sender checked', async () => {
    const { line, engine } = await joined();
    const body = await borisCallBody(line, 'Topics: border incident; hotline test');
    const at = 1_700_000_100_000;
    line.push(
      'out',
      'recorder',
      'call',
      lineEvent(
        { callId: CALL, talkId: TALK, action: 'request', by: { side: 'acceptor', handle: 'chief' }, at, urgency: 'flash', to: 'chief' },
        body,
      ),
      'client-call-0001',
    );
    const [rec] = callOf(await engine.ingest(line.after(engine.cursor)));
    assert.ok(rec);
    assert.equal(rec.text, `moscow/chief requests a flash call ${CALL.slice(0, 6)} with washington/chief`);
    assert.equal(rec.station, 'moscow');
    assert.ok(rec.secret?.ok);
    assert.equal(rec.secret.text, 'Topics: border incident; hotline test');
    assert.deepEqual(rec.secret.from, { station: 'moscow', handle: 'chief', deviceId: line.boris.deviceId });
    assert.equal(rec.secret.own, false);
    assert.equal(rec.secret.warning, undefined);

    // The scheduler's events (no body) read as such; messages after a call body still decrypt.
    line.push(
      'out',
      'recorder',
      'call',
      lineEvent({ callId: CALL, talkId: TALK, action: 'unanswered', by: { side: 'inviter', station: true }, at: at + 60_000 }, null),
    );
    line.push(
      'out',
      'recorder',
      'call',
      lineEvent(
        { callId: CALL, talkId: TALK, action: 'escalate', by: { side: 'inviter', station: true }, at: at + 60_000, level: 'duty_officer' },
        null,
      ),
    );
    await line.borisSays('still there?');
    const got = await engine.ingest(line.after(engine.cursor));
    assert.deepEqual(
      callOf(got).map((c) => [c.text, c.secret]),
      [
        [`call ${CALL.slice(0, 6)} is UNANSWERED: not acknowledged in time`, null],
        [`call ${CALL.slice(0, 6)} not acknowledged: duty officers of washington alerted`, null],
      ],
    );
    const last = got[got.length - 1]?.body;
    assert.ok(last?.t === 'text' && last.text === 'still there?');
  });

  it('shows its own call body from the copy kept when it was sealed', async () => {
    const { line, ctx, engine } = await joined();
    const sealed = await engine.seal({ clientId: 'client-call-0002', text: 'Topics: ceasefire terms', call: true });
    assert.ok('payload' in sealed);
    // What boris decrypts is the CLI's call body.
    // A retry of the same text gives the same bytes; a text changed after an error is sealed anew.
    assert.deepEqual(await engine.seal({ clientId: 'client-call-0002', text: 'Topics: ceasefire terms', call: true }), sealed);
    const changed = await engine.seal({ clientId: 'client-call-0003', text: 'Topics: first try', call: true });
    const again = await engine.seal({ clientId: 'client-call-0003', text: 'Topics: second try', call: true });
    assert.ok('payload' in changed && 'payload' in again);
    assert.notEqual(again.payload, changed.payload);
    const r = await line.borisReadsRaw(sealed.payload);
    assert.deepEqual(JSON.parse(r), { type: 'call', text: 'Topics: ceasefire terms' });
    await line.borisReadsRaw(changed.payload);
    assert.deepEqual(JSON.parse(await line.borisReadsRaw(again.payload)), { type: 'call', text: 'Topics: second try' });
    line.push(
      'out',
      'recorder',
      'call',
      lineEvent(
        {
          callId: CALL,
          talkId: TALK,
          action: 'request',
          by: { side: 'inviter', handle: 'chief' },
          at: 1_700_000_100_000,
          urgency: 'routine',
        },
        sealed.payload,
      ),
      'client-call-0002',
    );
    const [rec] = callOf(await engine.ingest(line.after(engine.cursor)));
    assert.ok(rec?.secret?.ok);
    assert.equal(rec.text, `washington/chief requests a routine call ${CALL.slice(0, 6)} with moscow`);
    assert.deepEqual([rec.secret.text, rec.secret.own], ['Topics: ceasefire terms', true]);
    const meta = await ctx.vault.get<{ sent: object; sealed: object }>(`line/${line.lineId}/meta`);
    assert.deepEqual(
      [Object.keys(meta?.sent ?? {}), Object.keys(meta?.sealed ?? {})],
      [['client-call-0003'], ['client-call-0003']],
      'the copy is forgotten once shown (the other, never sent, is kept until it expires)',
    );
  });

  it('flags a body signed by someone other than the member who acted, and an unreadable event as an error', async () => {
    const { line, engine } = await joined();
    const body = await borisCallBody(line, 'Topics: forged');
    line.push(
      'out',
      'recorder',
      'call',
      lineEvent(
        { callId: CALL, talkId: TALK, action: 'request', by: { side: 'acceptor', handle: 'duty' }, at: 1, urgency: 'routine' },
        body,
      ),
    );
    line.push('out', 'recorder', 'call', new TextEncoder().encode('{"event":{"action":"request"},"body":null}'));
    const got = await engine.ingest(line.after(engine.cursor));
    const [rec] = callOf(got);
    assert.ok(rec?.secret?.ok);
    assert.match(rec.secret.warning ?? '', /^SENDER_MISMATCH/);
    const err = got[1]?.body;
    assert.ok(err?.t === 'event' && err.event === 'error');
    assert.match(err.text, /call event that cannot be read/);
  });

  it('passes over the joint record’s items silently, and never calls a call item unsupported', async () => {
    const { line, engine } = await joined();
    const before = engine.cursor;
    line.push('out', 'recorder', 'record', new TextEncoder().encode('{"entry":{"type":"receipt"}}'));
    await line.borisSays('after the record entry');
    const got = await engine.ingest(line.after(before));
    assert.equal(got.length, 1);
    assert.ok(got[0]?.body.t === 'text');
    assert.equal(engine.cursor, before + 2);
    assert.ok(!(await engine.records()).some((r) => r.body.t === 'refused' && r.body.code === 'UNSUPPORTED_MESSAGE'));
  });

  it('keeps a call’s WebRTC signals out of the conversation, as records for the voice panel', async () => {
    const { line, engine } = await joined();
    const signal = { kind: 'hangup', callId: CALL, reason: 'normal' };
    const out = await encrypt(line.borisState, new TextEncoder().encode(JSON.stringify({ type: 'call-signal', signal })));
    line.borisState = out.state;
    line.push('in', 'chief', 'mls', out.message);
    const mine = await engine.seal({
      clientId: 'client-signal-01',
      text: '',
      signal: { kind: 'media', callId: CALL, muted: true, held: false },
    });
    assert.ok('payload' in mine);
    line.push('out', 'chief', 'mls', new Uint8Array(Buffer.from(mine.payload, 'base64url')), 'client-signal-01');
    const got = await engine.ingest(line.after(engine.cursor));
    assert.deepEqual(
      got.map((r) => (r.body.t === 'signal' ? [r.body.own, r.body.from.station, r.body.signal] : r.body.t)),
      [
        [false, 'moscow', signal],
        [true, 'washington', { kind: 'media', callId: CALL, muted: true, held: false }],
      ],
    );
    const state = applyEvents(emptyTimeline, [{ type: 'records', records: got }]);
    assert.deepEqual(timelineEntries(state, [], { connected: true, inFlight: new Set() }), []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeContent } from '../src/e2ee/content.js';
import { toJson, toText, withArchive } from '../src/e2ee/format.js';
import type { MessageRecord } from '../src/e2ee/store.js';

// The web app's voice signalling (offers, answers, ICE candidates, hang-ups, mute/hold) travels as
// MLS application messages `{type: 'call-signal', signal}`; `parley read` says what each is
// instead of calling it unreadable, and never prints the SDP.

const bytes = (s: string) => new TextEncoder().encode(s);
const CALL = 'AEg_i8fN_Sh9iIymgQhJ2g';
const OFFER = JSON.stringify({ type: 'call-signal', signal: { kind: 'offer', callId: CALL, sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } });

function rec(over: Partial<MessageRecord>): MessageRecord {
  return {
    t: 'msg',
    pos: 7,
    sentAt: Date.UTC(2026, 10, 25, 23, 0, 0),
    sender: { station: 'moscow', handle: 'chief', deviceId: 'dev' },
    text: null,
    verified: true,
    error: null,
    status: 'ok',
    clientId: null,
    ...over,
  };
}

describe('web voice signals in parley read', () => {
  it('are read as “voice signal for call X”, with the kind in words and no SDP', () => {
    const c = decodeContent(bytes(OFFER));
    assert.deepEqual(c, { text: null, error: null, voice: { kind: 'offer', callId: CALL } });
    const line = toText(rec({ voice: { kind: 'offer', callId: CALL } }));
    assert.match(line, new RegExp(`^#7 2026-11-25 23:00:00 \\S+ chief@moscow: voice signal for call ${CALL} \\(offer\\)$`));
    assert.doesNotMatch(line, /cannot read|NOT_TEXT|v=0/);
    const ice = decodeContent(bytes(JSON.stringify({ type: 'call-signal', signal: { kind: 'ice', callId: CALL, candidate: '' } })));
    assert.match(toText(rec({ voice: ice.voice })), /voice signal for call \S+ \(network candidate\)$/);
    const json = toJson(rec({ voice: { kind: 'hangup', callId: CALL } }));
    assert.deepEqual('voice' in json ? json.voice : null, { kind: 'hangup', callId: CALL });
  });

  it('that are malformed stay an error, not a voice signal', () => {
    const c = decodeContent(bytes(JSON.stringify({ type: 'call-signal', signal: { kind: 'offer' } })));
    assert.equal(c.voice, undefined);
    assert.match(c.error ?? '', /^NOT_TEXT/);
  });

  it('filled in from the archive read the same way', () => {
    const text = Buffer.from(OFFER).toString('base64url');
    const [shown] = withArchive(
      [rec({ status: 'before-join', verified: false })],
      new Map([[7, { pos: 7, sentAt: 0, sender: { station: 'moscow', handle: 'chief', deviceId: 'd' }, text, error: null }]]),
    );
    assert.ok(shown?.t === 'msg');
    assert.match(toText(shown), /chief@moscow: voice signal for call \S+ \(offer\)$/);
  });
});

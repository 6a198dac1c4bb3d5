// SDP checks and the short code both people read out.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  type CallBook,
  checkCallSignal,
  checkSignal,
  emptyCallBook,
  MAX_SDP_BYTES,
  parseSdpSummary,
  type SdpSummary,
  shortAuthCode,
  signalIsFor,
} from '../src/index.js';
import { accept, act, CALL, mDesk, mustApply, premier, president, requestEvent, SECOND, seat, T0 } from './helpers.js';

const FP_OFFER = '6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CD:87:86:D4:5A:7C:1E:5F:03:8E:2E:86:F2:9E:6D:0D:12:CE:B3:15';
const FP_ANSWER = 'D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:F0:4E:7C:2A:08:52:9E:3F:1C:43:B4:7A:0F:11';

/** What Chrome's RTCPeerConnection.createOffer() gives for one microphone, trimmed of codecs. */
function chromeSdp(opts: { fingerprint?: string; setup?: string; extra?: string[]; eol?: string } = {}): string {
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS stream',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Ts3u',
    'a=ice-pwd:kR2WHp4bUxLqRgqS1y7vXQ7F',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${opts.fingerprint ?? FP_OFFER}`,
    `a=setup:${opts.setup ?? 'actpass'}`,
    'a=mid:0',
    'a=sendrecv',
    'a=msid:stream track',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=ssrc:3735928559 cname:4TOk42mSjXCkVIa6',
    ...(opts.extra ?? []),
  ];
  const eol = opts.eol ?? '\r\n';
  return lines.join(eol) + eol;
}

function mustParse(sdp: string): SdpSummary {
  const r = parseSdpSummary(sdp);
  if (!r.ok) assert.fail(r.error.message);
  return r;
}

function malformed(sdp: string, mention: RegExp): void {
  const r = parseSdpSummary(sdp);
  assert.ok(!r.ok, `should be refused: ${mention}`);
  assert.equal(r.error.code, 'MALFORMED_SDP');
  assert.match(r.error.message, mention);
}

test("a browser's audio offer is accepted with its fingerprint, DTLS role and audio", () => {
  const summary = mustParse(chromeSdp());
  assert.deepEqual(summary.fingerprints, [{ algorithm: 'sha-256', hex: FP_OFFER.replaceAll(':', '').toLowerCase() }]);
  assert.deepEqual(summary.sha256, summary.fingerprints[0]);
  assert.equal(summary.setup, 'actpass');
  assert.equal(summary.hasAudio, true);
  // Line feeds alone, as some tools write them, and a repeated identical fingerprint.
  mustParse(chromeSdp({ eol: '\n' }));
  const twice = mustParse(
    chromeSdp({
      extra: [
        `a=fingerprint:sha-256 ${FP_OFFER.toLowerCase()}`,
        'a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33',
      ],
    }),
  );
  assert.equal(twice.fingerprints.length, 2, 'the same certificate once, plus its SHA-1');
});

test('SDP refused with a clear MALFORMED_SDP', () => {
  const good = chromeSdp();
  malformed(good.replace('v=0', 'v=1'), /v=0/);
  malformed(`\r\n${good}`, /v=0/);
  malformed(good.replace(/^o=.*\r\n/m, ''), /o=/);
  malformed(good.replace('o=- 4611731400430051336 2 IN IP4 127.0.0.1', 'o=- 1 2 IN'), /six fields/);
  malformed(good.replace(/^s=.*\r\n/m, ''), /s=/);
  malformed(good.replace('m=audio', 'm=video'), /m=audio/);
  malformed(good.replace('m=audio 9', 'm=audio 0'), /m=audio/);
  malformed(good.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'), /DTLS-SRTP/);
  malformed(chromeSdp({ fingerprint: FP_OFFER.slice(3) }), /32 bytes, not 31/);
  malformed(chromeSdp({ fingerprint: FP_OFFER.replace('6B', '6G') }), /a=fingerprint/);
  malformed(chromeSdp({ fingerprint: FP_OFFER.replaceAll(':', '') }), /a=fingerprint/);
  malformed(good.replace(/^a=fingerprint.*\r\n/m, ''), /sha-256/);
  malformed(good.replace('a=fingerprint:sha-256', 'a=fingerprint:sha-257'), /unknown fingerprint hash/);
  malformed(chromeSdp({ extra: [`a=fingerprint:sha-256 ${FP_ANSWER}`] }), /two different sha-256/);
  malformed(chromeSdp({ setup: 'sideways' }), /setup/);
  malformed(chromeSdp({ extra: ['a=setup:active'] }), /conflicting/);
  malformed(chromeSdp({ extra: ['this is not sdp'] }), /line 24/);
  malformed(chromeSdp({ extra: ['a=x:\u0000'] }), /control character/);
  malformed(good.replace('a=mid:0\r\n', 'a=mid:0\r\n\r\n'), /letter/);
  malformed(chromeSdp({ extra: ['v=0'] }), /second v=/);
  malformed(chromeSdp({ extra: [`a=x-pad:${'x'.repeat(MAX_SDP_BYTES)}`] }), /larger than/);
  // Multi-byte text counts in bytes, not characters.
  malformed(chromeSdp({ extra: [`a=x-pad:${'é'.repeat(MAX_SDP_BYTES / 2)}`] }), /larger than/);
  malformed('', /v=0/);
});

function liveCall(): CallBook {
  let book = mustApply(emptyCallBook(), requestEvent(president, T0, { to: 'premier' }), president);
  book = mustApply(book, accept(premier, T0 + SECOND), premier);
  return mustApply(book, act('ring', president, T0 + 2 * SECOND), president);
}

test('signalling: offers and answers from participants of a live call, with the DTLS roles JSEP prescribes', () => {
  const call = liveCall().calls.get(CALL)!;
  const offer = checkSignal(call, president, { kind: 'offer', callId: CALL, sdp: chromeSdp() });
  assert.ok(offer.ok && offer.sdp?.sha256.hex.startsWith('6b8b5dea'));
  const answer = checkSignal(call, premier, { kind: 'answer', callId: CALL, sdp: chromeSdp({ fingerprint: FP_ANSWER, setup: 'active' }) });
  assert.ok(answer.ok && answer.sdp?.setup === 'active');
  const ice = checkSignal(call, premier, {
    kind: 'ice',
    callId: CALL,
    candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
    sdpMid: '0',
  });
  assert.deepEqual(ice, { ok: true, sdp: null });

  const code = (r: ReturnType<typeof checkSignal>) => (r.ok ? 'ok' : r.error.code);
  assert.equal(code(checkSignal(call, mDesk, { kind: 'offer', callId: CALL, sdp: chromeSdp() })), 'CALL_NOT_PARTICIPANT');
  assert.equal(code(checkSignal(call, mDesk, { kind: 'ice', callId: CALL, candidate: '' })), 'CALL_NOT_PARTICIPANT');
  assert.equal(
    code(checkSignal(call, seat('acceptor', 'president', 'principal', false), { kind: 'hangup', callId: CALL })),
    'CALL_NOT_PARTICIPANT',
  );
  assert.equal(code(checkSignal(call, president, { kind: 'offer', callId: CALL, sdp: chromeSdp({ setup: 'active' }) })), 'MALFORMED_SDP');
  assert.equal(code(checkSignal(call, premier, { kind: 'answer', callId: CALL, sdp: chromeSdp() })), 'MALFORMED_SDP');
  assert.equal(code(checkSignal(call, president, { kind: 'offer', callId: CALL, sdp: 'v=0\r\n' })), 'MALFORMED_SDP');
  assert.equal(code(checkSignal(call, president, { kind: 'hangup', callId: 'call0000000000000009' })), 'CALL_MALFORMED');
  const ended = mustApply(liveCall(), act('end', premier, T0 + 3 * SECOND), premier).calls.get(CALL)!;
  assert.equal(code(checkSignal(ended, president, { kind: 'offer', callId: CALL, sdp: chromeSdp() })), 'CALL_INVALID_TRANSITION');
  const requested = mustApply(emptyCallBook(), requestEvent(president, T0), president).calls.get(CALL)!;
  assert.equal(code(checkSignal(requested, president, { kind: 'offer', callId: CALL, sdp: chromeSdp() })), 'CALL_INVALID_TRANSITION');
});

test('signalling in a call of several: a signal names whom it is for, who must be in the call', () => {
  const call = liveCall().calls.get(CALL)!;
  const code = (r: ReturnType<typeof checkSignal>) => (r.ok ? 'ok' : r.error.code);
  const toPremier = { kind: 'offer' as const, callId: CALL, to: { side: 'inviter' as const, handle: 'premier' }, sdp: chromeSdp() };
  assert.equal(code(checkSignal(call, president, toPremier)), 'ok');
  assert.ok(signalIsFor(toPremier, { side: 'inviter', handle: 'premier' }));
  assert.ok(!signalIsFor(toPremier, { side: 'inviter', handle: 'm_interp' }));
  assert.ok(!signalIsFor(toPremier, { side: 'acceptor', handle: 'premier' }));
  assert.ok(signalIsFor({ kind: 'hangup', callId: CALL }, { side: 'inviter', handle: 'm_interp' }), 'no `to`: for everyone');
  const toOutsider = { kind: 'ice' as const, callId: CALL, to: { side: 'inviter' as const, handle: 'm_desk' }, candidate: '' };
  assert.equal(code(checkSignal(call, president, toOutsider)), 'CALL_NOT_PARTICIPANT');
  assert.ok(checkCallSignal({ ...toPremier, to: { side: 'inviter', handle: 'premier' } }).ok);
  assert.ok(checkCallSignal({ kind: 'ice', callId: CALL, candidate: '', ufrag: 'Ts3u' }).ok);
  for (const bad of [
    { ...toPremier, to: { side: 'inviter' } },
    { ...toPremier, to: { side: 'nobody', handle: 'premier' } },
    { ...toPremier, to: { side: 'inviter', handle: 'premier', device: 1 } },
    { kind: 'ice', callId: CALL, candidate: '', ufrag: 'a b' },
  ]) {
    const r = checkCallSignal(bad);
    assert.ok(!r.ok && r.error.code === 'CALL_MALFORMED', JSON.stringify(bad).slice(0, 80));
  }
});

test('signal bodies are closed schemas', () => {
  assert.ok(checkCallSignal({ kind: 'media', callId: CALL, muted: true, held: false }).ok);
  assert.ok(checkCallSignal({ kind: 'ice', callId: CALL, candidate: '', sdpMid: null, sdpMLineIndex: null }).ok);
  for (const bad of [
    { kind: 'offer', callId: CALL },
    { kind: 'offer', callId: CALL, sdp: chromeSdp(), extra: 1 },
    { kind: 'offer', callId: 'short', sdp: chromeSdp() },
    { kind: 'ice', callId: CALL, candidate: 'not a candidate' },
    { kind: 'ice', callId: CALL, candidate: 'candidate:1\r\na=evil' },
    { kind: 'media', callId: CALL, muted: 'yes', held: false },
    { kind: 'hangup', callId: CALL, reason: 'bored' },
    { kind: 'video', callId: CALL },
  ]) {
    const r = checkCallSignal(bad);
    assert.ok(!r.ok && r.error.code === 'CALL_MALFORMED', JSON.stringify(bad).slice(0, 80));
  }
});

test('the short code is the same on both ends, six digits, and changes with either certificate or the call', () => {
  const offerer = mustParse(chromeSdp()).sha256;
  const answerer = mustParse(chromeSdp({ fingerprint: FP_ANSWER, setup: 'active' })).sha256;
  // Each side computes it from what it holds: its own fingerprint and the remote one.
  const onOfferSide = shortAuthCode(offerer, answerer, CALL);
  const onAnswerSide = shortAuthCode(answerer, offerer, CALL);
  assert.equal(onOfferSide, onAnswerSide);
  assert.match(onOfferSide, /^\d{6}$/);
  assert.equal(shortAuthCode(FP_OFFER, FP_ANSWER.toLowerCase(), CALL), onOfferSide, 'hex with colons, any case');
  // Checked against an independent computation of the documented derivation.
  const [lo, hi] = [FP_OFFER, FP_ANSWER].map((f) => Buffer.from(f.replaceAll(':', ''), 'hex')).sort(Buffer.compare);
  const digest = createHash('sha256')
    .update(Buffer.concat([Buffer.from('parley-call-sas-v1'), Buffer.from([0, CALL.length]), Buffer.from(CALL), lo!, hi!]))
    .digest();
  assert.equal(onOfferSide, (digest.readUIntBE(0, 6) % 1_000_000).toString().padStart(6, '0'));
  // A man in the middle with his own certificate on one leg gets a different code.
  const mitm = 'AA:8B:5D:EA:59:04:20:23:29:C8:87:1C:CD:87:86:D4:5A:7C:1E:5F:03:8E:2E:86:F2:9E:6D:0D:12:CE:B3:15';
  assert.notEqual(shortAuthCode(mitm, FP_ANSWER, CALL), onOfferSide);
  assert.notEqual(shortAuthCode(FP_OFFER, FP_ANSWER, 'call0000000000000002'), onOfferSide);
  assert.throws(() => shortAuthCode({ algorithm: 'sha-1', hex: '00'.repeat(20) }, FP_ANSWER, CALL), RangeError);
  assert.throws(() => shortAuthCode('abcd', FP_ANSWER, CALL), RangeError);
});

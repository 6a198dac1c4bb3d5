import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, concatBytes, utf8 } from '@parley/protocol/bytes';
import Type, { type Static } from 'typebox';
import { CallId } from './call-event.js';
import { type Call, mayParticipate, type SeatActor } from './call-state.js';
import { type Refusal, refuse } from './errors.js';
import { checkWith } from './schema-check.js';

// WebRTC signalling for a call. Offers, answers and ICE candidates travel as application
// messages in the line's MLS group, so the DTLS fingerprints inside the SDP are authenticated
// end to end by the group: a station that swapped one would have to forge an MLS message.
// The short code (`shortAuthCode`) lets the two people also confirm it by voice.

/** An SDP larger than this is refused; a WebRTC audio offer is 3 to 6 KiB. */
export const MAX_SDP_BYTES = 32 * 1024;
const closed = { additionalProperties: false } as const;

export const SdpText = Type.String({ minLength: 1, maxLength: MAX_SDP_BYTES });

/**
 * The participant a signal is meant for. A call of up to six people is a mesh of peer
 * connections, one per pair, so offers, answers and candidates name whom they are for; a signal
 * without `to` is for every participant (a hangup, a media state, or an offer of a two-party
 * client of an earlier version).
 */
export const SignalTarget = Type.Object(
  {
    side: Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')]),
    handle: Type.String({ minLength: 1, maxLength: 64 }),
  },
  closed,
);
export type SignalTarget = Static<typeof SignalTarget>;
const to = Type.Optional(SignalTarget);

export const OfferSignal = Type.Object({ kind: Type.Literal('offer'), callId: CallId, to, sdp: SdpText }, closed);
export const AnswerSignal = Type.Object({ kind: Type.Literal('answer'), callId: CallId, to, sdp: SdpText }, closed);
export const IceSignal = Type.Object(
  {
    kind: Type.Literal('ice'),
    callId: CallId,
    to,
    /** The ICE username fragment the candidate belongs to: after an ICE restart, older ones are dropped. */
    ufrag: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' })),
    /** An RTCIceCandidate's `candidate`: "candidate:…", or empty for the end of candidates. */
    candidate: Type.String({ maxLength: 1024, pattern: '^(candidate:[\\x20-\\x7e]+)?$' }),
    sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 63 }), Type.Null()])),
  },
  closed,
);
export const HangupSignal = Type.Object(
  {
    kind: Type.Literal('hangup'),
    callId: CallId,
    reason: Type.Optional(
      Type.Union([Type.Literal('normal'), Type.Literal('busy'), Type.Literal('failed'), Type.Literal('code_mismatch')]),
    ),
  },
  closed,
);
/** What the sender's microphone is doing, so the other side can show it. */
export const MediaStateSignal = Type.Object(
  { kind: Type.Literal('media'), callId: CallId, muted: Type.Boolean(), held: Type.Boolean() },
  closed,
);
export const CallSignal = Type.Union([OfferSignal, AnswerSignal, IceSignal, HangupSignal, MediaStateSignal]);
export type CallSignal = Static<typeof CallSignal>;

export function checkCallSignal(value: unknown): { ok: true; value: CallSignal } | Refusal {
  return checkWith(CallSignal, value, 'call signal');
}

export interface SdpFingerprint {
  /** Lowercase hash name as in RFC 8122: 'sha-256', 'sha-1', … */
  algorithm: string;
  /** Lowercase hex without colons. */
  hex: string;
}

export type DtlsSetup = 'actpass' | 'active' | 'passive' | 'holdconn';

export interface SdpSummary {
  ok: true;
  /** Every distinct fingerprint, in order of appearance. */
  fingerprints: SdpFingerprint[];
  /** The one SHA-256 fingerprint of the sender's DTLS certificate: what the short code covers. */
  sha256: SdpFingerprint;
  setup: DtlsSetup | null;
  hasAudio: boolean;
}

const HASH_BYTES: Readonly<Record<string, number>> = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };
const SETUPS: readonly string[] = ['actpass', 'active', 'passive', 'holdconn'];

function malformed(why: string): Refusal {
  return refuse('MALFORMED_SDP', `the SDP is not usable: ${why}`);
}

/**
 * Check an SDP the way a participant must before handing it to RTCPeerConnection, and pull
 * out what the short code and the UI need. Strict where it matters for security (one DTLS
 * certificate, a well-formed SHA-256 fingerprint, a DTLS-protected audio stream), lenient on
 * the rest: the browser parses the details.
 */
export function parseSdpSummary(sdp: string): SdpSummary | Refusal {
  if (sdp.length > MAX_SDP_BYTES || utf8(sdp).length > MAX_SDP_BYTES) return malformed(`larger than ${MAX_SDP_BYTES} bytes`);
  const lines = sdp.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') return malformed('it must begin with v=0');
  let inSession = true;
  let origin = false;
  let name = false;
  let audio = false;
  let setup: DtlsSetup | null = null;
  const fingerprints: SdpFingerprint[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) return malformed(`line ${i + 1} is not "<letter>=<value>"`);
    const [, type, value] = m as unknown as [string, string, string];
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return malformed(`line ${i + 1} holds a control character`);
    if (type === 'v' && i > 0) return malformed(`a second v= on line ${i + 1}`);
    if (inSession && type === 'o') {
      if (value.split(' ').length !== 6) return malformed('o= must have six fields');
      origin = true;
    }
    if (inSession && type === 's') name = true;
    if (type === 'm') {
      inSession = false;
      const media = /^(\w+) (\d+)(?:\/\d+)? (\S+)( \S+)+$/.exec(value);
      if (!media) return malformed(`line ${i + 1}: m= must be "<media> <port> <proto> <formats>"`);
      const [, kind, port, proto] = media as unknown as [string, string, string, string];
      if (kind === 'audio' && port !== '0') {
        if (proto !== 'UDP/TLS/RTP/SAVPF' && proto !== 'TCP/DTLS/RTP/SAVPF') {
          return malformed(`the audio stream must be protected by DTLS-SRTP, not ${proto}`);
        }
        audio = true;
      }
    }
    if (type === 'a' && value.startsWith('fingerprint:')) {
      const fp = /^fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*)$/.exec(value);
      if (!fp) return malformed(`line ${i + 1}: a=fingerprint must be "<hash> <hex bytes separated by colons>"`);
      const algorithm = fp[1]!.toLowerCase();
      const hex = fp[2]!.replaceAll(':', '').toLowerCase();
      const expected = HASH_BYTES[algorithm];
      if (expected === undefined) return malformed(`unknown fingerprint hash ${algorithm}`);
      if (hex.length !== expected * 2) return malformed(`a ${algorithm} fingerprint has ${expected} bytes, not ${hex.length / 2}`);
      if (!fingerprints.some((f) => f.algorithm === algorithm && f.hex === hex)) fingerprints.push({ algorithm, hex });
    }
    if (type === 'a' && value.startsWith('setup:')) {
      const role = value.slice('setup:'.length);
      if (!SETUPS.includes(role)) return malformed(`unknown a=setup:${role}`);
      if (setup !== null && setup !== role) return malformed(`conflicting a=setup values ${setup} and ${role}`);
      setup = role as DtlsSetup;
    }
  }
  if (!origin) return malformed('no o= line before the first m=');
  if (!name) return malformed('no s= line before the first m=');
  if (!audio) return malformed('no m=audio line');
  const sha = fingerprints.filter((f) => f.algorithm === 'sha-256');
  if (sha.length === 0) return malformed('no a=fingerprint:sha-256');
  // One peer connection has one certificate. Two would leave open which one the short code
  // must cover, and the other could carry the media unconfirmed.
  if (sha.length > 1) return malformed('two different sha-256 fingerprints');
  return { ok: true, fingerprints, sha256: sha[0]!, setup, hasAudio: audio };
}

/**
 * Check a signalling message a participant received: it is for this call, from someone in the
 * call while the call is live, and an offer or answer carries a usable SDP with the DTLS role
 * JSEP prescribes (an offer says actpass, an answer active or passive).
 */
export function checkSignal(call: Call, sender: SeatActor, signal: CallSignal): { ok: true; sdp: SdpSummary | null } | Refusal {
  if (signal.callId !== call.callId) return refuse('CALL_MALFORMED', `a signal for call ${signal.callId} on call ${call.callId}`);
  if (!mayParticipate(call, sender)) {
    const inCall = call.participants.some((p) => p.side === sender.side && p.handle === sender.handle);
    if (inCall && sender.seated) return refuse('CALL_INVALID_TRANSITION', `call ${call.callId} is ${call.state}: no media now`);
    return refuse('CALL_NOT_PARTICIPANT', `${sender.handle} (${sender.side}) is not in call ${call.callId}`);
  }
  if ('to' in signal && signal.to && !call.participants.some((p) => p.side === signal.to?.side && p.handle === signal.to.handle)) {
    return refuse('CALL_NOT_PARTICIPANT', `${signal.to.handle} (${signal.to.side}), whom the signal is for, is not in call ${call.callId}`);
  }
  if (signal.kind !== 'offer' && signal.kind !== 'answer') return { ok: true, sdp: null };
  const sdp = parseSdpSummary(signal.sdp);
  if (!sdp.ok) return sdp;
  if (signal.kind === 'offer' && sdp.setup !== 'actpass')
    return malformed(`an offer must say a=setup:actpass, not ${sdp.setup ?? 'nothing'}`);
  if (signal.kind === 'answer' && sdp.setup !== 'active' && sdp.setup !== 'passive') {
    return malformed(`an answer must say a=setup:active or passive, not ${sdp.setup ?? 'nothing'}`);
  }
  return { ok: true, sdp };
}

/** Is this signal meant for this participant: addressed to them, or to every participant? */
export function signalIsFor(signal: CallSignal, who: SignalTarget): boolean {
  if (!('to' in signal) || !signal.to) return true;
  return signal.to.side === who.side && signal.to.handle === who.handle;
}

function fingerprintBytes(fp: SdpFingerprint | string): Uint8Array {
  const f = typeof fp === 'string' ? { algorithm: 'sha-256', hex: fp } : fp;
  const hex = f.hex.replaceAll(':', '').toLowerCase();
  if (f.algorithm !== 'sha-256' || !/^[0-9a-f]{64}$/.test(hex))
    throw new RangeError('shortAuthCode takes SHA-256 DTLS fingerprints (32 bytes)');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Six digits both people read out to confirm that the DTLS certificates their browsers use are
 * the ones the other side's browser offered. SHA-256 over a domain label, the call id and the
 * two fingerprints sorted, so the offerer and the answerer get the same digits whichever
 * fingerprint each calls "mine". Fingerprints as `SdpFingerprint` or hex, with or without colons.
 *
 * Twenty bits: enough to catch a mistake or a clumsy attacker, not one who can try a million
 * certificates while holding the answer back (ZRTP's hash commitment would be needed). The
 * guarantee that matters is the MLS group that carries the SDP.
 */
export function shortAuthCode(
  offerFingerprint: SdpFingerprint | string,
  answerFingerprint: SdpFingerprint | string,
  callId: string,
): string {
  const a = fingerprintBytes(offerFingerprint);
  const b = fingerprintBytes(answerFingerprint);
  const [lo, hi] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const id = utf8(callId);
  if (id.length > 255) throw new RangeError('call id too long');
  const digest = sha256(concatBytes(utf8('parley-call-sas-v1'), new Uint8Array([0, id.length]), id, lo, hi));
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + digest[i]!;
  return (n % 1_000_000).toString().padStart(6, '0');
}

import type { CallSignal, SdpFingerprint, SdpSummary, SignalTarget } from '@parley/calls';
import { useEffect, useReducer, useRef, useState } from 'react';
import { api, describeError } from '../api.js';
import type { Call, Me } from '../calls.js';
import type { LineEngine, LineRecord } from '../e2ee/line-engine.js';
import { newClientId } from '../use-calls.js';
import { formatDuration, type PeerStatus, peerStatusText, sumStats, type VoiceStats, voiceStateOf } from '../voice.js';

// Voice between the participants of a live call (up to six: the seat holders, interpreters,
// note-takers), browser to browser over WebRTC: a mesh, one peer connection per pair. Offers,
// answers and ICE candidates travel as application messages of the line's MLS group (never
// readable by the stations), each naming the participant it is for, so the DTLS fingerprints in
// them are authenticated end to end; each side checks every signal it decrypts (`checkSignal`:
// from a participant of this live call, for a participant, a usable SDP) and shows, per pair,
// the short code both read out to each other.
//
// ICE: a description goes out as soon as the candidates found in the first moments are in it
// (on a LAN, all of them); candidates found later (a STUN or TURN server's) are trickled one
// signal each. Both ends follow "perfect negotiation" (the participant later in side/handle
// order is polite and yields on an offer collision), so an ICE restart after a network blip is
// just another offer and answer sealed in the group.

const FIRST_CANDIDATES_MS = 50;
const DISCONNECTED_GRACE_MS = 2500;
const MAX_RESTARTS = 6;
const RETRY_SEND_MS = 3000;
const STATS_MS = 250;
const calls = () => import('@parley/calls');

interface Peer {
  target: SignalTarget;
  key: string;
  pc: RTCPeerConnection;
  polite: boolean;
  makingOffer: boolean;
  /** Describing ourselves: candidates found meanwhile go in the description or after it. */
  describing: boolean;
  unsent: RTCIceCandidate[];
  sentSdp: string;
  localFp: SdpFingerprint | null;
  remoteFp: SdpFingerprint | null;
  code: string | null;
  status: PeerStatus;
  pendingIce: RTCIceCandidateInit[];
  remote: { muted: boolean; held: boolean };
  stats: VoiceStats;
  graceTimer: ReturnType<typeof setTimeout> | null;
  restarts: number;
  everConnected: boolean;
  audio: HTMLAudioElement;
}

interface PendingOffer {
  target: SignalTarget;
  sdp: string;
  summary: SdpSummary;
  ice: RTCIceCandidateInit[];
}

const keyOf = (t: SignalTarget) => `${t.side}/${t.handle}`;

async function firstCandidates(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, FIRST_CANDIDATES_MS);
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
  });
}

/** An ICE restart on a connection that never dropped leaves it connected: say so. */
function sameFingerprint(a: SdpFingerprint, b: SdpFingerprint): boolean {
  return a.algorithm === b.algorithm && a.hex === b.hex;
}

function settled(peer: Peer): void {
  if (peer.pc.connectionState !== 'connected' || peer.pc.signalingState !== 'stable') return;
  if (peer.graceTimer) clearTimeout(peer.graceTimer);
  peer.graceTimer = null;
  peer.status = 'connected';
}

export function VoicePanel({
  call,
  me,
  line,
  engine,
  signals,
  ourStation,
  stations,
}: {
  call: Call;
  me: Me;
  line: string;
  engine: LineEngine | null;
  /** The line's signal records (this device's and others'), in timeline order. */
  signals: readonly LineRecord[];
  ourStation: string;
  /** The line's two stations by side, to name the participants. */
  stations: { inviter: string; acceptor: string };
}) {
  const [, render] = useReducer((n: number) => n + 1, 0);
  const [phase, setPhase] = useState<'idle' | 'starting' | 'live' | 'ended' | 'failed'>('idle');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [muted, setMuted] = useState(false);
  const [held, setHeld] = useState(false);
  const peers = useRef(new Map<string, Peer>());
  const pending = useRef(new Map<string, PendingOffer>());
  const mic = useRef<MediaStream | null>(null);
  const iceServers = useRef<RTCIceServer[]>([]);
  const seen = useRef(new Set<number>());
  const queue = useRef<Promise<void>>(Promise.resolve());
  const connectedAt = useRef<number | null>(null);
  const localLevel = useRef(0);
  const flags = useRef({ muted: false, held: false });
  const nameOf = (key: string) => {
    const [side, handle] = key.split('/') as [keyof typeof stations, string];
    return `${stations[side] ?? side}/${handle}`;
  };
  const self: SignalTarget = { side: me.side, handle: me.handle };
  const selfKey = keyOf(self);
  const liveSince = call.reached.accepted?.at ?? call.reached.requested.at;

  // Handlers made at one render (a peer connection's) seal with the engine of the latest one.
  const engineRef = useRef(engine);
  engineRef.current = engine;
  const send = async (signal: CallSignal) => {
    const engine = engineRef.current;
    if (!engine) throw new Error('this device’s encryption is not ready yet');
    const clientId = newClientId();
    const sealed = await engine.seal({ clientId, text: '', signal });
    if ('membership' in sealed) throw new Error('this device is not in the line’s encrypted group');
    await api('POST', `/api/v1/lines/${encodeURIComponent(line)}/items`, { kind: 'mls', payload: sealed.payload, clientId });
  };

  const closePeer = (key: string) => {
    const p = peers.current.get(key);
    if (!p) return;
    if (p.graceTimer) clearTimeout(p.graceTimer);
    p.pc.close();
    p.audio.srcObject = null;
    peers.current.delete(key);
  };

  const stopVoice = (next: 'ended' | 'failed') => {
    for (const key of [...peers.current.keys()]) closePeer(key);
    for (const t of mic.current?.getTracks() ?? []) t.stop();
    mic.current = null;
    connectedAt.current = null;
    flags.current = { muted: false, held: false };
    setMuted(false);
    setHeld(false);
    setPhase(next);
  };

  const fail = (e: unknown) => {
    setError(describeError(e));
    stopVoice('failed');
  };

  /** Send our description to the peer, with the candidates found so far; trickle the rest. */
  const describe = async (peer: Peer, kind: 'offer' | 'answer') => {
    peer.describing = true;
    try {
      await firstCandidates(peer.pc);
      const sdp = peer.pc.localDescription?.sdp ?? '';
      const c = await calls();
      const summary = c.parseSdpSummary(sdp);
      if (!summary.ok) throw new Error(summary.error.message);
      peer.localFp = summary.sha256;
      await send({ kind, callId: call.callId, to: peer.target, sdp });
      peer.sentSdp = sdp;
    } finally {
      peer.describing = false;
    }
    const later = peer.unsent.splice(0);
    for (const cand of later) await trickle(peer, cand);
  };

  const trickle = async (peer: Peer, cand: RTCIceCandidate) => {
    if (peer.sentSdp.includes(cand.candidate)) return;
    await send({
      kind: 'ice',
      callId: call.callId,
      to: peer.target,
      candidate: cand.candidate,
      sdpMid: cand.sdpMid,
      sdpMLineIndex: cand.sdpMLineIndex,
      ...(cand.usernameFragment ? { ufrag: cand.usernameFragment } : {}),
    });
  };

  const restart = (peer: Peer) => {
    if (peers.current.get(peer.key) !== peer) return;
    if (peer.graceTimer) clearTimeout(peer.graceTimer);
    peer.graceTimer = null;
    if (peer.restarts >= MAX_RESTARTS) {
      peer.status = 'failed';
      setError(
        peer.everConnected
          ? `The voice with ${nameOf(peer.key)} could not be reconnected. Hang up and start the voice again.`
          : `Your browser and ${nameOf(peer.key)}’s could not reach each other: no network path between them. A TURN relay run by your station carries the voice through firewalls; ask your station’s administrator (docs/turn.md).`,
      );
      render();
      return;
    }
    peer.restarts++;
    peer.status = 'reconnecting';
    render();
    // A new offer with fresh ICE credentials, sealed in the group like the first one.
    peer.pc.restartIce();
  };

  const computeCode = async (peer: Peer) => {
    if (!peer.localFp || !peer.remoteFp) return;
    peer.code = (await calls()).shortAuthCode(peer.localFp, peer.remoteFp, call.callId);
  };

  const newPeer = (target: SignalTarget, withTracks: boolean): Peer => {
    const key = keyOf(target);
    const pc = new RTCPeerConnection({ iceServers: iceServers.current });
    const audio = new Audio();
    audio.autoplay = true;
    audio.muted = flags.current.held;
    const peer: Peer = {
      target,
      key,
      pc,
      // The participant later in side/handle order yields when both offer at once.
      polite: selfKey > key,
      makingOffer: false,
      describing: false,
      unsent: [],
      sentSdp: '',
      localFp: null,
      remoteFp: null,
      code: null,
      status: withTracks ? 'offering' : 'answering',
      pendingIce: [],
      remote: { muted: false, held: false },
      stats: { packetsReceived: 0, audioEnergy: 0, audioLevel: 0, packetsSent: 0 },
      graceTimer: null,
      restarts: 0,
      everConnected: false,
      audio,
    };
    peers.current.set(key, peer);
    pc.ontrack = (ev) => {
      audio.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      void audio.play().catch(() => undefined);
    };
    pc.onicecandidate = (ev) => {
      const cand = ev.candidate;
      if (!cand?.candidate) return;
      if (peer.describing) peer.unsent.push(cand);
      else void trickle(peer, cand).catch(() => undefined);
    };
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        if (pc.signalingState !== 'have-local-offer') return;
        await describe(peer, 'offer');
      } catch (e) {
        // Most likely the station could not be reached (the blip itself): try again shortly.
        if (peer.status === 'reconnecting') peer.graceTimer = setTimeout(() => restart(peer), RETRY_SEND_MS);
        else setError(`The voice offer to ${nameOf(key)} could not be sent: ${describeError(e)}`);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState;
      if (s === 'connected') {
        if (peer.graceTimer) clearTimeout(peer.graceTimer);
        peer.graceTimer = null;
        peer.status = 'connected';
        peer.restarts = 0;
        peer.everConnected = true;
        connectedAt.current ??= Date.now();
        setError(null);
      } else if (s === 'disconnected') {
        peer.status = 'reconnecting';
        if (!peer.graceTimer) peer.graceTimer = setTimeout(() => restart(peer), DISCONNECTED_GRACE_MS);
      } else if (s === 'failed') {
        restart(peer);
      } else if (s === 'connecting' && peer.status !== 'reconnecting') {
        peer.status = 'connecting';
      }
      render();
    };
    if (withTracks) for (const t of mic.current?.getAudioTracks() ?? []) pc.addTrack(t, mic.current as MediaStream);
    return peer;
  };

  const applyIce = async (peer: Peer, init: RTCIceCandidateInit) => {
    try {
      await peer.pc.addIceCandidate(init);
    } catch {
      // A candidate of an earlier ICE generation, or of an offer we ignored: harmless.
    }
  };

  /**
   * The participant's browser answers or offers with another DTLS certificate: a new session of
   * theirs (the page was reloaded). Their signal is MLS-authenticated like the first, but the
   * connection must start afresh, and the short code changes: both read out the new one.
   */
  const renewed = (old: Peer, offering: boolean): Peer => {
    closePeer(old.key);
    setNotice(`${nameOf(old.key)} came back from a new session of their browser: read out the new short code together.`);
    return newPeer(old.target, offering);
  };

  const acceptOffer = async (given: Peer, sdp: string, summary: SdpSummary, ice: RTCIceCandidateInit[] = []) => {
    let peer = given;
    const collision = peer.makingOffer || peer.pc.signalingState !== 'stable';
    if (collision && !peer.polite) return; // our offer wins; theirs is dropped
    if (peer.remoteFp && !sameFingerprint(peer.remoteFp, summary.sha256)) peer = renewed(peer, false);
    peer.remoteFp = summary.sha256;
    await peer.pc.setRemoteDescription({ type: 'offer', sdp });
    const hadTracks = peer.pc.getSenders().some((s) => s.track !== null);
    if (!hadTracks) for (const t of mic.current?.getAudioTracks() ?? []) peer.pc.addTrack(t, mic.current as MediaStream);
    for (const c of [...ice, ...peer.pendingIce.splice(0)]) await applyIce(peer, c);
    await peer.pc.setLocalDescription();
    if (peer.status !== 'connected' && peer.status !== 'reconnecting') peer.status = 'connecting';
    await describe(peer, 'answer');
    settled(peer);
    await computeCode(peer);
  };

  /** Microphone and ICE servers; then answer every offer waiting for us and offer to the others. */
  const start = async () => {
    setError(null);
    setNotice(null);
    setPhase('starting');
    try {
      const c = await calls();
      try {
        const res = c.checkIceResponse(await api<unknown>('GET', '/api/v1/ice'));
        if (!res.ok) throw new Error(res.error.message);
        iceServers.current = res.value.iceServers as RTCIceServer[];
      } catch (e) {
        iceServers.current = [];
        setNotice(`Your station’s relay settings could not be loaded (${describeError(e)}): direct connections only.`);
      }
      mic.current = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
      setPhase('live');
      await enqueue(async () => {
        for (const p of call.participants) {
          const target: SignalTarget = { side: p.side, handle: p.handle };
          const key = keyOf(target);
          if (key === selfKey || peers.current.has(key)) continue;
          const offer = pending.current.get(key);
          pending.current.delete(key);
          if (offer) {
            const peer = newPeer(target, false);
            await acceptOffer(peer, offer.sdp, offer.summary, offer.ice);
          } else {
            newPeer(target, true); // negotiationneeded sends the offer
          }
        }
        render();
      });
    } catch (e) {
      fail(e);
    }
  };

  const hangUp = async () => {
    const wasLive = mic.current !== null;
    stopVoice('ended');
    pending.current.clear();
    if (wasLive) await send({ kind: 'hangup', callId: call.callId, reason: 'normal' }).catch(() => undefined);
  };

  const sendMedia = (next: { muted: boolean; held: boolean }) => {
    flags.current = next;
    for (const t of mic.current?.getAudioTracks() ?? []) t.enabled = !next.muted && !next.held;
    for (const p of peers.current.values()) p.audio.muted = next.held;
    setMuted(next.muted);
    setHeld(next.held);
    void send({ kind: 'media', callId: call.callId, ...next }).catch((e) => setError(describeError(e)));
  };

  const reconnect = () => {
    setError(null);
    for (const p of peers.current.values()) {
      p.restarts = 0;
      restart(p);
    }
  };

  const enqueue = (job: () => Promise<void>) => {
    const next = queue.current.then(job).catch((e) => setError(describeError(e)));
    queue.current = next;
    return next;
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: on unmount only
  useEffect(
    () => () => {
      if (mic.current) void send({ kind: 'hangup', callId: call.callId, reason: 'normal' }).catch(() => undefined);
      stopVoice('ended');
    },
    [],
  );

  // A participant who left the call leaves the voice too.
  // biome-ignore lint/correctness/useExhaustiveDependencies: follows the participants only
  useEffect(() => {
    const still = new Set(call.participants.map((p) => keyOf(p)));
    for (const key of [...peers.current.keys()]) if (!still.has(key)) closePeer(key);
    for (const key of [...pending.current.keys()]) if (!still.has(key)) pending.current.delete(key);
    render();
  }, [call.participants]);

  // Live figures: packets and audio energy received, levels, the call timer.
  useEffect(() => {
    if (phase !== 'live') return;
    const t = setInterval(() => {
      void (async () => {
        for (const p of peers.current.values()) {
          const reports = await p.pc.getStats().catch(() => null);
          if (!reports) continue;
          const s: VoiceStats = { packetsReceived: 0, audioEnergy: 0, audioLevel: 0, packetsSent: 0 };
          reports.forEach((r: { type: string; kind?: string; [k: string]: unknown }) => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') {
              s.packetsReceived += Number(r.packetsReceived ?? 0);
              s.audioEnergy += Number(r.totalAudioEnergy ?? 0);
              s.audioLevel = Math.max(s.audioLevel, Number(r.audioLevel ?? 0));
            } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
              s.packetsSent += Number(r.packetsSent ?? 0);
            } else if (r.type === 'media-source' && r.kind === 'audio') {
              localLevel.current = Number(r.audioLevel ?? 0);
            }
          });
          p.stats = s;
          if (p.status === 'reconnecting' && !p.makingOffer) settled(p);
        }
        render();
      })();
    }, STATS_MS);
    return () => clearInterval(t);
  }, [phase]);

  // Signals from the other participants, each once and in order, checked before the browser sees them.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when new signal records arrive
  useEffect(() => {
    const fresh = signals.filter((r) => !seen.current.has(r.pos));
    if (fresh.length === 0) return;
    for (const r of fresh) seen.current.add(r.pos);
    void enqueue(async () => {
      const c = await calls();
      for (const r of fresh) {
        if (r.body.t !== 'signal' || r.sentAt < liveSince) continue;
        const shape = c.checkCallSignal(r.body.signal);
        if (!shape.ok || shape.value.callId !== call.callId) continue;
        const sig = shape.value;
        if (r.body.own) {
          // Our own earlier answers and hangups (after a reload): those offers were dealt with.
          if (sig.kind === 'answer' && sig.to) pending.current.delete(keyOf(sig.to));
          if (sig.kind === 'hangup') pending.current.clear();
          continue;
        }
        const from = r.body.from;
        const side = from.station === ourStation ? me.side : me.side === 'inviter' ? 'acceptor' : 'inviter';
        const target: SignalTarget = { side, handle: from.handle };
        const key = keyOf(target);
        if (key === selfKey) continue; // this officer on another device
        const verdict = c.checkSignal(call, { kind: 'seat', side, handle: from.handle, role: 'principal', seated: true }, sig);
        if (!verdict.ok) {
          setError(`A voice signal from ${from.handle}@${from.station} was refused: ${verdict.error.message}`);
          continue;
        }
        if (!c.signalIsFor(sig, self)) continue;
        const peer = peers.current.get(key);
        const live = mic.current !== null;
        try {
          if (sig.kind === 'offer' && verdict.sdp) {
            if (live) await acceptOffer(peer ?? newPeer(target, false), sig.sdp, verdict.sdp);
            else pending.current.set(key, { target, sdp: sig.sdp, summary: verdict.sdp, ice: [] });
          } else if (sig.kind === 'answer' && verdict.sdp) {
            const awaited = peer?.pc.signalingState === 'have-local-offer';
            if (!peer || !awaited) continue; // an answer to an offer we no longer hold
            if (peer.remoteFp && !sameFingerprint(peer.remoteFp, verdict.sdp.sha256)) {
              renewed(peer, true); // a fresh connection offers to their new session
              continue;
            }
            peer.remoteFp = verdict.sdp.sha256;
            await peer.pc.setRemoteDescription({ type: 'answer', sdp: sig.sdp });
            for (const ice of peer.pendingIce.splice(0)) await applyIce(peer, ice);
            if (peer.status === 'offering') peer.status = 'connecting';
            settled(peer);
            await computeCode(peer);
          } else if (sig.kind === 'ice') {
            const init: RTCIceCandidateInit = {
              candidate: sig.candidate,
              sdpMid: sig.sdpMid ?? null,
              sdpMLineIndex: sig.sdpMLineIndex ?? null,
              ...(sig.ufrag ? { usernameFragment: sig.ufrag } : {}),
            };
            if (peer?.pc.remoteDescription) await applyIce(peer, init);
            else if (peer) peer.pendingIce.push(init);
            else pending.current.get(key)?.ice.push(init);
          } else if (sig.kind === 'hangup') {
            pending.current.delete(key);
            if (peer) {
              closePeer(key);
              if (live && peers.current.size === 0) stopVoice('ended');
            }
          } else if (sig.kind === 'media' && peer) {
            peer.remote = { muted: sig.muted, held: sig.held };
          }
        } catch (e) {
          setError(`The voice with ${nameOf(key)} failed: ${describeError(e)}`);
        }
      }
      render();
    });
  }, [signals, call]);

  const list = [...peers.current.values()];
  const live = phase === 'live';
  const state = voiceStateOf(
    phase,
    list.map((p) => p.status),
    pending.current.size,
  );
  const total = sumStats(list.map((p) => p.stats));
  const incoming = [...pending.current.keys()];
  const elapsed = connectedAt.current === null ? null : formatDuration(Date.now() - connectedAt.current);
  return (
    <div className="voice" data-voice-state={state} aria-live="polite">
      <p className="voice-state">
        {state === 'incoming'
          ? `${incoming.map(nameOf).join(', ')} ${incoming.length > 1 ? 'are' : 'is'} calling with voice.`
          : STATE_TEXT[state]}
        {elapsed && live && (
          <>
            {' '}
            <span className="voice-timer" data-testid="voice-timer">
              {elapsed}
            </span>
          </>
        )}
      </p>
      {live && (
        <div className="voice-levels">
          <label>
            Your microphone{muted ? ' (muted)' : held ? ' (on hold)' : ''}{' '}
            <meter min={0} max={1} value={muted || held ? 0 : localLevel.current} data-testid="voice-level-local" />
          </label>
        </div>
      )}
      {list.length > 0 && (
        <ul className="voice-peers">
          {list.map((p) => (
            <li key={p.key} data-peer={nameOf(p.key)} data-status={p.status}>
              <span className="voice-peer-name">{nameOf(p.key)}</span> <span className="muted">{peerStatusText(p.status)}</span>
              {p.remote.muted && <span className="voice-flag"> muted</span>}
              {p.remote.held && <span className="voice-flag"> on hold</span>}{' '}
              <meter min={0} max={1} value={p.stats.audioLevel} aria-label={`Audio level of ${nameOf(p.key)}`} />
              {p.code && (
                <span className="voice-code">
                  {' '}
                  Read out: <strong data-testid="voice-code">{`${p.code.slice(0, 3)} ${p.code.slice(3)}`}</strong>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {list.some((p) => p.code) && (
        <p className="voice-code-help muted">Each of you reads the six digits shown beside the other’s name; if they differ, hang up.</p>
      )}
      {live && (
        <p
          className="voice-stats muted"
          data-testid="voice-stats"
          data-packets-received={total.packetsReceived}
          data-audio-energy={total.audioEnergy}
          data-packets-sent={total.packetsSent}
          data-connected={list.filter((p) => p.status === 'connected').length}
        >
          Received {total.packetsReceived} audio packets, sent {total.packetsSent}.
        </p>
      )}
      <div className="button-row">
        {!live && phase !== 'starting' && (
          <button type="button" onClick={() => void start()} disabled={!engine}>
            {incoming.length > 0 ? 'Answer voice' : 'Start voice'}
          </button>
        )}
        {live && (
          <>
            <button type="button" className="button-secondary" aria-pressed={muted} onClick={() => sendMedia({ muted: !muted, held })}>
              {muted ? 'Unmute' : 'Mute'}
            </button>
            <button type="button" className="button-secondary" aria-pressed={held} onClick={() => sendMedia({ muted, held: !held })}>
              {held ? 'Resume' : 'Hold'}
            </button>
            <button type="button" className="button-secondary" onClick={reconnect} disabled={list.length === 0}>
              Reconnect
            </button>
            <button type="button" className="button-secondary" onClick={() => void hangUp()}>
              Hang up voice
            </button>
          </>
        )}
      </div>
      {notice && <p className="muted">{notice}</p>}
      {error && (
        <p className="field-problem" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

const STATE_TEXT: Record<ReturnType<typeof voiceStateOf>, string> = {
  idle: 'No voice yet.',
  starting: 'Starting the microphone…',
  incoming: 'The other side is calling with voice.',
  waiting: 'Offer sent; waiting for the others to answer…',
  connecting: 'Connecting the voice…',
  connected: 'Voice connected.',
  reconnecting: 'Reconnecting the voice…',
  alone: 'Nobody else is in the voice.',
  ended: 'Voice ended.',
  failed: 'Voice failed.',
};

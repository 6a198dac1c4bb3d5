import type { CallSignal, SdpSummary } from '@parley/calls';
import { useEffect, useRef, useState } from 'react';
import { api, describeError } from '../api.js';
import type { Call, Me } from '../calls.js';
import type { LineEngine, LineRecord } from '../e2ee/line-engine.js';
import { newClientId } from '../use-calls.js';

// Voice between the seat holders of a live call, browser to browser over WebRTC. The offer and
// the answer travel as application messages of the line's MLS group (never readable by the
// stations), so the DTLS fingerprints in them are authenticated end to end; each side checks
// every signal it decrypts (`checkSignal`: from a participant of this live call, a usable SDP)
// and shows the short code both read out to each other. ICE is not trickled: each side sends
// its description once its candidates are gathered, so one offer and one answer suffice.

type VoiceState = 'idle' | 'starting' | 'waiting' | 'incoming' | 'answering' | 'connecting' | 'connected' | 'ended' | 'failed';

const STATE_TEXT: Record<VoiceState, string> = {
  idle: 'No voice yet.',
  starting: 'Starting the microphone and making an offer…',
  waiting: 'Offer sent; waiting for the other side to answer…',
  incoming: 'The other side is calling with voice.',
  answering: 'Answering…',
  connecting: 'Connecting the voice…',
  connected: 'Voice connected.',
  ended: 'Voice ended.',
  failed: 'Voice failed.',
};

const GATHER_MS = 3000;
const calls = () => import('@parley/calls');

async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

export function VoicePanel({
  call,
  me,
  line,
  engine,
  signals,
  ourStation,
}: {
  call: Call;
  me: Me;
  line: string;
  engine: LineEngine | null;
  /** The line's signal records (this device's and others'), in timeline order. */
  signals: readonly LineRecord[];
  ourStation: string;
}) {
  const [state, setState] = useState<VoiceState>('idle');
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pc = useRef<RTCPeerConnection | null>(null);
  const mic = useRef<MediaStream | null>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const offer = useRef<{ sdp: string; summary: SdpSummary; mine: boolean } | null>(null);
  const seen = useRef(new Set<number>());
  const liveSince = call.reached.accepted?.at ?? call.reached.requested.at;

  const close = (next: VoiceState) => {
    pc.current?.close();
    pc.current = null;
    for (const t of mic.current?.getTracks() ?? []) t.stop();
    mic.current = null;
    setState(next);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: on unmount only
  useEffect(() => () => close('ended'), []);

  const send = async (signal: CallSignal) => {
    if (!engine) throw new Error('this device’s encryption is not ready yet');
    const clientId = newClientId();
    const sealed = await engine.seal({ clientId, text: '', signal });
    if ('membership' in sealed) throw new Error('this device is not in the line’s encrypted group');
    await api('POST', `/api/v1/lines/${encodeURIComponent(line)}/items`, { kind: 'mls', payload: sealed.payload, clientId });
  };

  const connection = async (): Promise<RTCPeerConnection> => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    mic.current = stream;
    const p = new RTCPeerConnection({ iceServers: [] });
    for (const t of stream.getAudioTracks()) p.addTrack(t, stream);
    p.ontrack = (ev) => {
      if (audio.current) audio.current.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
    };
    p.onconnectionstatechange = () => {
      if (p.connectionState === 'connected') setState('connected');
      else if (p.connectionState === 'failed') {
        setError('The browsers could not reach each other (no network path between them).');
        close('failed');
      }
    };
    pc.current = p;
    return p;
  };

  const fail = (e: unknown) => {
    setError(describeError(e));
    close('failed');
  };

  const start = async () => {
    setError(null);
    setCode(null);
    setState('starting');
    try {
      const p = await connection();
      await p.setLocalDescription(await p.createOffer());
      await gathered(p);
      const sdp = p.localDescription?.sdp ?? '';
      const summary = (await calls()).parseSdpSummary(sdp);
      if (!summary.ok) throw new Error(summary.error.message);
      offer.current = { sdp, summary, mine: true };
      await send({ kind: 'offer', callId: call.callId, sdp });
      setState('waiting');
    } catch (e) {
      fail(e);
    }
  };

  const answer = async () => {
    const o = offer.current;
    if (!o || o.mine) return;
    setError(null);
    setState('answering');
    try {
      const c = await calls();
      const p = await connection();
      await p.setRemoteDescription({ type: 'offer', sdp: o.sdp });
      await p.setLocalDescription(await p.createAnswer());
      await gathered(p);
      const sdp = p.localDescription?.sdp ?? '';
      const summary = c.parseSdpSummary(sdp);
      if (!summary.ok) throw new Error(summary.error.message);
      await send({ kind: 'answer', callId: call.callId, sdp });
      setCode(c.shortAuthCode(o.summary.sha256, summary.sha256, call.callId));
      setState((s) => (s === 'connected' ? s : 'connecting'));
    } catch (e) {
      fail(e);
    }
  };

  const hangUp = async () => {
    close('ended');
    await send({ kind: 'hangup', callId: call.callId, reason: 'normal' }).catch(() => undefined);
  };

  // Signals from the other participants, each once, checked before the browser sees them.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when new signal records arrive
  useEffect(() => {
    const fresh = signals.filter(
      (r) =>
        !seen.current.has(r.pos) &&
        r.body.t === 'signal' &&
        !r.body.own &&
        r.sentAt >= liveSince &&
        (r.body.signal as { callId?: unknown } | null)?.callId === call.callId,
    );
    if (fresh.length === 0) return;
    for (const r of fresh) seen.current.add(r.pos);
    void (async () => {
      const c = await calls();
      for (const r of fresh) {
        if (r.body.t !== 'signal') continue;
        const shape = c.checkCallSignal(r.body.signal);
        if (!shape.ok) continue;
        const from = r.body.from;
        const side = from.station === ourStation ? me.side : me.side === 'inviter' ? 'acceptor' : 'inviter';
        const verdict = c.checkSignal(call, { kind: 'seat', side, handle: from.handle, role: 'principal', seated: true }, shape.value);
        if (!verdict.ok) {
          setError(`A voice signal from ${from.handle}@${from.station} was refused: ${verdict.error.message}`);
          continue;
        }
        const sig = shape.value;
        if (sig.kind === 'offer' && verdict.sdp) {
          if (pc.current) continue; // we are in a voice session already
          offer.current = { sdp: sig.sdp, summary: verdict.sdp, mine: false };
          setState('incoming');
        } else if (sig.kind === 'answer' && verdict.sdp) {
          const o = offer.current;
          const p = pc.current;
          if (!o?.mine || !p || p.signalingState !== 'have-local-offer') continue;
          try {
            await p.setRemoteDescription({ type: 'answer', sdp: sig.sdp });
            setCode(c.shortAuthCode(o.summary.sha256, verdict.sdp.sha256, call.callId));
            setState((s) => (s === 'connected' ? s : 'connecting'));
          } catch (e) {
            fail(e);
          }
        } else if (sig.kind === 'hangup') {
          if (pc.current || offer.current) {
            offer.current = null;
            close('ended');
          }
        }
      }
    })();
  }, [signals, call]);

  const busy = state === 'starting' || state === 'answering';
  const inSession = pc.current !== null && state !== 'ended' && state !== 'failed';
  return (
    <div className="voice" data-voice-state={state} aria-live="polite">
      <p className="voice-state">{STATE_TEXT[state]}</p>
      {code && (
        <p className="voice-code">
          Read out to the other side: <strong data-testid="voice-code">{`${code.slice(0, 3)} ${code.slice(3)}`}</strong>. They must read the
          same six digits; if not, hang up.
        </p>
      )}
      <audio ref={audio} autoPlay>
        <track kind="captions" />
      </audio>
      <div className="button-row">
        {!inSession && state !== 'incoming' && (
          <button type="button" onClick={() => void start()} disabled={busy || !engine}>
            Start voice
          </button>
        )}
        {state === 'incoming' && (
          <button type="button" onClick={() => void answer()}>
            Answer voice
          </button>
        )}
        {(inSession || state === 'waiting') && (
          <button type="button" className="button-secondary" onClick={() => void hangUp()}>
            Hang up voice
          </button>
        )}
      </div>
      {error && (
        <p className="field-problem" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

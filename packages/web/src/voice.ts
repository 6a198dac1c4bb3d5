// Pure parts of the voice panel: what the panel says about a voice session of several peer
// connections, the figures it shows, the call timer. Kept apart from the component so that
// they are tested without a browser.

export type Phase = 'idle' | 'starting' | 'live' | 'ended' | 'failed';
export type PeerStatus = 'offering' | 'answering' | 'connecting' | 'connected' | 'reconnecting' | 'failed';
export type VoiceState =
  | 'idle'
  | 'starting'
  | 'incoming'
  | 'waiting'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'alone'
  | 'ended'
  | 'failed';

/** Figures from RTCPeerConnection.getStats() for one peer connection (or their sum). */
export interface VoiceStats {
  /** inbound-rtp packetsReceived: audio packets that arrived. */
  packetsReceived: number;
  /** inbound-rtp totalAudioEnergy: grows while the other side's voice is heard. */
  audioEnergy: number;
  /** inbound-rtp audioLevel, 0..1 (the loudest peer in a sum). */
  audioLevel: number;
  /** outbound-rtp packetsSent. */
  packetsSent: number;
}

/** One word for the whole session: connected as soon as anyone is heard. */
export function voiceStateOf(phase: Phase, peers: readonly PeerStatus[], offersWaiting: number): VoiceState {
  if (phase === 'starting') return 'starting';
  if (phase !== 'live') return offersWaiting > 0 ? 'incoming' : phase;
  if (peers.length === 0) return 'alone';
  if (peers.includes('connected')) return 'connected';
  if (peers.includes('reconnecting')) return 'reconnecting';
  if (peers.includes('connecting') || peers.includes('answering')) return 'connecting';
  if (peers.includes('offering')) return 'waiting';
  return 'failed';
}

export function peerStatusText(s: PeerStatus): string {
  switch (s) {
    case 'offering':
      return 'offered, not answered yet';
    case 'answering':
      return 'answering…';
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return 'connected';
    case 'reconnecting':
      return 'reconnecting…';
    case 'failed':
      return 'lost';
  }
}

export function sumStats(all: readonly VoiceStats[]): VoiceStats {
  const out: VoiceStats = { packetsReceived: 0, audioEnergy: 0, audioLevel: 0, packetsSent: 0 };
  for (const s of all) {
    out.packetsReceived += s.packetsReceived;
    out.audioEnergy += s.audioEnergy;
    out.audioLevel = Math.max(out.audioLevel, s.audioLevel);
    out.packetsSent += s.packetsSent;
  }
  return out;
}

/** The call timer: m:ss, or h:mm:ss past an hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// What travels inside an MLS application message on a line: UTF-8 JSON `{text, lang?}`. Each
// message keeps its language (BCP 47 tag) so interpreters can attach translations beside it.

const LANG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

export function validLang(tag: string): boolean {
  return LANG.test(tag) && tag.length <= 35;
}

export function encodeContent(text: string, lang?: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(lang ? { text, lang } : { text }));
}

export interface Content {
  text: string | null;
  lang?: string;
  /** Why there is no text, when the plaintext is not a text message. */
  error: string | null;
  /**
   * Set for content that is not a message and is never shown as one: a read receipt
   * (`{type: 'receipt', readUpTo: {side, seq}}`, sent by the web app when its officer has seen
   * the other side's messages).
   */
  hidden?: 'receipt';
  /** A call's WebRTC signal from the web app (`{type: 'call-signal', signal}`): shown as such, never as unreadable. */
  voice?: VoiceSignal;
}

/** What `read` says of a web voice signal: its kind and call, never the SDP or candidates. */
export interface VoiceSignal {
  kind: string;
  callId: string;
}

const VOICE_KINDS: Record<string, string> = {
  offer: 'offer',
  answer: 'answer',
  ice: 'network candidate',
  hangup: 'hang-up',
  media: 'mute/hold state',
};

/** The kind and call of a call-signal content, when it has the shape the web app writes. */
export function voiceSignalOf(v: { type?: unknown; signal?: unknown }): VoiceSignal | null {
  if (v.type !== 'call-signal' || !v.signal || typeof v.signal !== 'object') return null;
  const { kind, callId } = v.signal as { kind?: unknown; callId?: unknown };
  if (typeof kind !== 'string' || typeof callId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(callId)) return null;
  return { kind: Object.hasOwn(VOICE_KINDS, kind) ? kind : 'unknown', callId };
}

/** "voice signal for call X (offer)" */
export function describeVoiceSignal(v: VoiceSignal): string {
  return `voice signal for call ${v.callId} (${VOICE_KINDS[v.kind] ?? 'of an unknown kind'})`;
}

export function decodeContent(bytes: Uint8Array): Content {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { text: null, error: 'BAD_CONTENT: the decrypted message is not Parley message JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { text: null, error: 'BAD_CONTENT: the decrypted message is not Parley message JSON' };
  }
  const v = value as { text?: unknown; lang?: unknown; type?: unknown; signal?: unknown };
  if (v.type === 'receipt') return { text: null, error: null, hidden: 'receipt' };
  const voice = voiceSignalOf(v);
  if (voice) return { text: null, error: null, voice };
  if (typeof v.text !== 'string') {
    const what = typeof v.type === 'string' ? ` (${v.type})` : '';
    return { text: null, error: `NOT_TEXT: an encrypted message of another kind${what}` };
  }
  const out: Content = { text: v.text, error: null };
  if (typeof v.lang === 'string' && validLang(v.lang)) out.lang = v.lang;
  return out;
}

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64url, utf8 } from '@parley/protocol/bytes';
import {
  type Actor,
  type CosignedHead,
  cosign,
  type EntryEvent,
  headSigningBytes,
  type RecordEntry,
  RecordLog,
  type RecordLogOptions,
  type Side,
  type TreeHead,
} from '../src/index.js';

export interface Station {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function newStation(): Station {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export interface Pair {
  inviter: Station;
  acceptor: Station;
}

export function newPair(): Pair {
  return { inviter: newStation(), acceptor: newStation() };
}

export function keysOf(pair: Pair) {
  return { inviterKey: pair.inviter.publicKey, acceptorKey: pair.acceptor.publicKey };
}

export function sign(head: TreeHead | CosignedHead, side: Side, station: Station): CosignedHead {
  const bare = 'head' in head ? head.head : head;
  return cosign(head, side, ed25519.sign(headSigningBytes(bare), station.secretKey));
}

export function cosignBoth(head: TreeHead, pair: Pair): CosignedHead {
  return sign(sign(head, 'inviter', pair.inviter), 'acceptor', pair.acceptor);
}

export const LINE_ID = 'line-7f3a9c2e';
export const LINE_NAME = 'chiefs-of-staff';

/** Minute m of the day of the story, as the hub would stamp it. */
export function t(minute: number, second = 0): string {
  return new Date(Date.UTC(2026, 2, 5, 14, minute, second)).toISOString();
}

export const digest = (text: string) => toBase64url(sha256(utf8(text)));

const chief: Actor = { side: 'inviter', handle: 'chief' };
const duty: Actor = { side: 'acceptor', handle: 'duty' };
const general: Actor = { side: 'acceptor', handle: 'general' };
const press: Actor = { side: 'acceptor', handle: 'press' };
const inviterStation: Actor = { side: 'inviter' };

/**
 * The story of one line, 17 entries: linked, roster, an hourly test answered, a flash call
 * from the inviter's chief answered and held, message traffic both ways, the acceptor's
 * readout citing the call, a routine call declined, a test unanswered.
 */
export function story(pair: Pair): [EntryEvent, Actor, string][] {
  return [
    [
      {
        type: 'line_linked',
        lineId: LINE_ID,
        lineName: LINE_NAME,
        inviterKey: toBase64url(pair.inviter.publicKey),
        acceptorKey: toBase64url(pair.acceptor.publicKey),
      },
      { side: 'acceptor', handle: 'admin' },
      t(0),
    ],
    [{ type: 'roster_changed', epoch: 1, added: ['dev-chief-01', 'dev-duty-001'], removed: [] }, inviterStation, t(1)],
    [{ type: 'test_sent', testId: 't1' }, inviterStation, t(2)],
    [{ type: 'test_acknowledged', testId: 't1' }, duty, t(2, 30)],
    [{ type: 'call_requested', callId: 'c1', talkId: 'k1', urgency: 'flash', to: 'general' }, chief, t(4)],
    [{ type: 'call_acknowledged', callId: 'c1' }, duty, t(4, 20)],
    [{ type: 'call_accepted', callId: 'c1' }, general, t(5)],
    [{ type: 'call_ringing', callId: 'c1' }, inviterStation, t(5, 10)],
    [{ type: 'call_connected', callId: 'c1' }, general, t(5, 15)],
    [
      { type: 'items', dir: 'inviter_to_acceptor', hashes: [1, 2, 3].map((seq) => ({ seq, sha256: digest(`i2a ${seq}`) })) },
      inviterStation,
      t(6),
    ],
    [
      { type: 'items', dir: 'acceptor_to_inviter', hashes: [1, 2].map((seq) => ({ seq, sha256: digest(`a2i ${seq}`) })) },
      { side: 'acceptor' },
      t(7),
    ],
    [{ type: 'call_ended', callId: 'c1' }, chief, t(25)],
    [
      {
        type: 'readout_published',
        readoutId: 'r1',
        contentHash: digest('The chiefs discussed issues of mutual interest.'),
        cites: [4, 8, 11],
      },
      press,
      t(40),
    ],
    [{ type: 'call_requested', callId: 'c2', talkId: 'k2', urgency: 'routine' }, duty, t(45)],
    [{ type: 'call_declined', callId: 'c2' }, chief, t(50)],
    [{ type: 'test_sent', testId: 't2' }, inviterStation, t(55)],
    [{ type: 'test_unanswered', testId: 't2' }, inviterStation, t(59)],
  ];
}

export function logOf(events: [EntryEvent, Actor, string][], options?: RecordLogOptions): RecordLog {
  const log = new RecordLog(LINE_ID, options);
  for (const [event, by, at] of events) log.append(log.nextEntry(event, by, at));
  return log;
}

/** Heads both stations signed at the given sizes, each cut a second after its last entry. */
export function headsAt(log: RecordLog, pair: Pair, sizes: number[]): CosignedHead[] {
  return sizes.map((size) => cosignBoth(log.head(t(59, 59), size), pair));
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export type { RecordEntry };

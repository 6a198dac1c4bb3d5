import Type, { type Static } from 'typebox';
import { Base64url, Handle, Id, Seq, Timestamp } from './schema-parts.js';
import { PeerSeat } from './federation-api.js';
import { LangList } from './languages.js';
import { LangTag, MessageRef } from './line-events.js';

const closed = { additionalProperties: false } as const;

/** The reserved handle of each station's recorder device in every line's group. */
export const RECORDER_HANDLE = 'recorder';

export const BindingRequest = Type.Object({ signatureKey: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) }, closed);
export type BindingRequest = Static<typeof BindingRequest>;

export const BindingResponse = Type.Object(
  { binding: Base64url, deviceId: Id, station: Type.Object({ name: Type.String(), publicKey: Base64url }, closed) },
  closed,
);
export type BindingResponse = Static<typeof BindingResponse>;

/** MLS key packages are a few kilobytes with X-Wing keys. */
const KeyPackageBytes = Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 16_384 });

export const KeyPackagesUpload = Type.Object({ keyPackages: Type.Array(KeyPackageBytes, { minItems: 1, maxItems: 20 }) }, closed);
export type KeyPackagesUpload = Static<typeof KeyPackagesUpload>;

export const RosterDevice = Type.Object(
  {
    leafIndex: Type.Integer({ minimum: 0 }),
    station: Type.String(),
    handle: Type.String(),
    deviceId: Type.String(),
    signatureKeyFingerprint: Type.String(),
    issuedAt: Timestamp,
  },
  closed,
);
export const RosterResponse = Type.Object({ epoch: Seq, devices: Type.Array(RosterDevice) }, closed);
export type RosterResponse = Static<typeof RosterResponse>;

export const HistoryEntry = Type.Object(
  {
    pos: Seq,
    sentAt: Timestamp,
    sender: Type.Object({ station: Type.String(), handle: Type.String(), deviceId: Type.String() }, closed),
    /** base64url plaintext as the sender's device encrypted it, or null when the recorder could not read it. */
    text: Type.Union([Base64url, Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    /**
     * An interpreter's translation (issue 9): the message it renders and its language, as on the
     * item; `sender` is the interpreter's device and `text` its content, like a message's.
     */
    translation: Type.Optional(Type.Object({ of: MessageRef, lang: LangTag }, closed)),
  },
  closed,
);
export type HistoryEntry = Static<typeof HistoryEntry>;
export const HistoryResponse = Type.Object({ entries: Type.Array(HistoryEntry), nextCursor: Seq }, closed);
export type HistoryResponse = Static<typeof HistoryResponse>;

export const CommitRequest = Type.Object({ commit: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 262_144 }) }, closed);
export type CommitRequest = Static<typeof CommitRequest>;
export const CommitResponse = Type.Object({ epoch: Seq }, closed);

/** Federation: the hub asks the other station for key packages of devices it has not yet added. */
export const FedKeyPackagesRequest = Type.Object(
  {
    /** Device ids of the asked station already in the group: no key package needed for them. */
    have: Type.Array(Id, { maxItems: 1000 }),
    /** The asking station's current seats on the line. */
    seats: Type.Array(PeerSeat, { maxItems: 64 }),
    /** The asking side's working languages now: a change the peer missed reaches it here. */
    langs: Type.Optional(LangList),
  },
  closed,
);
export type FedKeyPackagesRequest = Static<typeof FedKeyPackagesRequest>;

export const FedKeyPackagesResponse = Type.Object(
  {
    offers: Type.Array(Type.Object({ deviceId: Id, handle: Handle, keyPackage: KeyPackageBytes }, closed), { maxItems: 1000 }),
    /** Every device the answering station vouches for on this line now (seated members' devices and its recorder). */
    current: Type.Array(Id, { maxItems: 1000 }),
    seats: Type.Array(PeerSeat, { maxItems: 64 }),
    /** The answering side's working languages now. */
    langs: Type.Optional(LangList),
  },
  closed,
);
export type FedKeyPackagesResponse = Static<typeof FedKeyPackagesResponse>;

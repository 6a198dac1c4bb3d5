import Type, { type Static } from 'typebox';
import { LangList } from './languages.js';
import { Base64url, DisplayName, FedItemKind, Handle, HttpUrl, Id, LineName, Payload, RoleSchema, Seq, Timestamp } from './schema-parts.js';

const closed = { additionalProperties: false } as const;

export const FED_HEADERS = {
  station: 'parley-station',
  timestamp: 'parley-timestamp',
  nonce: 'parley-nonce',
  signature: 'parley-signature',
} as const;

/** How far a peer's clock may be from ours before its requests are refused. */
export const FED_CLOCK_WINDOW_MS = 5 * 60_000;

export const StationInfo = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    /** Raw 32-byte Ed25519 public key, base64url. */
    publicKey: Base64url,
    urls: Type.Array(HttpUrl, { minItems: 1, maxItems: 8 }),
  },
  closed,
);
export type StationInfo = Static<typeof StationInfo>;

export const PeerSeat = Type.Object({ handle: Handle, name: DisplayName, role: RoleSchema }, closed);

/** The invitation a station operator hands to the other side, signed by the inviting station. */
export const InvitationBody = Type.Object(
  {
    v: Type.Literal(1),
    invitationId: Id,
    secret: Base64url,
    line: Type.Object({ id: Id, name: LineName }, closed),
    station: StationInfo,
    expiresAt: Timestamp,
    /** The inviting side's working languages (issue 9); absent from invitations made before them. */
    langs: Type.Optional(LangList),
  },
  closed,
);
export type InvitationBody = Static<typeof InvitationBody>;

export const Invitation = Type.Object({ body: InvitationBody, signature: Base64url }, closed);
export type Invitation = Static<typeof Invitation>;

export const LinkRequest = Type.Object(
  {
    invitationId: Id,
    secret: Base64url,
    lineId: Id,
    station: StationInfo,
    seats: Type.Array(PeerSeat, { maxItems: 64 }),
    /** The accepting side's working languages. */
    langs: Type.Optional(LangList),
  },
  closed,
);
export type LinkRequest = Static<typeof LinkRequest>;

export const LinkResponse = Type.Object(
  {
    lineId: Id,
    lineName: LineName,
    station: StationInfo,
    seats: Type.Array(PeerSeat, { maxItems: 64 }),
    /** The inviting side's working languages, as it holds them now. */
    langs: Type.Optional(LangList),
  },
  closed,
);
export type LinkResponse = Static<typeof LinkResponse>;

export const FedItem = Type.Object(
  {
    seq: Seq,
    kind: FedItemKind,
    payload: Payload,
    sender: Handle,
    clientId: Type.Union([Id, Type.Null()]),
    sentAt: Timestamp,
  },
  closed,
);
export type FedItem = Static<typeof FedItem>;

export const ItemsBatch = Type.Object({ items: Type.Array(FedItem, { minItems: 1, maxItems: 2000 }) }, closed);
export type ItemsBatch = Static<typeof ItemsBatch>;

export const AckResponse = Type.Object({ ackedSeq: Seq }, closed);
export type AckResponse = Static<typeof AckResponse>;

export const Heartbeat = Type.Object(
  {
    /** Highest sequence number the sender has assigned on its outgoing stream. */
    sentSeq: Seq,
    /** Highest contiguous sequence number the sender holds from us. */
    ackedSeq: Seq,
    at: Timestamp,
  },
  closed,
);
export type Heartbeat = Static<typeof Heartbeat>;

export const FedLineParams = Type.Object({ lineId: Id }, closed);

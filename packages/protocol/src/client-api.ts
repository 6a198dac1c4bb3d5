import Type, { type Static } from 'typebox';
import { Base64url, DisplayName, Handle, Id, ItemKind, LineName, Payload, RoleSchema, SendKind, Seq, Timestamp } from './schema-parts.js';
import { LineLanguages } from './languages.js';

const closed = { additionalProperties: false } as const;

export const Password = Type.String({ minLength: 10, maxLength: 256 });

export const EnrollRequest = Type.Object(
  {
    handle: Handle,
    secret: Base64url,
    password: Password,
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    session: Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('bearer')])),
  },
  closed,
);
export type EnrollRequest = Static<typeof EnrollRequest>;

export const LoginRequest = Type.Object(
  {
    handle: Handle,
    password: Type.String({ minLength: 1, maxLength: 256 }),
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    session: Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('bearer')])),
  },
  closed,
);
export type LoginRequest = Static<typeof LoginRequest>;

export const Member = Type.Object(
  { handle: Handle, name: DisplayName, role: RoleSchema, enrolled: Type.Boolean(), createdAt: Timestamp },
  closed,
);
export type Member = Static<typeof Member>;

export const SessionResponse = Type.Object(
  {
    member: Member,
    station: Type.Object({ name: Type.String(), fingerprint: Type.String() }, closed),
    deviceId: Id,
    /** Present only for bearer sessions; cookie sessions never expose the token to scripts. */
    token: Type.Optional(Type.String()),
    expiresAt: Timestamp,
  },
  closed,
);
export type SessionResponse = Static<typeof SessionResponse>;

export const Health = Type.Union([Type.Literal('up'), Type.Literal('degraded'), Type.Literal('down')]);
export type Health = Static<typeof Health>;

export const Seat = Type.Object({ handle: Handle, name: DisplayName, role: RoleSchema }, closed);
export type Seat = Static<typeof Seat>;

/**
 * The peer station refuses our stream's next batch: the stream stays held at `seq` (nothing
 * after it can pass) until the peer takes it. `code` is the peer's machine-readable reason.
 */
export const PeerRefusalView = Type.Object({ seq: Seq, code: Type.String(), message: Type.String(), since: Timestamp }, closed);
export type PeerRefusalView = Static<typeof PeerRefusalView>;

export const LineSummary = Type.Object(
  {
    id: Id,
    name: LineName,
    /** This station, with its public key: clients pin both keys in the line's MLS policy. */
    station: Type.Object({ name: Type.String(), publicKey: Base64url }, closed),
    peer: Type.Object({ name: Type.String(), fingerprint: Type.String(), publicKey: Base64url, urls: Type.Array(Type.String()) }, closed),
    safetyNumber: Type.String(),
    /** Which side of the line this station is: 'inviter' (the hub) or 'acceptor'. Always set by stations. */
    side: Type.Optional(Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')])),
    seats: Type.Array(Seat),
    peerSeats: Type.Array(Seat),
    health: Health,
    lastContactAt: Type.Union([Timestamp, Type.Null()]),
    /** Items we accepted that the peer station has not yet acknowledged. */
    backlogOut: Type.Integer({ minimum: 0 }),
    /** Items the peer says it sent that we do not hold yet. */
    backlogIn: Type.Integer({ minimum: 0 }),
    endpoint: Type.Union([Type.String(), Type.Null()]),
    lastPos: Seq,
    deliveredSeq: Seq,
    /** Joint-record alarms this station raised on the line (the peer's record disagreed with ours). Always set by stations. */
    recordAlarms: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Each side's working languages (BCP 47, the first the main one): members write in ours by
     * default, interpreters translate into ours. Empty when not set. Always set by stations.
     */
    languages: Type.Optional(LineLanguages),
    /** Set while the peer station refuses our stream's next batch. Always set by stations (null when not). */
    peerRefusal: Type.Optional(Type.Union([PeerRefusalView, Type.Null()])),
  },
  closed,
);
export type LineSummary = Static<typeof LineSummary>;

export const SendRequest = Type.Object(
  {
    kind: Type.Optional(SendKind),
    payload: Payload,
    /** Chosen by the client; a retry with the same id returns the first result instead of a copy. */
    clientId: Type.Optional(Id),
  },
  closed,
);
export type SendRequest = Static<typeof SendRequest>;

export const Item = Type.Object(
  {
    pos: Seq,
    dir: Type.Union([Type.Literal('out'), Type.Literal('in')]),
    seq: Seq,
    kind: ItemKind,
    payload: Payload,
    sender: Type.Object({ handle: Handle, station: Type.String() }, closed),
    clientId: Type.Union([Id, Type.Null()]),
    sentAt: Timestamp,
    storedAt: Timestamp,
  },
  closed,
);
export type Item = Static<typeof Item>;

export const SendResponse = Type.Object({ item: Item, duplicate: Type.Boolean() }, closed);
export type SendResponse = Static<typeof SendResponse>;

export const ItemsPage = Type.Object({ items: Type.Array(Item), nextCursor: Seq, deliveredSeq: Seq }, closed);
export type ItemsPage = Static<typeof ItemsPage>;

export const ItemsQuery = Type.Object(
  { after: Type.Optional(Seq), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  closed,
);

export const LineParams = Type.Object({ line: LineName }, closed);

/** Frames a client sends on the line WebSocket. */
export const ClientFrame = Type.Union([
  Type.Object({ type: Type.Literal('send'), kind: Type.Optional(SendKind), payload: Payload, clientId: Id }, closed),
  Type.Object({ type: Type.Literal('ping') }, closed),
]);
export type ClientFrame = Static<typeof ClientFrame>;

/** Frames the station sends on the line WebSocket. */
export type ServerFrame =
  | { type: 'item'; item: Item }
  | { type: 'accepted'; clientId: string; item: Item; duplicate: boolean }
  | { type: 'delivered'; seq: number }
  | { type: 'health'; health: Health; lastContactAt: number | null }
  | { type: 'error'; clientId?: string; error: { code: string; message: string } }
  | { type: 'pong' };

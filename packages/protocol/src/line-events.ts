// Line events: what the hub (the inviting station) orders on its own stream besides MLS, so that
// both stations see them in one order. A 'call' item is a call event (public metadata: who,
// which call, which urgency, when) with the member's end-to-end encrypted body beside it; a
// 'record' item is an entry of the joint record the hub adds (receipts of item hashes, roster
// changes). Both travel as UTF-8 JSON in the item's payload; the stations check them with the
// schemas of @parley/calls and @parley/record.
import { Type, type Static } from 'typebox';
import { fromBase64url, toBase64url } from './bytes.js';
import { Handle, Id, Payload, Seq, Timestamp } from './schema-parts.js';

const closed = { additionalProperties: false } as const;

export interface CallItemPayload {
  /** A CallEvent of @parley/calls, `at` and `by` filled by the hub. */
  event: unknown;
  /** The member's MLS application message (topics, reasons, SDP…), or null. */
  body: string | null;
}

export interface RecordItemPayload {
  /** An entry event of @parley/record (type and fields; index and time come from the log). */
  entry: unknown;
}

export function encodeLineEvent(value: CallItemPayload | RecordItemPayload | TranslationItemPayload): string {
  return toBase64url(new TextEncoder().encode(JSON.stringify(value)));
}

/** The JSON object in a line event's payload, or undefined if it is not one. */
export function decodeLineEvent(payload: string | Uint8Array): Record<string, unknown> | undefined {
  try {
    const bytes = typeof payload === 'string' ? fromBase64url(payload) : payload;
    if (!bytes) return undefined;
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const CALL_MEMBER_ACTIONS = [
  'request',
  'acknowledge',
  'accept',
  'decline',
  'cancel',
  'ring',
  'connect',
  'end',
  'join',
  'leave',
  'acknowledge_test',
  'set_policy',
] as const;
export type CallMemberAction = (typeof CALL_MEMBER_ACTIONS)[number];

const Urgency = Type.Union([Type.Literal('routine'), Type.Literal('priority'), Type.Literal('immediate'), Type.Literal('flash')]);

/** A member acts on a call: `POST /api/v1/lines/:line/calls`. The station fills who and when. */
export const CallActionRequest = Type.Object(
  {
    action: Type.Union([
      Type.Literal('request'),
      Type.Literal('acknowledge'),
      Type.Literal('accept'),
      Type.Literal('decline'),
      Type.Literal('cancel'),
      Type.Literal('ring'),
      Type.Literal('connect'),
      Type.Literal('end'),
      Type.Literal('join'),
      Type.Literal('leave'),
      Type.Literal('acknowledge_test'),
      Type.Literal('set_policy'),
    ]),
    /** Absent on a request: the station makes one. */
    callId: Type.Optional(Id),
    /** For acknowledge_test: the duty-officer test message acknowledged. */
    testId: Type.Optional(Id),
    /** On a request: the talk (series) it continues; absent starts a new talk. */
    talkId: Type.Optional(Id),
    urgency: Type.Optional(Urgency),
    to: Type.Optional(Handle),
    scheduledFor: Type.Optional(Timestamp),
    /**
     * For set_policy: the line's settings to change, `{calls?: {ackDeadlineMs?: {flash?…}, …},
     * tests?: {intervalMs?, ackDeadlineMs?, …}}` in ms (checked by @parley/calls, CALL_POLICY_INVALID).
     */
    policy: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 2 })),
    /** The encrypted body: an MLS application message of the line's group. */
    body: Type.Optional(Payload),
    clientId: Id,
  },
  closed,
);
export type CallActionRequest = Static<typeof CallActionRequest>;

/** The other station hands a member's call event to the hub: `POST /fed/v1/lines/:id/calls`. */
export const FedCallRequest = Type.Object(
  {
    /** A CallEvent whose `by` is a seat on the sending side; checked by the hub with @parley/calls. */
    event: Type.Record(Type.String(), Type.Unknown()),
    body: Type.Union([Payload, Type.Null()]),
    clientId: Id,
  },
  closed,
);
export type FedCallRequest = Static<typeof FedCallRequest>;

export const FedCallResponse = Type.Object({ seq: Seq }, closed);
export type FedCallResponse = Static<typeof FedCallResponse>;

/** A BCP 47 language tag as Parley takes it: `en`, `ru`, `zh-Hant`, `pt-BR`. */
export const LangTag = Type.String({ pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$', maxLength: 35 });

export function validLang(tag: string): boolean {
  return /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag) && tag.length <= 35;
}

/**
 * A message of a line, named the same way at both stations: the side whose stream carries it and
 * its sequence number there (positions are per station, sequence numbers are per stream).
 */
export const MessageRef = Type.Object(
  {
    side: Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')]),
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  closed,
);
export type MessageRef = Static<typeof MessageRef>;

/**
 * An interpreter's translation (issue 9), `POST /api/v1/lines/:line/translations`: the original it
 * renders, the language it is in, and the text as an MLS application message. Stations see which
 * message was translated into which language by whom, never the text. A later translation of the
 * same original into the same language by the same side is a revision; all are kept.
 */
export const TranslationRequest = Type.Object({ of: MessageRef, lang: LangTag, body: Payload, clientId: Id }, closed);
export type TranslationRequest = Static<typeof TranslationRequest>;

/** What a 'translation' item carries (JSON in the payload). */
export const TranslationItemPayload = Type.Object({ of: MessageRef, lang: LangTag, body: Payload }, closed);
export type TranslationItemPayload = Static<typeof TranslationItemPayload>;

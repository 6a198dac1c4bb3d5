// Readouts (issue 7): a press officer's public statement about a call or talk. Unlike messages,
// a readout is meant to be read by anyone once published, so its station keeps it in clear; only
// the SHA-256 of its content and the entries it cites go into the line's joint record.
import { Type, type Static } from 'typebox';
import { Handle, Id, LineName } from './schema-parts.js';
import { LangTag } from './line-events.js';

const closed = { additionalProperties: false } as const;

/** An index of the line's joint record (the entry of the contact a readout describes). */
export const EntryIndexRef = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** A press officer drafts a readout: `POST /api/v1/lines/:line/readouts`. */
export const ReadoutDraftRequest = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    text: Type.String({ minLength: 1, maxLength: 20_000 }),
    lang: LangTag,
    /** The same readout in a second language (issue 9): both or neither. */
    textAlt: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    langAlt: Type.Optional(LangTag),
    /** Entry indices of the line's joint record: the contacts the readout describes. */
    cites: Type.Array(EntryIndexRef, { maxItems: 100 }),
  },
  closed,
);
export type ReadoutDraftRequest = Static<typeof ReadoutDraftRequest>;

export const ReadoutParams = Type.Object({ line: LineName, id: Id }, closed);
export type ReadoutParams = Static<typeof ReadoutParams>;

export type ReadoutStatus = 'draft' | 'shared' | 'published';

/** A readout as its own station's members see it. */
export interface Readout {
  id: string;
  line: string;
  author: string;
  title: string;
  text: string;
  lang: string;
  textAlt?: string;
  langAlt?: string;
  cites: number[];
  status: ReadoutStatus;
  createdAt: number;
  publishedAt: number | null;
  /** SHA-256 (base64url) of the published content (see readoutContentBytes), once published. */
  contentHash: string | null;
}

/**
 * The bytes a readout's content hash covers: UTF-8 JSON of `[title, lang, text, langAlt, textAlt]`
 * (absent second language as null). An observer recomputes it from the public feed and compares
 * it with the `readout_published` entry of the joint record.
 */
export function readoutContentBytes(r: { title: string; lang: string; text: string; langAlt?: string; textAlt?: string }): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([r.title, r.lang, r.text, r.langAlt ?? null, r.textAlt ?? null]));
}

/** The other station asks the hub to state its readout's publication: `POST /fed/v1/lines/:id/readouts`. */
export const FedReadoutRequest = Type.Object(
  {
    readoutId: Id,
    contentHash: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    cites: Type.Array(EntryIndexRef, { maxItems: 100 }),
    handle: Handle,
  },
  closed,
);
export type FedReadoutRequest = Static<typeof FedReadoutRequest>;

export const FedReadoutResponse = Type.Object({ stated: Type.Boolean() }, closed);
export type FedReadoutResponse = Static<typeof FedReadoutResponse>;

/** One cited entry as the public feed shows it: enough to ask either station for a proof. */
export interface PublicCitation {
  index: number;
  type: string;
  at: string;
  /** "call c1 connected" */
  what: string;
}

/** `GET /public/readouts.json`. */
export interface PublicReadoutFeed {
  format: 'parley-readouts-v1';
  station: { name: string; fingerprint: string };
  generatedAt: string;
  readouts: {
    id: string;
    line: { id: string; name: string; peer: string };
    side: 'inviter' | 'acceptor';
    author: string;
    title: string;
    text: string;
    lang: string;
    textAlt?: string;
    langAlt?: string;
    publishedAt: string;
    contentHash: string;
    cites: PublicCitation[];
    /** The line's record as this station holds it: its size and root, and the last head both stations signed. */
    record: { size: number; rootHash: string; cosigned: { size: number; rootHash: string; at: string } | null };
  }[];
}

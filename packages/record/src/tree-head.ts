// Tree heads: "the record of line L had `size` entries with root R at time T". Both stations
// sign the same head; a head counts only once both signatures verify.
import { Id } from '@parley/protocol';
import { concatBytes, fromBase64url, toBase64url, utf8 } from '@parley/protocol/bytes';
import { ed25519 } from '@noble/curves/ed25519.js';
import Type, { type Static } from 'typebox';
import { canonicalBytes } from './canonical-json.js';
import { Bytes32, EntryIndex, IsoTime, isRealTime, SIDES, type Side } from './entries.js';
import { bytesEqual, emptyRoot } from './merkle.js';
import { type SchemaError, schemaErrors } from './schema-check.js';

const closed = { additionalProperties: false } as const;

export const TreeHeadSchema = Type.Object(
  {
    lineId: Id,
    /** Number of entries the tree holds. */
    size: EntryIndex,
    /** RFC 9162 root hash of those entries, base64url. */
    rootHash: Bytes32,
    /** When the hub cut this head. */
    at: IsoTime,
  },
  closed,
);
export type TreeHead = Static<typeof TreeHeadSchema>;

/** A raw 64-byte Ed25519 signature, base64url. */
export const SignatureSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });

export const CosignedHeadSchema = Type.Object(
  {
    head: TreeHeadSchema,
    signatures: Type.Object({ inviter: Type.Optional(SignatureSchema), acceptor: Type.Optional(SignatureSchema) }, closed),
  },
  closed,
);
/** A head and the signatures gathered so far. It counts only when both verify (verifyHead). */
export type CosignedHead = Static<typeof CosignedHeadSchema>;

/**
 * Domain separation: a station key signs federation requests, invitations and device
 * bindings too; this prefix makes a head signature useless as any of those, and theirs as a head.
 */
export const HEAD_SIGNING_CONTEXT = 'parley-record-head-v1\n';

/**
 * The bytes both stations sign: UTF-8 of HEAD_SIGNING_CONTEXT followed by the canonical JSON
 * (canonical-json.ts) of the four head fields, e.g.
 * `parley-record-head-v1\n{"at":"2026-03-05T14:07:00.000Z","lineId":"…","rootHash":"…","size":12}`.
 */
export function headSigningBytes(head: TreeHead): Uint8Array {
  const { lineId, size, rootHash, at } = head;
  return concatBytes(utf8(HEAD_SIGNING_CONTEXT), canonicalBytes({ lineId, size, rootHash, at }));
}

export function makeHead(lineId: string, size: number, root: Uint8Array, at: string): TreeHead {
  return { lineId, size, rootHash: toBase64url(root), at };
}

/** A station key as raw bytes or base64url text. */
export type KeyInput = Uint8Array | string;
export interface StationKeys {
  inviterKey: KeyInput;
  acceptorKey: KeyInput;
}

/** The raw 32-byte key, or undefined when it is not one. */
export function decodeKey(key: KeyInput): Uint8Array | undefined {
  const raw = typeof key === 'string' ? fromBase64url(key) : key;
  return raw instanceof Uint8Array && raw.length === 32 ? raw : undefined;
}

export function keyOf(keys: StationKeys, side: Side): Uint8Array | undefined {
  return decodeKey(side === 'inviter' ? keys.inviterKey : keys.acceptorKey);
}

/** An Ed25519 verifier over raw bytes: true only for a valid signature, never throws. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Strict RFC 8032 verification (no ZIP-215 leniency): one signature, one meaning. Pure JS, so it
 * runs anywhere, at a few milliseconds a signature; a station passes Node's (OpenSSL, also
 * strict about S) as `verify`, since a head arrives on the event loop that delivers items.
 */
export const nobleEd25519Verify: Ed25519Verify = (signature, message, publicKey) => {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

export function verifyHeadSignature(
  head: TreeHead,
  signature: Uint8Array | string,
  publicKey: KeyInput,
  verify: Ed25519Verify = nobleEd25519Verify,
): boolean {
  const sig = typeof signature === 'string' ? fromBase64url(signature) : signature;
  const key = decodeKey(publicKey);
  if (sig?.length !== 64 || !key) return false;
  return verify(sig, headSigningBytes(head), key);
}

export type SignatureState = 'valid' | 'missing' | 'invalid';
export interface HeadVerdict {
  /** Both signatures present and valid: the head counts. */
  cosigned: boolean;
  inviter: SignatureState;
  acceptor: SignatureState;
  /** Sides whose signature is absent. */
  missing: Side[];
  /** Sides whose signature is present but does not verify under their key. */
  invalid: Side[];
}

export function verifyHead(cosigned: CosignedHead, keys: StationKeys, verify: Ed25519Verify = nobleEd25519Verify): HeadVerdict {
  const state = (side: Side): SignatureState => {
    const sig = cosigned.signatures[side];
    if (sig === undefined) return 'missing';
    const key = keyOf(keys, side);
    return key && verifyHeadSignature(cosigned.head, sig, key, verify) ? 'valid' : 'invalid';
  };
  const inviter = state('inviter');
  const acceptor = state('acceptor');
  const states = { inviter, acceptor };
  return {
    cosigned: inviter === 'valid' && acceptor === 'valid',
    inviter,
    acceptor,
    missing: SIDES.filter((s) => states[s] === 'missing'),
    invalid: SIDES.filter((s) => states[s] === 'invalid'),
  };
}

export function isCosignedHead(value: CosignedHead | TreeHead): value is CosignedHead {
  return 'head' in value && 'signatures' in value;
}

/** The head with no signatures yet, or as it is. */
export function asCosigned(value: CosignedHead | TreeHead): CosignedHead {
  return isCosignedHead(value) ? value : { head: value, signatures: {} };
}

/** Add (or replace) one side's signature. The station signs headSigningBytes(head) with its own key. */
export function cosign(value: CosignedHead | TreeHead, side: Side, signature: Uint8Array | string): CosignedHead {
  const c = asCosigned(value);
  const sig = typeof signature === 'string' ? signature : toBase64url(signature);
  return { head: { ...c.head }, signatures: { ...c.signatures, [side]: sig } };
}

export function sameHead(a: TreeHead, b: TreeHead): boolean {
  return a.lineId === b.lineId && a.size === b.size && a.rootHash === b.rootHash && a.at === b.at;
}

export function headRoot(head: TreeHead): Uint8Array {
  const root = fromBase64url(head.rootHash);
  if (root?.length !== 32) throw new TypeError('a head root is 32 bytes in canonical base64url');
  return root;
}

/** What a schema cannot say about a head: a real time, a canonical 32-byte root, the empty root at size 0. */
export function treeHeadProblems(head: TreeHead, prefix = ''): SchemaError[] {
  const out: SchemaError[] = [];
  if (!isRealTime(head.at)) out.push({ path: `${prefix}/at`, message: 'is not a real UTC time' });
  const root = fromBase64url(head.rootHash);
  if (root?.length !== 32) out.push({ path: `${prefix}/rootHash`, message: 'is not a 32-byte hash in canonical base64url' });
  else if (head.size === 0 && !bytesEqual(root, emptyRoot()))
    out.push({ path: `${prefix}/rootHash`, message: 'an empty tree has the root SHA-256("")' });
  return out;
}

/** Check an untrusted tree head (schema, real time, canonical 32-byte root). */
export function validateHead(value: unknown): { ok: true; head: TreeHead } | { ok: false; errors: SchemaError[] } {
  const errors = schemaErrors(TreeHeadSchema, value);
  if (errors.length > 0) return { ok: false, errors };
  const problems = treeHeadProblems(value as TreeHead);
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, head: value as TreeHead };
}

/** Check an untrusted cosigned head's form (the signatures are checked by verifyHead). */
export function validateCosignedHead(value: unknown): { ok: true; head: CosignedHead } | { ok: false; errors: SchemaError[] } {
  const errors = schemaErrors(CosignedHeadSchema, value);
  if (errors.length > 0) return { ok: false, errors };
  const problems = treeHeadProblems((value as CosignedHead).head, '/head');
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, head: value as CosignedHead };
}

// Watching the peer: every head it presents must extend the heads it signed before. When one
// does not, the station keeps the evidence (both heads with their signatures, the proof it was
// given, why it failed) to raise an alarm and show it to people; nothing here decides what
// to do next.
import { fromBase64url, toBase64url } from '@parley/protocol/bytes';
import Type, { type Static } from 'typebox';
import { SIDES, SideSchema, type Side } from './entries.js';
import { type ProofFailure, verifyConsistency } from './merkle.js';
import { type SchemaError, schemaErrors } from './schema-check.js';
import { asCosigned, type CosignedHead, CosignedHeadSchema, type StationKeys, type TreeHead, verifyHead } from './tree-head.js';

const closed = { additionalProperties: false } as const;

export const InconsistencySchema = Type.Object(
  {
    kind: Type.Literal('parley-record-inconsistency-v1'),
    reason: Type.Union([
      Type.Literal('LINE_MISMATCH'),
      Type.Literal('SAME_SIZE_DIFFERENT_ROOT'),
      Type.Literal('MALFORMED_HEAD'),
      Type.Literal('BAD_PROOF_ELEMENT'),
      Type.Literal('PROOF_FAILED'),
    ]),
    /** For PROOF_FAILED: what the Merkle verifier objected to. */
    proofFailure: Type.Optional(Type.String()),
    detail: Type.String(),
    /** The head we held (signed earlier), and the one the peer presented. */
    previous: CosignedHeadSchema,
    presented: CosignedHeadSchema,
    /** The consistency proof we were given, from the smaller head to the larger, base64url. */
    proof: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 }),
    /** Sides whose signatures on each head verified, when the keys were known. */
    validSignatures: Type.Optional(Type.Object({ previous: Type.Array(SideSchema), presented: Type.Array(SideSchema) }, closed)),
    /**
     * Sides that validly signed both heads although they cannot both be true (same size,
     * different roots): that station's key vouched for two different histories.
     */
    equivocatedBy: Type.Array(SideSchema),
  },
  closed,
);
/** Evidence that the peer presented a head that does not extend one signed before. Plain JSON: store it as it is. */
export type Inconsistency = Static<typeof InconsistencySchema>;

export type InconsistencyReason = Inconsistency['reason'];
/**
 * LINE_MISMATCH: the heads belong to different lines. SAME_SIZE_DIFFERENT_ROOT: two different
 * trees of one size (a fork). MALFORMED_HEAD: a root that is not a 32-byte hash in canonical
 * base64url. BAD_PROOF_ELEMENT: likewise for a proof element. PROOF_FAILED: the proof does not
 * show the smaller tree to be a prefix of the larger.
 */
export const INCONSISTENCY_REASONS: readonly InconsistencyReason[] = [
  'LINE_MISMATCH',
  'SAME_SIZE_DIFFERENT_ROOT',
  'MALFORMED_HEAD',
  'BAD_PROOF_ELEMENT',
  'PROOF_FAILED',
];

export type PeerHeadCheck = { consistent: true } | { consistent: false; evidence: Inconsistency };

export function validateInconsistency(value: unknown): { ok: true; evidence: Inconsistency } | { ok: false; errors: SchemaError[] } {
  const errors = schemaErrors(InconsistencySchema, value);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, evidence: value as Inconsistency };
}

function validSides(head: CosignedHead, keys: StationKeys | undefined): Side[] | undefined {
  if (!keys) return undefined;
  const verdict = verifyHead(head, keys);
  return SIDES.filter((s) => verdict[s] === 'valid');
}

/**
 * Does `presented` extend (or equal, or precede) `previous`? The proof goes from the smaller
 * of the two sizes to the larger (empty for equal sizes). The heads' signatures are not
 * judged here, only recorded: check the presented head with verifyHead before trusting it, and
 * pass `keys` so the evidence says whose valid signatures it carries and who equivocated.
 */
export function checkPeerHead(
  previous: CosignedHead | TreeHead,
  presented: CosignedHead | TreeHead,
  proof: readonly (Uint8Array | string)[],
  keys?: StationKeys,
): PeerHeadCheck {
  const prev = asCosigned(previous);
  const pres = asCosigned(presented);
  const proofText = proof.map((p) => (typeof p === 'string' ? p : toBase64url(p)));
  const evidence = (reason: InconsistencyReason, detail: string, proofFailure?: ProofFailure): PeerHeadCheck => {
    const previousValid = validSides(prev, keys);
    const presentedValid = validSides(pres, keys);
    const equivocatedBy =
      reason === 'SAME_SIZE_DIFFERENT_ROOT' && previousValid && presentedValid
        ? previousValid.filter((s) => presentedValid.includes(s))
        : [];
    const out: Inconsistency = {
      kind: 'parley-record-inconsistency-v1',
      reason,
      detail,
      previous: structuredClone(prev),
      presented: structuredClone(pres),
      proof: proofText,
      equivocatedBy,
    };
    if (proofFailure) out.proofFailure = proofFailure;
    if (previousValid && presentedValid) out.validSignatures = { previous: previousValid, presented: presentedValid };
    return { consistent: false, evidence: out };
  };

  const a = prev.head;
  const b = pres.head;
  if (a.lineId !== b.lineId) return evidence('LINE_MISMATCH', `the presented head is for line ${b.lineId}, not ${a.lineId}`);
  if (a.size === b.size && a.rootHash !== b.rootHash) {
    return evidence('SAME_SIZE_DIFFERENT_ROOT', `two different roots for size ${a.size}: ${a.rootHash} and ${b.rootHash}`);
  }
  const rootA = fromBase64url(a.rootHash);
  const rootB = fromBase64url(b.rootHash);
  if (rootA?.length !== 32 || rootB?.length !== 32)
    return evidence('MALFORMED_HEAD', 'a head root is not a 32-byte hash in canonical base64url');
  const raw: Uint8Array[] = [];
  for (const p of proof) {
    const bytes = typeof p === 'string' ? fromBase64url(p) : p;
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32)
      return evidence('BAD_PROOF_ELEMENT', 'a proof element is not a 32-byte hash');
    raw.push(bytes);
  }
  const [small, large, smallRoot, largeRoot] = a.size <= b.size ? [a, b, rootA, rootB] : [b, a, rootB, rootA];
  const check = verifyConsistency(small.size, large.size, smallRoot, largeRoot, raw);
  if (!check.ok) {
    return evidence(
      'PROOF_FAILED',
      `the tree of size ${small.size} (root ${small.rootHash}) is not shown to be a prefix of the tree of size ${large.size} (root ${large.rootHash}): ${check.reason}`,
      check.reason,
    );
  }
  return { consistent: true };
}

/**
 * Two heads of one line and one size with different roots, and a side whose valid signature
 * is on both: that side equivocated. Undefined when the heads do not prove it.
 */
export function findEquivocation(a: CosignedHead, b: CosignedHead, keys: StationKeys): Inconsistency | undefined {
  if (a.head.lineId !== b.head.lineId || a.head.size !== b.head.size || a.head.rootHash === b.head.rootHash) return undefined;
  const result = checkPeerHead(a, b, [], keys);
  if (result.consistent || result.evidence.equivocatedBy.length === 0) return undefined;
  return result.evidence;
}

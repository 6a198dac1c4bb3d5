import { SignatureSchema, TreeHeadSchema } from '@parley/record';
import Type, { type Static } from 'typebox';

// The federation messages of the joint record: `POST /fed/v1/lines/:lineId/record/heads`.
// A station sends the head of its own fold, signed with its station key; the peer answers with
// its own signature when its record agrees, with its own head of that size when it does not
// (both keep the evidence), or that it has not folded that far yet.

const closed = { additionalProperties: false } as const;
const Size = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const FedRecordHeadRequest = Type.Object(
  {
    size: Size,
    rootHash: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    at: Type.String({ maxLength: 30 }),
    /** Ed25519 over headSigningBytes({lineId, size, rootHash, at}) of @parley/record. */
    signature: SignatureSchema,
  },
  closed,
);
export type FedRecordHeadRequest = Static<typeof FedRecordHeadRequest>;

export const FedRecordHeadAnswer = Type.Object(
  {
    /**
     * cosigned: our record agrees, `signature` is ours on the same head. pending: we hold only
     * `size` entries; we compare once we reach it. mismatch: our head of that size is `head`
     * (signed, unless we hold back from signing it). held: we do not sign beyond `size` (an alarm).
     */
    status: Type.Union([Type.Literal('cosigned'), Type.Literal('pending'), Type.Literal('mismatch'), Type.Literal('held')]),
    size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    signature: Type.Optional(SignatureSchema),
    head: Type.Optional(TreeHeadSchema),
  },
  closed,
);
export type FedRecordHeadAnswer = Static<typeof FedRecordHeadAnswer>;

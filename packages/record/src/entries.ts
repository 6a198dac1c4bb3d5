// The entries of a line's joint record: metadata facts both stations append in the same order.
// Content never appears here: a ciphertext item is recorded by its SHA-256 only, a readout by
// the SHA-256 of its text.
//
// An entry's leaf in the Merkle tree is leafHash(canonicalBytes(entry)) (see canonical-json.ts):
// the whole entry, its `index` and `at` included, so an entry cannot be moved or re-dated
// without changing its leaf.
import { fromBase64url } from '@parley/protocol/bytes';
import { Handle, Id, LineName } from '@parley/protocol';
import Type, { type Static, type TProperties } from 'typebox';
import { canonicalBytes } from './canonical-json.js';
import { leafHash } from './merkle.js';
import { type SchemaError, schemaErrors } from './schema-check.js';

const closed = { additionalProperties: false } as const;

export const SideSchema = Type.Union([Type.Literal('inviter'), Type.Literal('acceptor')]);
/** The two ends of a line: the station that sent the invitation, and the one that accepted it. */
export type Side = Static<typeof SideSchema>;
export const SIDES: readonly Side[] = ['inviter', 'acceptor'];

/** ISO-8601 UTC with milliseconds, as Date.prototype.toISOString writes it (years 0000–9999). */
export const IsoTime = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$',
  description: 'UTC time, e.g. 2026-03-05T14:07:00.000Z',
});
/** 32 bytes (a SHA-256 digest or a raw Ed25519 public key) as unpadded base64url. */
export const Bytes32 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
/** Ids minted by the call and test cores (calls, talks, tests, readouts). */
export const SubjectId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
export const EntryIndex = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const UrgencySchema = Type.Union([
  Type.Literal('routine'),
  Type.Literal('priority'),
  Type.Literal('immediate'),
  Type.Literal('flash'),
]);
export type Urgency = Static<typeof UrgencySchema>;
export const EscalationLevelSchema = Type.Union([Type.Literal('duty_officer'), Type.Literal('deputy')]);
export const DirectionSchema = Type.Union([Type.Literal('inviter_to_acceptor'), Type.Literal('acceptor_to_inviter')]);
export type Direction = Static<typeof DirectionSchema>;

/** Who caused the entry: a side, and the member's handle when a person did (absent for the station itself). */
export const ActorSchema = Type.Object({ side: SideSchema, handle: Type.Optional(Handle) }, closed);
export type Actor = Static<typeof ActorSchema>;

const common = {
  /** 0-based position in the log; equal to the leaf index. */
  index: EntryIndex,
  /** Assigned by the hub (the inviting station) when it appends the entry; never decreases. */
  at: IsoTime,
  by: ActorSchema,
};

function entrySchema<T extends string, P extends TProperties>(type: T, fields: P) {
  return Type.Object({ ...common, type: Type.Literal(type), ...fields }, closed);
}
const callEvent = <T extends string>(type: T) => entrySchema(type, { callId: SubjectId });
const testEvent = <T extends string>(type: T) => entrySchema(type, { testId: SubjectId });
/** A duration of a line's policy, in milliseconds (the call core checks the finer limits). */
const PolicyMs = Type.Integer({ minimum: 0, maximum: 30 * 24 * 3_600_000 });
const PerUrgencyMs = Type.Object(
  {
    routine: Type.Optional(PolicyMs),
    priority: Type.Optional(PolicyMs),
    immediate: Type.Optional(PolicyMs),
    flash: Type.Optional(PolicyMs),
  },
  closed,
);
/** What a line's policy change set (the settings given; the rest stayed as they were). */
export const PolicyChangeSchema = Type.Object(
  {
    calls: Type.Optional(
      Type.Object(
        {
          ackDeadlineMs: Type.Optional(PerUrgencyMs),
          deputyAfterMs: Type.Optional(PerUrgencyMs),
          requestTtlMs: Type.Optional(PolicyMs),
          clockSkewMs: Type.Optional(PolicyMs),
        },
        closed,
      ),
    ),
    tests: Type.Optional(
      Type.Object(
        {
          intervalMs: Type.Optional(PolicyMs),
          ackDeadlineMs: Type.Optional(PolicyMs),
          senders: Type.Optional(Type.Array(SideSchema, { maxItems: 2 })),
          clockSkewMs: Type.Optional(PolicyMs),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type PolicyChange = Static<typeof PolicyChangeSchema>;

/**
 * One schema per entry type. To add a type: add it here, then follow the compiler (every
 * `switch` over entry types ends in a `never` check) to rules.ts and statements.ts.
 */
export const ENTRY_SCHEMAS = {
  /** Always entry 0, and only there: binds the record to the line and its two station keys. */
  line_linked: entrySchema('line_linked', { lineId: Id, lineName: LineName, inviterKey: Bytes32, acceptorKey: Bytes32 }),
  /** An MLS commit changed the line's group: device ids added and removed, and the new epoch. */
  roster_changed: entrySchema('roster_changed', {
    epoch: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    added: Type.Array(Id, { maxItems: 1000 }),
    removed: Type.Array(Id, { maxItems: 1000 }),
  }),
  // Call events, one per action of the call core (@parley/calls): only the station-visible
  // metadata; topics, reasons and media stay in the end-to-end encrypted body.
  /** The requester is `by` (its handle is required); `to`: the far-side seat asked for, if any. */
  call_requested: entrySchema('call_requested', {
    callId: SubjectId,
    talkId: SubjectId,
    urgency: UrgencySchema,
    to: Type.Optional(Handle),
  }),
  call_acknowledged: callEvent('call_acknowledged'),
  call_accepted: entrySchema('call_accepted', { callId: SubjectId, scheduledFor: Type.Optional(IsoTime) }),
  call_declined: callEvent('call_declined'),
  call_cancelled: callEvent('call_cancelled'),
  call_expired: callEvent('call_expired'),
  /** A mark, not an end: nobody acknowledged in time (a late answer may still follow). */
  call_unanswered: callEvent('call_unanswered'),
  /** The far side's duty officers, then deputies, were alerted. */
  call_escalated: entrySchema('call_escalated', { callId: SubjectId, level: EscalationLevelSchema }),
  call_ringing: callEvent('call_ringing'),
  call_connected: callEvent('call_connected'),
  call_joined: callEvent('call_joined'),
  call_left: callEvent('call_left'),
  call_ended: callEvent('call_ended'),
  test_sent: testEvent('test_sent'),
  test_acknowledged: testEvent('test_acknowledged'),
  test_unanswered: testEvent('test_unanswered'),
  /** A principal or administrator (`by`, handle required) changed the line's deadlines or test schedule. */
  policy_set: entrySchema('policy_set', { policy: PolicyChangeSchema }),
  /** A side published its readout; `by.side` is whose readout it is. `cites`: indices of the contact entries it describes. */
  readout_published: entrySchema('readout_published', {
    readoutId: SubjectId,
    contentHash: Bytes32,
    cites: Type.Optional(Type.Array(EntryIndex, { maxItems: 1000 })),
  }),
  /** A batch of ciphertext items in one direction, by sequence number and SHA-256 of the item bytes. */
  items: entrySchema('items', {
    dir: DirectionSchema,
    hashes: Type.Array(Type.Object({ seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), sha256: Bytes32 }, closed), {
      minItems: 1,
      maxItems: 10000,
    }),
  }),
} as const;

export type EntryType = keyof typeof ENTRY_SCHEMAS;
export const ENTRY_TYPES = Object.keys(ENTRY_SCHEMAS) as EntryType[];
export type RecordEntry = { [K in EntryType]: Static<(typeof ENTRY_SCHEMAS)[K]> }[EntryType];
export type EntryOf<K extends EntryType> = Extract<RecordEntry, { type: K }>;
/** An entry's event fields, without the common ones (what a state machine hands to the log). */
export type EntryEvent = RecordEntry extends infer E ? (E extends RecordEntry ? Omit<E, 'index' | 'at' | 'by'> : never) : never;
export type CallEntry = Extract<RecordEntry, { callId: string }>;
export type TestEntry = Extract<RecordEntry, { testId: string }>;

/** The union as one JSON Schema (for documentation and other tools; validateEntry checks per type for precise errors). */
export const RecordEntrySchema = Type.Union(Object.values(ENTRY_SCHEMAS));

function isEntryType(value: unknown): value is EntryType {
  return typeof value === 'string' && Object.hasOwn(ENTRY_SCHEMAS, value);
}

/** True when `text` is the time Date itself would write for it (rejects 2026-02-30 and the like). */
export function isRealTime(text: string): boolean {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString() === text;
}

function is32Bytes(text: string): boolean {
  return fromBase64url(text)?.length === 32;
}

export type EntryCheck = { ok: true; entry: RecordEntry } | { ok: false; errors: SchemaError[] };

/**
 * Check an untrusted value as a record entry: the closed schema of its type, then what a
 * schema cannot say (real dates, canonical base64url, ordered sequence numbers, …). Every
 * problem is listed with its JSON pointer. Rules about the entry's place in the log are in
 * rules.ts.
 */
export function validateEntry(value: unknown): EntryCheck {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (!isEntryType(type)) {
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : 'missing';
    return { ok: false, errors: [{ path: '/type', message: `unknown entry type (${shown}); expected one of ${ENTRY_TYPES.join(', ')}` }] };
  }
  const errors = schemaErrors(ENTRY_SCHEMAS[type], value);
  if (errors.length > 0) return { ok: false, errors };
  const entry = value as RecordEntry;
  const problems: SchemaError[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  if (!isRealTime(entry.at)) problem('/at', 'is not a real UTC time');
  switch (entry.type) {
    case 'line_linked':
      if (!is32Bytes(entry.inviterKey)) problem('/inviterKey', 'is not a 32-byte key in canonical base64url');
      if (!is32Bytes(entry.acceptorKey)) problem('/acceptorKey', 'is not a 32-byte key in canonical base64url');
      if (entry.inviterKey === entry.acceptorKey) problem('/acceptorKey', 'equals the inviter key: a line joins two stations');
      break;
    case 'roster_changed': {
      const added = new Set(entry.added);
      if (added.size !== entry.added.length) problem('/added', 'lists a device twice');
      if (new Set(entry.removed).size !== entry.removed.length) problem('/removed', 'lists a device twice');
      entry.removed.forEach((d, i) => {
        if (added.has(d)) problem(`/removed/${i}`, `device ${d} is both added and removed`);
      });
      break;
    }
    case 'call_requested':
      if (entry.by.handle === undefined) problem('/by/handle', 'a call request names the member who made it');
      break;
    case 'policy_set':
      if (entry.by.handle === undefined) problem('/by/handle', 'a policy change names the member who made it');
      break;
    case 'call_accepted':
      if (entry.scheduledFor !== undefined && !isRealTime(entry.scheduledFor)) problem('/scheduledFor', 'is not a real UTC time');
      break;
    case 'readout_published':
      if (!is32Bytes(entry.contentHash)) problem('/contentHash', 'is not a SHA-256 digest in canonical base64url');
      if (entry.cites && new Set(entry.cites).size !== entry.cites.length) problem('/cites', 'cites an entry twice');
      break;
    case 'items':
      entry.hashes.forEach((h, i) => {
        if (!is32Bytes(h.sha256)) problem(`/hashes/${i}/sha256`, 'is not a SHA-256 digest in canonical base64url');
        if (i > 0 && h.seq <= entry.hashes[i - 1]!.seq) problem(`/hashes/${i}/seq`, 'sequence numbers in a batch must increase');
      });
      break;
    case 'call_acknowledged':
    case 'call_declined':
    case 'call_cancelled':
    case 'call_expired':
    case 'call_unanswered':
    case 'call_escalated':
    case 'call_ringing':
    case 'call_connected':
    case 'call_joined':
    case 'call_left':
    case 'call_ended':
    case 'test_sent':
    case 'test_acknowledged':
    case 'test_unanswered':
      break;
    default:
      return unreachable(entry);
  }
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, entry };
}

/** The bytes an entry's leaf hashes: its canonical JSON (canonical-json.ts) in UTF-8. */
export function entryBytes(entry: RecordEntry): Uint8Array {
  return canonicalBytes(entry);
}

/** The entry's Merkle leaf hash: SHA-256(0x00 || entryBytes(entry)). */
export function entryLeafHash(entry: RecordEntry): Uint8Array {
  return leafHash(entryBytes(entry));
}

/**
 * A "contact": what a readout may cite. Call events and message traffic are contacts; line
 * set-up, roster changes, liveness tests and other readouts are not.
 */
export function isContact(entry: RecordEntry): boolean {
  switch (entry.type) {
    case 'call_requested':
    case 'call_acknowledged':
    case 'call_accepted':
    case 'call_declined':
    case 'call_cancelled':
    case 'call_expired':
    case 'call_unanswered':
    case 'call_escalated':
    case 'call_ringing':
    case 'call_connected':
    case 'call_joined':
    case 'call_left':
    case 'call_ended':
    case 'items':
      return true;
    case 'line_linked':
    case 'roster_changed':
    case 'test_sent':
    case 'test_acknowledged':
    case 'test_unanswered':
    case 'policy_set':
    case 'readout_published':
      return false;
    default:
      return unreachable(entry);
  }
}

export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

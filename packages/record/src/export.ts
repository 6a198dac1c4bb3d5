// The export file (`parley record export`) and its offline verification (`parley record
// verify FILE`): given only the two station public keys, say what the file proves, or
// exactly what is wrong with it.
import { Id, LineName, stationFingerprint } from '@parley/protocol';
import { fromBase64url, toBase64url, toHex } from '@parley/protocol/bytes';
import Type, { type Static, type TSchema } from 'typebox';
import { canonicalBytes } from './canonical-json.js';
import {
  Bytes32,
  EntryIndex,
  IsoTime,
  isRealTime,
  type RecordEntry,
  RecordEntrySchema,
  SIDES,
  type Side,
  validateEntry,
} from './entries.js';
import { RecordError } from './errors.js';
import { bytesEqual, leafHash, MerkleTree, verifyConsistency, verifyInclusion } from './merkle.js';
import type { RecordLog } from './record-log.js';
import { RecordRules } from './rules.js';
import { schemaErrors } from './schema-check.js';
import { type RecordSummary, statementsOf, summarize } from './statements.js';
import {
  type CosignedHead,
  CosignedHeadSchema,
  headRoot,
  keyOf,
  type StationKeys,
  type TreeHead,
  treeHeadProblems,
  validateCosignedHead,
  verifyHead,
} from './tree-head.js';

export const EXPORT_FORMAT = 'parley-record-export-v1';

const closed = { additionalProperties: false } as const;
const StationInfoSchema = Type.Object({ key: Bytes32, fingerprint: Type.String({ maxLength: 64 }) }, closed);
/** A Merkle proof: 32-byte hashes, base64url. 64 elements reach beyond any safe-integer size. */
const ProofSchema = Type.Array(Bytes32, { maxItems: 64 });

function exportSchema<E extends TSchema>(entry: E) {
  return Type.Object(
    {
      format: Type.Literal(EXPORT_FORMAT),
      line: Type.Object({ id: Id, name: LineName }, closed),
      /** Both stations' raw Ed25519 public keys and their fingerprints (as people compare them). */
      stations: Type.Object({ inviter: StationInfoSchema, acceptor: StationInfoSchema }, closed),
      exportedAt: IsoTime,
      /** Every entry of the log, in index order (some may lie beyond the last head). */
      entries: Type.Array(entry, { maxItems: 10_000_000 }),
      /** Heads signed by both stations, in increasing size. */
      heads: Type.Array(CosignedHeadSchema, { maxItems: 1_000_000 }),
      /** consistency[i] proves heads[i] is a prefix of heads[i + 1]. */
      consistency: Type.Array(Type.Object({ from: EntryIndex, to: EntryIndex, proof: ProofSchema }, closed), { maxItems: 1_000_000 }),
      /** One inclusion proof per entry covered by the last head, against that head. */
      inclusion: Type.Array(Type.Object({ index: EntryIndex, proof: ProofSchema }, closed), { maxItems: 10_000_000 }),
    },
    closed,
  );
}

/** The export file as one JSON Schema, entries included (for documentation and other tools). */
export const RecordExportSchema = exportSchema(RecordEntrySchema);
// The verifier checks the envelope first and each entry on its own, so a bad entry is named by
// its index instead of drowning in the union's alternatives.
const EnvelopeSchema = exportSchema(Type.Unknown());
type Envelope = Static<typeof EnvelopeSchema>;
export type RecordExport = Omit<Envelope, 'entries'> & { entries: RecordEntry[] };

export interface ExportMeta {
  inviterKey: Uint8Array | string;
  acceptorKey: Uint8Array | string;
  exportedAt: string;
}

/**
 * Build the export of `log` with its cosigned heads. Heads not yet signed by both sides are
 * left out (they do not count); a head with a signature that does not verify, for another
 * line, or whose root is not the log's root at its size, is refused (that is a fault to
 * investigate, not to export around).
 */
export function buildExport(log: RecordLog, heads: readonly CosignedHead[], meta: ExportMeta): RecordExport {
  if (log.size === 0) throw new RecordError('OUT_OF_RANGE', 'an empty log has nothing to export');
  const first = log.entry(0);
  if (first.type !== 'line_linked') throw new RecordError('ENTRY_INVALID', 'entry 0 of the log does not link the line');
  if (!isRealTime(meta.exportedAt)) throw new RecordError('MALFORMED', 'exportedAt is not an ISO-8601 UTC time with milliseconds');
  const keys = { inviterKey: meta.inviterKey, acceptorKey: meta.acceptorKey };
  for (const side of SIDES) {
    const key = keyOf(keys, side);
    const linked = side === 'inviter' ? first.inviterKey : first.acceptorKey;
    if (!key || toBase64url(key) !== linked) throw new RecordError('UNKNOWN_KEY', `the ${side} key given is not the one entry 0 links`);
  }
  const kept = new Map<number, CosignedHead>();
  for (const h of heads) {
    const form = validateCosignedHead(h);
    if (!form.ok) throw new RecordError('MALFORMED', `a head is malformed (${form.errors[0]?.path}: ${form.errors[0]?.message})`);
    if (h.head.lineId !== log.lineId)
      throw new RecordError('LINE_MISMATCH', `a head of line ${h.head.lineId} given for line ${log.lineId}`);
    if (h.head.size > log.size) throw new RecordError('OUT_OF_RANGE', `a head of size ${h.head.size} is beyond the log (${log.size})`);
    if (h.head.rootHash !== log.rootHash(h.head.size)) {
      throw new RecordError(
        'ROOT_MISMATCH',
        `the head of size ${h.head.size} has root ${h.head.rootHash}, the log ${log.rootHash(h.head.size)}`,
      );
    }
    const verdict = verifyHead(h, keys);
    if (verdict.invalid.length > 0) {
      throw new RecordError(
        'BAD_SIGNATURE',
        `the ${verdict.invalid.join(' and ')} signature on the head of size ${h.head.size} does not verify`,
      );
    }
    if (!verdict.cosigned) continue;
    const earlier = kept.get(h.head.size);
    if (!earlier || h.head.at < earlier.head.at) kept.set(h.head.size, h);
  }
  const chosen = [...kept.values()].sort((a, b) => a.head.size - b.head.size);
  const consistency = chosen.slice(1).map((h, i) => {
    const from = chosen[i]!.head.size;
    return { from, to: h.head.size, proof: log.consistencyProof(from, h.head.size).map(toBase64url) };
  });
  const lastSize = chosen[chosen.length - 1]?.head.size ?? 0;
  const inclusion = Array.from({ length: lastSize }, (_, index) => ({
    index,
    proof: log.inclusionProof(index, lastSize).map(toBase64url),
  }));
  const fingerprint = (k: string) => stationFingerprint(fromBase64url(k)!);
  return {
    format: EXPORT_FORMAT,
    line: { id: first.lineId, name: first.lineName },
    stations: {
      inviter: { key: first.inviterKey, fingerprint: fingerprint(first.inviterKey) },
      acceptor: { key: first.acceptorKey, fingerprint: fingerprint(first.acceptorKey) },
    },
    exportedAt: meta.exportedAt,
    entries: structuredClone([...log.entries()]),
    heads: chosen.map((h) => structuredClone(h)),
    consistency,
    inclusion,
  };
}

/** Stable codes of what `verifyExport` can find wrong. Never renamed; new ones may be added. */
export type FailureCode =
  | 'MALFORMED' // not JSON, or a field does not match the format (path says where)
  | 'UNKNOWN_KEY' // the file's station keys (or entry 0's) are not the keys given to the verifier
  | 'LINE_MISMATCH' // a head or entry 0 names another line than the file
  | 'BAD_SIGNATURE' // a head signature does not verify under the given key of that side
  | 'HEAD_SIGNED_BY_ONE_SIDE' // a head lacks one side's signature
  | 'HEAD_UNSIGNED' // a head lacks both signatures
  | 'NO_COSIGNED_HEAD' // the file has no head at all: it proves nothing
  | 'ENTRY_TAMPERED' // an entry's leaf fails its inclusion proof: it is not what the heads signed
  | 'ENTRY_OUT_OF_ORDER' // an entry missing, duplicated, misplaced, or dated earlier than the one before it (or later than the head covering it)
  | 'ENTRY_INVALID' // an authentic entry that breaks a rule of the record (call answered before requested, …)
  | 'ROOT_MISMATCH' // the entries recompute to another root than a head's, with no single entry to blame
  | 'INCONSISTENT_HEADS' // two successive heads are not one log growing (failed consistency proof, or two roots for one size)
  | 'CITATION_MISSING' // a readout cites an entry that does not exist before it, or that is not a contact
  | 'ENTRIES_BEYOND_HEAD'; // warning: entries no cosigned head covers yet; they prove nothing

export interface VerifyFailure {
  code: FailureCode;
  /** 'warning' does not make the file fail; it limits what it proves. */
  severity: 'error' | 'warning';
  message: string;
  entryIndex?: number;
  headSize?: number;
  side?: Side;
  /** JSON pointer into the file, for MALFORMED. */
  path?: string;
}

export interface StationSummary {
  key: string;
  fingerprint: string;
}

export type VerifyResult =
  | {
      ok: true;
      line: { id: string; name: string };
      stations: { inviter: StationSummary; acceptor: StationSummary };
      /** Entries proven: the size of the last cosigned head. */
      size: number;
      /** The cosigned heads, in increasing size. */
      heads: TreeHead[];
      statements: string[];
      summary: RecordSummary;
      warnings: VerifyFailure[];
    }
  | {
      ok: false;
      line?: { id: string; name: string };
      stations?: { inviter: StationSummary; acceptor: StationSummary };
      /** Every problem found, errors first in the order checked, then warnings. */
      failures: VerifyFailure[];
    };

function range(from: number, to: number): string {
  return from === to ? `entry ${from}` : `entries ${from}–${to}`;
}

function claimedIndex(raw: unknown): number | undefined {
  const i = typeof raw === 'object' && raw !== null ? (raw as { index?: unknown }).index : undefined;
  return typeof i === 'number' && Number.isSafeInteger(i) && i >= 0 ? i : undefined;
}

function decodeProof(proof: readonly string[]): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (const p of proof) {
    const b = fromBase64url(p);
    if (b?.length !== 32) return undefined;
    out.push(b);
  }
  return out;
}

/**
 * Check an export offline with the two station public keys (raw bytes or base64url), and say
 * what it proves. `input` is the parsed JSON, or its text. Never throws on bad input; reports
 * every problem it finds, not only the first.
 */
export function verifyExport(input: unknown, keys: StationKeys): VerifyResult {
  const failures: VerifyFailure[] = [];
  const add: Report = (code, message, at = {}) =>
    failures.push({ code, severity: code === 'ENTRIES_BEYOND_HEAD' ? 'warning' : 'error', message, ...at });
  const sorted = () => [...failures.filter((f) => f.severity === 'error'), ...failures.filter((f) => f.severity === 'warning')];

  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      add('MALFORMED', `the file is not JSON (${(e as Error).message})`, { path: '' });
      return { ok: false, failures: sorted() };
    }
  }
  const envelopeErrors = schemaErrors(EnvelopeSchema, value);
  if (envelopeErrors.length > 0) {
    for (const e of envelopeErrors) add('MALFORMED', `${e.path || '/'}: ${e.message}`, { path: e.path });
    return { ok: false, failures: sorted() };
  }
  const file = value as Envelope;
  const stations = { inviter: { ...file.stations.inviter }, acceptor: { ...file.stations.acceptor } };

  const keyOk = checkStationKeys(file, keys, add);
  const entries = checkEntries(file, add);
  const heads = checkHeads(file, keys, keyOk, add);
  checkHeadChain(file, heads, add);
  const coverage = checkInclusion(file, entries, heads, add);
  checkRoots(file, heads, coverage, add);
  checkHeadTimes(file, entries, add);

  if (failures.some((f) => f.severity === 'error')) return { ok: false, line: { ...file.line }, stations, failures: sorted() };
  const proven = [...entries.byIndex.values()].filter((e) => e.index < heads.lastSize).sort((a, b) => a.index - b.index);
  return {
    ok: true,
    line: { ...file.line },
    stations,
    size: heads.lastSize,
    heads: file.heads.map((h) => ({ ...h.head })),
    statements: statementsOf(proven),
    summary: summarize(proven),
    warnings: failures,
  };
}

type Report = (code: FailureCode, message: string, at?: Omit<VerifyFailure, 'code' | 'message' | 'severity'>) => void;

/** The file's station keys must be the ones the verifier was given (and match their fingerprints). */
function checkStationKeys(file: Envelope, keys: StationKeys, add: Report): Record<Side, boolean> {
  const keyOk: Record<Side, boolean> = { inviter: false, acceptor: false };
  for (const side of SIDES) {
    const given = keyOf(keys, side);
    const inFile = fromBase64url(file.stations[side].key);
    if (inFile?.length !== 32) {
      add('MALFORMED', `/stations/${side}/key: not a 32-byte key in canonical base64url`, { path: `/stations/${side}/key`, side });
      continue;
    }
    if (file.stations[side].fingerprint !== stationFingerprint(inFile)) {
      const path = `/stations/${side}/fingerprint`;
      add('MALFORMED', `${path}: is not the fingerprint of the ${side} key in the file`, { path, side });
    }
    if (!given) {
      add('UNKNOWN_KEY', `the ${side} key given to the verifier is not a 32-byte Ed25519 public key`, { side });
    } else if (!bytesEqual(given, inFile)) {
      add(
        'UNKNOWN_KEY',
        `the file names ${side} station ${stationFingerprint(inFile)}, not the key given (${stationFingerprint(given)}); ` +
          `no head is shown to be signed by the ${side} station you named`,
        { side },
      );
    } else {
      keyOk[side] = true;
    }
  }
  return keyOk;
}

interface EntryFacts {
  /** Per file position: the entry's leaf hash (also for a malformed entry, when it has a canonical form). */
  leaves: (Uint8Array | undefined)[];
  /** Per file position: the index the entry claims. */
  claimed: (number | undefined)[];
  /** Well-formed entries by index (the first one, if an index repeats). */
  byIndex: Map<number, RecordEntry>;
}

/** Each entry's form, the record's rules over them in file order, and entry 0 against the file. */
function checkEntries(file: Envelope, add: Report): EntryFacts {
  const facts: EntryFacts = { leaves: [], claimed: [], byIndex: new Map() };
  const rules = new RecordRules();
  file.entries.forEach((raw, position) => {
    const claimed = claimedIndex(raw);
    facts.claimed.push(claimed);
    try {
      facts.leaves.push(leafHash(canonicalBytes(raw)));
    } catch {
      facts.leaves.push(undefined);
    }
    const checked = validateEntry(raw);
    if (!checked.ok) {
      const index = claimed ?? position;
      for (const e of checked.errors) {
        add('MALFORMED', `entry ${index}: ${e.path || '/'}: ${e.message}`, { entryIndex: index, path: `/entries/${position}${e.path}` });
      }
      return;
    }
    const entry = checked.entry;
    for (const v of rules.check(entry)) add(v.code, v.message, { entryIndex: v.entryIndex });
    rules.accept(entry);
    if (!facts.byIndex.has(entry.index)) facts.byIndex.set(entry.index, entry);
  });

  const first = facts.byIndex.get(0);
  if (first?.type === 'line_linked') {
    if (first.lineId !== file.line.id || first.lineName !== file.line.name) {
      const message = `entry 0 links line ${first.lineName} (${first.lineId}), but the file is for ${file.line.name} (${file.line.id})`;
      add('LINE_MISMATCH', message, { entryIndex: 0 });
    }
    for (const side of SIDES) {
      const linked = side === 'inviter' ? first.inviterKey : first.acceptorKey;
      if (linked !== file.stations[side].key)
        add('UNKNOWN_KEY', `entry 0 links another ${side} key than the file names`, { entryIndex: 0, side });
    }
  }
  return facts;
}

interface HeadFacts {
  /** Per head: its form is sound (a real time, a decodable root), so its root can be used. */
  sound: boolean[];
  /** Size of the last head (0 when there is none or it is unsound): what the inclusion proofs prove against. */
  lastSize: number;
  lastRoot: Uint8Array | undefined;
}

/** Each head: form, line, both signatures under the given keys, increasing sizes. */
function checkHeads(file: Envelope, keys: StationKeys, keyOk: Record<Side, boolean>, add: Report): HeadFacts {
  if (file.heads.length === 0) add('NO_COSIGNED_HEAD', 'the file holds no signed head: it proves nothing');
  const sound: boolean[] = [];
  file.heads.forEach((h, q) => {
    const size = h.head.size;
    const problems = treeHeadProblems(h.head, `/heads/${q}/head`);
    for (const p of problems) add('MALFORMED', `head of size ${size}: ${p.path}: ${p.message}`, { headSize: size, path: p.path });
    sound.push(problems.length === 0);
    if (h.head.lineId !== file.line.id) {
      add('LINE_MISMATCH', `the head of size ${size} is for line ${h.head.lineId}, not ${file.line.id}`, { headSize: size });
    }
    const verdict = verifyHead(h, keys);
    for (const side of verdict.invalid) {
      // Under a key that is not the file's, every signature fails: UNKNOWN_KEY already says so.
      if (keyOk[side]) add('BAD_SIGNATURE', `the ${side} signature on the head of size ${size} does not verify`, { headSize: size, side });
    }
    if (verdict.missing.length === 2) add('HEAD_UNSIGNED', `the head of size ${size} carries no signature`, { headSize: size });
    for (const side of verdict.missing.length === 1 ? verdict.missing : []) {
      const message = `the head of size ${size} lacks the ${side} signature: only one station vouches for it`;
      add('HEAD_SIGNED_BY_ONE_SIDE', message, { headSize: size, side });
    }
    const prev = file.heads[q - 1];
    if (prev && size === prev.head.size && h.head.rootHash !== prev.head.rootHash) {
      add('INCONSISTENT_HEADS', `two heads of size ${size} with different roots: the record forked`, { headSize: size });
    } else if (prev && size <= prev.head.size) {
      const path = `/heads/${q}`;
      add('MALFORMED', `${path}: heads must be listed in increasing size (${prev.head.size}, then ${size})`, { headSize: size, path });
    }
  });
  const lastAt = file.heads.length - 1;
  const last = file.heads[lastAt];
  const lastSize = last && sound[lastAt] ? last.head.size : 0;
  return { sound, lastSize, lastRoot: last && lastSize > 0 ? headRoot(last.head) : undefined };
}

/** Each head extends the one before, by the consistency proof between them. */
function checkHeadChain(file: Envelope, heads: HeadFacts, add: Report): void {
  const n = file.heads.length;
  if (n > 0 && file.consistency.length !== n - 1) {
    add('MALFORMED', `/consistency: ${n} heads need ${n - 1} consistency proofs, not ${file.consistency.length}`, { path: '/consistency' });
  }
  file.consistency.forEach((c, q) => {
    const a = file.heads[q];
    const b = file.heads[q + 1];
    if (!a || !b) return;
    if (c.from !== a.head.size || c.to !== b.head.size) {
      const path = `/consistency/${q}`;
      add('MALFORMED', `${path}: proves ${c.from}→${c.to}, but the heads are of size ${a.head.size} and ${b.head.size}`, { path });
      return;
    }
    if (!heads.sound[q] || !heads.sound[q + 1] || a.head.size >= b.head.size) return;
    const proof = decodeProof(c.proof);
    const check = proof ? verifyConsistency(a.head.size, b.head.size, headRoot(a.head), headRoot(b.head), proof) : undefined;
    if (!check?.ok) {
      add(
        'INCONSISTENT_HEADS',
        `the heads of size ${a.head.size} and ${b.head.size} are not one log growing: their consistency proof fails (${check?.reason ?? 'BAD_HASH_LENGTH'})`,
        { headSize: b.head.size },
      );
    }
  });
}

interface Coverage {
  /** The entries in file order while each sits at its own index: the tree they recompute. */
  inPlace: MerkleTree;
  /** The smallest index that is missing or tampered (Infinity when none). */
  firstBad: number;
}

/**
 * Every entry under the last head, by its own inclusion proof, so a changed entry is named;
 * indices the heads cover but the file lacks; entries no head covers yet.
 */
function checkInclusion(file: Envelope, entries: EntryFacts, heads: HeadFacts, add: Report): Coverage {
  const { lastSize, lastRoot } = heads;
  const proofs = new Map<number, readonly string[]>();
  file.inclusion.forEach((p, q) => {
    const path = `/inclusion/${q}`;
    if (proofs.has(p.index)) add('MALFORMED', `${path}: a second proof for entry ${p.index}`, { path, entryIndex: p.index });
    else if (p.index >= lastSize) add('MALFORMED', `${path}: entry ${p.index} is beyond the last head (size ${lastSize})`, { path });
    else proofs.set(p.index, p.proof);
  });

  // When the entries in place recompute the last head's root, every one of them is authentic,
  // and a failing inclusion proof is the proof's fault, not the entry's.
  const inPlace = new MerkleTree();
  for (let p = 0; p < entries.leaves.length; p++) {
    const leaf = entries.leaves[p];
    if (!leaf || entries.claimed[p] !== p) break;
    inPlace.append(leaf);
  }
  const allAuthentic = lastRoot !== undefined && inPlace.size >= lastSize && bytesEqual(inPlace.root(lastSize), lastRoot);

  let firstBad = Number.POSITIVE_INFINITY;
  const beyond: number[] = [];
  entries.claimed.forEach((index, position) => {
    if (index === undefined) return; // MALFORMED already
    if (index >= lastSize) {
      beyond.push(index);
      return;
    }
    const leaf = entries.leaves[position];
    const proofText = proofs.get(index);
    if (!proofText) {
      add('MALFORMED', `/inclusion: no inclusion proof for entry ${index}`, { path: '/inclusion', entryIndex: index });
      return;
    }
    const proof = decodeProof(proofText);
    const check = leaf && proof && lastRoot ? verifyInclusion(index, lastSize, leaf, proof, lastRoot) : undefined;
    if (check?.ok) return;
    if (allAuthentic) {
      const message = `/inclusion: the proof of entry ${index} is wrong (the entry itself is authentic: the entries recompute the head's root)`;
      add('MALFORMED', message, { path: '/inclusion', entryIndex: index });
      return;
    }
    firstBad = Math.min(firstBad, index);
    add(
      'ENTRY_TAMPERED',
      `entry ${index} is not what the heads signed: its leaf ${leaf ? toHex(leaf).slice(0, 16) : '(none)'}… fails its inclusion proof in the head of size ${lastSize}`,
      { entryIndex: index, headSize: lastSize },
    );
  });

  // Gaps, walked between the indices present (never index by index: a claimed index may be huge).
  const present = [...new Set(entries.claimed.filter((i): i is number => i !== undefined))].sort((a, b) => a - b);
  const end = Math.max(lastSize, (present[present.length - 1] ?? -1) + 1);
  let expected = 0;
  for (const next of [...present, end]) {
    if (next > expected) {
      const [from, to] = [expected, next - 1];
      const covered = from < lastSize ? ` (the head of size ${lastSize} covers ${from === to ? 'it' : 'them'})` : '';
      add('ENTRY_OUT_OF_ORDER', `${range(from, to)} ${from === to ? 'is' : 'are'} missing from the file${covered}`, { entryIndex: from });
      firstBad = Math.min(firstBad, from);
    }
    expected = next + 1;
  }

  if (beyond.length > 0) {
    const from = beyond.reduce((x, y) => Math.min(x, y));
    const to = beyond.reduce((x, y) => Math.max(x, y));
    const they = from === to ? 'it proves' : 'they prove';
    add(
      'ENTRIES_BEYOND_HEAD',
      `${range(from, to)} ${from === to ? 'is' : 'are'} not covered by a head both stations signed: ${they} nothing yet`,
      {
        entryIndex: from,
      },
    );
  }
  return { inPlace, firstBad };
}

/**
 * Each head's root, recomputed from the entries themselves, independently of the proofs. Only
 * where no missing or tampered entry already explains a difference.
 */
function checkRoots(file: Envelope, heads: HeadFacts, coverage: Coverage, add: Report): void {
  file.heads.forEach((h, q) => {
    const size = h.head.size;
    if (!heads.sound[q] || size > coverage.inPlace.size || size > coverage.firstBad) return;
    if (!bytesEqual(coverage.inPlace.root(size), headRoot(h.head))) {
      add('ROOT_MISMATCH', `the entries 0–${size - 1} hash to another root than the head of size ${size} signs`, { headSize: size });
    }
  });
}

/** No head may cover an entry dated after the head was cut. */
function checkHeadTimes(file: Envelope, entries: EntryFacts, add: Report): void {
  for (const h of file.heads) {
    const lastCovered = h.head.size > 0 ? entries.byIndex.get(h.head.size - 1) : undefined;
    if (lastCovered && lastCovered.at > h.head.at) {
      add(
        'ENTRY_OUT_OF_ORDER',
        `entry ${lastCovered.index} is dated ${lastCovered.at}, after the head of size ${h.head.size} that covers it (${h.head.at})`,
        {
          entryIndex: lastCovered.index,
          headSize: h.head.size,
        },
      );
    }
  }
}

/** The text `parley record verify` prints. */
export function formatReport(result: VerifyResult): string {
  const lines: string[] = [];
  const title = result.line ? `Joint record of line ${result.line.name} (${result.line.id})` : 'Joint record';
  if (result.ok) lines.push(`${title}: VERIFIED`);
  else {
    const errors = result.failures.filter((f) => f.severity === 'error').length;
    const notes = result.failures.length - errors;
    lines.push(`${title}: NOT VERIFIED (${plural(errors, 'problem')}${notes > 0 ? `, ${plural(notes, 'note')}` : ''})`);
  }
  if (result.stations) {
    lines.push(`  inviter station   ${result.stations.inviter.fingerprint}`);
    lines.push(`  acceptor station  ${result.stations.acceptor.fingerprint}`);
  }
  const problemLine = (f: VerifyFailure) => {
    const where = f.entryIndex !== undefined ? `entry ${f.entryIndex}` : f.headSize !== undefined ? `head ${f.headSize}` : '';
    return `  ${f.code.padEnd(24)}${where ? `${where.padEnd(11)}` : ''.padEnd(11)}${f.message}`;
  };
  if (result.ok) {
    const lastHead = result.heads[result.heads.length - 1];
    lines.push(
      `  ${plural(result.size, 'entry', 'entries')} under ${plural(result.heads.length, 'head')} signed by both stations` +
        (lastHead ? `; the last cut at ${lastHead.at}, root ${lastHead.rootHash}` : ''),
    );
    lines.push('', 'What it proves:');
    if (result.statements.length === 0) lines.push('  nothing yet');
    for (const s of result.statements) lines.push(`  - ${s}`);
    if (result.warnings.length > 0) {
      lines.push('', 'Notes:');
      for (const w of result.warnings) lines.push(problemLine(w));
    }
  } else {
    lines.push('', 'Problems:');
    for (const f of result.failures) lines.push(problemLine(f));
    lines.push('', 'Nothing in this file is proven until every problem above is explained.');
  }
  return `${lines.join('\n')}\n`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

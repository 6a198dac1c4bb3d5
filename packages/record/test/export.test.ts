// The export as a user meets it: `parley record export` builds it, `parley record verify FILE`
// checks it with only the two station keys. Every tampering is named with its code and place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64url } from '@parley/protocol/bytes';
import {
  buildExport,
  formatReport,
  makeHead,
  type RecordExport,
  RecordLog,
  type VerifyFailure,
  type VerifyResult,
  verifyExport,
} from '../src/index.js';
import { clone, cosignBoth, headsAt, keysOf, LINE_ID, logOf, newPair, newStation, type Pair, sign, story, t } from './helpers.js';

const pair = newPair();
const keys = keysOf(pair);
const log = logOf(story(pair));
const heads = headsAt(log, pair, [5, 12, 17]);
const exported = buildExport(log, heads, { ...keys, exportedAt: t(59, 59) });

function failuresOf(result: VerifyResult): VerifyFailure[] {
  assert.equal(result.ok, false, 'the tampered export was accepted');
  return result.ok ? [] : result.failures;
}

/** The failures as [code, entryIndex | headSize] pairs, for exact comparison. */
function brief(result: VerifyResult): [string, number | undefined, string?][] {
  return failuresOf(result).map((f) => (f.side ? [f.code, f.entryIndex ?? f.headSize, f.side] : [f.code, f.entryIndex ?? f.headSize]));
}

test('a built and signed export verifies and says who requested which call and when', () => {
  const result = verifyExport(JSON.parse(JSON.stringify(exported)), keys);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.failures, null, 1));
  assert.equal(result.size, 17);
  assert.deepEqual(
    result.heads.map((h) => h.size),
    [5, 12, 17],
  );
  assert.deepEqual(result.warnings, []);
  assert.ok(
    result.statements.includes(
      'call c1 (flash, talk k1) requested by inviter/chief for acceptor/general at 2026-03-05T14:04:00.000Z; ' +
        'acknowledged by acceptor/duty at 2026-03-05T14:04:20.000Z; accepted by acceptor/general at 2026-03-05T14:05:00.000Z; ' +
        'ringing by inviter station at 2026-03-05T14:05:10.000Z; connected by acceptor/general at 2026-03-05T14:05:15.000Z; ' +
        'ended by inviter/chief at 2026-03-05T14:25:00.000Z',
    ),
    result.statements.join('\n'),
  );
  assert.ok(
    result.statements.includes(
      'call c2 (routine, talk k2) requested by acceptor/duty at 2026-03-05T14:45:00.000Z; declined by inviter/chief at 2026-03-05T14:50:00.000Z',
    ),
  );
  const readout = result.statements.find((s) => s.startsWith('readout r1'));
  assert.match(
    readout ?? '',
    /^readout r1 of the acceptor side published by acceptor\/press at 2026-03-05T14:40:00.000Z .* citing entry 4 \(call c1 requested\), entry 8 \(call c1 connected\), entry 11 \(call c1 ended\)$/,
  );
  assert.ok(
    result.statements.includes(
      'test t2 sent by inviter station at 2026-03-05T14:55:00.000Z; recorded unanswered by inviter station at 2026-03-05T14:59:00.000Z',
    ),
  );
  assert.ok(result.statements.some((s) => s.startsWith('3 ciphertext items inviter→acceptor (seq 1–3) in 1 batch')));
  assert.match(
    result.statements[0]!,
    /^line chiefs-of-staff \(line-7f3a9c2e\) linked at .* between inviter station [0-9a-f ]{49} and acceptor station/,
  );

  assert.deepEqual(
    result.statements.map((s) => s.split(' ').slice(0, 2).join(' ')),
    ['line chiefs-of-staff', 'roster epoch', 'test t1', 'call c1', '3 ciphertext', '2 ciphertext', 'readout r1', 'call c2', 'test t2'],
    'statements follow the record',
  );

  const [c1, c2] = result.summary.calls;
  assert.deepEqual(
    [c1?.callId, c1?.urgency, c1?.requestedBy, c1?.requestedAt, c1?.outcome],
    ['c1', 'flash', { side: 'inviter', handle: 'chief' }, '2026-03-05T14:04:00.000Z', 'ended'],
  );
  assert.deepEqual(
    c1?.events.map((e) => [e.type, e.entryIndex]),
    [
      ['call_acknowledged', 5],
      ['call_accepted', 6],
      ['call_ringing', 7],
      ['call_connected', 8],
      ['call_ended', 11],
    ],
  );
  assert.deepEqual([c2?.requestedBy, c2?.outcome], [{ side: 'acceptor', handle: 'duty' }, 'declined']);
  assert.deepEqual(
    result.summary.tests.map((x) => [x.testId, x.outcome]),
    [
      ['t1', 'acknowledged'],
      ['t2', 'unanswered'],
    ],
  );
  assert.deepEqual(result.summary.readouts[0]?.cites, [4, 8, 11]);

  const text = formatReport(result);
  assert.match(text, /^Joint record of line chiefs-of-staff \(line-7f3a9c2e\): VERIFIED\n/);
  assert.match(text, /17 entries under 3 heads signed by both stations/);
  assert.match(text, /- call c1 \(flash/);
});

test('marks and participants are stated, but do not change where a call stands', () => {
  const station = { side: 'inviter' } as const;
  const longer = logOf([
    ...story(pair),
    [{ type: 'call_requested', callId: 'c3', talkId: 'k1', urgency: 'immediate' }, { side: 'acceptor', handle: 'duty' }, t(59, 1)],
    [{ type: 'call_unanswered', callId: 'c3' }, station, t(59, 6)],
    [{ type: 'call_escalated', callId: 'c3', level: 'duty_officer' }, station, t(59, 6)],
    [{ type: 'call_accepted', callId: 'c3', scheduledFor: '2026-03-06T09:00:00.000Z' }, { side: 'inviter', handle: 'deputy' }, t(59, 8)],
    [{ type: 'call_connected', callId: 'c3' }, { side: 'inviter', handle: 'deputy' }, t(59, 9)],
    [{ type: 'call_joined', callId: 'c3' }, { side: 'inviter', handle: 'interpreter' }, t(59, 10)],
    [{ type: 'call_left', callId: 'c3' }, { side: 'inviter', handle: 'interpreter' }, t(59, 20)],
    [{ type: 'call_requested', callId: 'c4', talkId: 'k4', urgency: 'priority' }, { side: 'inviter', handle: 'chief' }, t(59, 30)],
    [{ type: 'call_cancelled', callId: 'c4' }, { side: 'inviter', handle: 'chief' }, t(59, 40)],
  ]);
  const result = verifyExport(buildExport(longer, headsAt(longer, pair, [longer.size]), { ...keys, exportedAt: t(59, 59) }), keys);
  assert.ok(result.ok);
  const c3 = result.summary.calls.find((c) => c.callId === 'c3');
  assert.deepEqual([c3?.outcome, c3?.unansweredAt, c3?.events.length], ['connected', '2026-03-05T14:59:06.000Z', 6]);
  assert.equal(result.summary.calls.find((c) => c.callId === 'c4')?.outcome, 'cancelled');
  assert.ok(
    result.statements.includes(
      'call c3 (immediate, talk k1) requested by acceptor/duty at 2026-03-05T14:59:01.000Z; marked unanswered by inviter station at 2026-03-05T14:59:06.000Z; ' +
        'escalated to duty officers by inviter station at 2026-03-05T14:59:06.000Z; accepted by inviter/deputy at 2026-03-05T14:59:08.000Z (scheduled for 2026-03-06T09:00:00.000Z); ' +
        'connected by inviter/deputy at 2026-03-05T14:59:09.000Z; joined by inviter/interpreter at 2026-03-05T14:59:10.000Z; left by inviter/interpreter at 2026-03-05T14:59:20.000Z',
    ),
    result.statements.join('\n'),
  );
});

test('the file text verifies as well as the parsed JSON, with keys given as base64url', () => {
  const result = verifyExport(JSON.stringify(exported), {
    inviterKey: toBase64url(pair.inviter.publicKey),
    acceptorKey: toBase64url(pair.acceptor.publicKey),
  });
  assert.equal(result.ok, true);
});

test('an edited entry field is ENTRY_TAMPERED at exactly that index', () => {
  const file = clone(exported);
  (file.entries[4] as { urgency: string }).urgency = 'routine';
  assert.deepEqual(brief(verifyExport(file, keys)), [['ENTRY_TAMPERED', 4]]);

  const other = clone(exported);
  (other.entries[13]!.by as { handle?: string }).handle = 'chief';
  (other.entries[13]!.by as { side: string }).side = 'inviter';
  assert.deepEqual(brief(verifyExport(other, keys)), [['ENTRY_TAMPERED', 13]], 'who requested call c2 cannot be rewritten');
});

test('a dropped entry is ENTRY_OUT_OF_ORDER at the missing index', () => {
  const file = clone(exported);
  file.entries.splice(6, 1);
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [['ENTRY_OUT_OF_ORDER', 6]]);
  assert.match(failuresOf(result)[0]!.message, /entry 6 is missing/);
});

test('an entry moved to a huge index is reported at once, not walked to', () => {
  const file = clone(exported);
  file.entries[5]!.index = Number.MAX_SAFE_INTEGER - 1;
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [
    ['ENTRY_OUT_OF_ORDER', 6],
    ['ENTRY_OUT_OF_ORDER', 5],
    ['ENTRY_OUT_OF_ORDER', 17],
    ['ENTRIES_BEYOND_HEAD', Number.MAX_SAFE_INTEGER - 1],
  ]);
  assert.match(failuresOf(result)[2]!.message, /^entries 17–9007199254740989 are missing from the file$/);
});

test('two swapped entries are ENTRY_OUT_OF_ORDER, each still authentic', () => {
  const file = clone(exported);
  [file.entries[5], file.entries[6]] = [file.entries[6]!, file.entries[5]!];
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [['ENTRY_OUT_OF_ORDER', 5]]);
  assert.match(failuresOf(result)[0]!.message, /entry 5 comes after entry 6; its time .* is earlier/);
});

test('a head cut before the last entry it covers is ENTRY_OUT_OF_ORDER naming both', () => {
  const early = cosignBoth(makeHead(LINE_ID, 17, log.root(17), t(58)), pair);
  const result = verifyExport(buildExport(log, [early], { ...keys, exportedAt: t(59, 59) }), keys);
  assert.deepEqual(
    failuresOf(result).map((f) => [f.code, f.entryIndex, f.headSize]),
    [['ENTRY_OUT_OF_ORDER', 16, 17]],
  );
  assert.match(failuresOf(result)[0]!.message, /entry 16 is dated 2026-03-05T14:59:00.000Z, after the head of size 17 that covers it/);
});

test('a re-dated entry is tampered and out of order', () => {
  const file = clone(exported);
  file.entries[7]!.at = t(3);
  assert.deepEqual(brief(verifyExport(file, keys)), [
    ['ENTRY_OUT_OF_ORDER', 7],
    ['ENTRY_TAMPERED', 7],
  ]);
});

test('a removed signature is HEAD_SIGNED_BY_ONE_SIDE naming the head and the missing side', () => {
  const file = clone(exported);
  delete file.heads[1]!.signatures.acceptor;
  assert.deepEqual(brief(verifyExport(file, keys)), [['HEAD_SIGNED_BY_ONE_SIDE', 12, 'acceptor']]);
  delete file.heads[1]!.signatures.inviter;
  assert.deepEqual(brief(verifyExport(file, keys)), [['HEAD_UNSIGNED', 12]]);
});

test('a signature forged with a third key is BAD_SIGNATURE naming the head and side', () => {
  const file = clone(exported);
  const forger = newStation();
  file.heads[2] = sign(file.heads[2]!, 'inviter', forger);
  assert.deepEqual(brief(verifyExport(file, keys)), [['BAD_SIGNATURE', 17, 'inviter']]);
  // A signature moved from another head does not verify either.
  const moved = clone(exported);
  moved.heads[2]!.signatures.acceptor = moved.heads[0]!.signatures.acceptor!;
  assert.deepEqual(brief(verifyExport(moved, keys)), [['BAD_SIGNATURE', 17, 'acceptor']]);
});

test('a head whose root or size was changed fails both signatures and the proofs that rely on it', () => {
  const file = clone(exported);
  file.heads[1]!.head.rootHash = file.heads[0]!.head.rootHash;
  assert.deepEqual(brief(verifyExport(file, keys)), [
    ['BAD_SIGNATURE', 12, 'inviter'],
    ['BAD_SIGNATURE', 12, 'acceptor'],
    ['INCONSISTENT_HEADS', 12],
    ['INCONSISTENT_HEADS', 17],
    ['ROOT_MISMATCH', 12],
  ]);
  const resized = clone(exported);
  resized.heads[1]!.head.size = 11;
  assert.deepEqual(brief(verifyExport(resized, keys)), [
    ['BAD_SIGNATURE', 11, 'inviter'],
    ['BAD_SIGNATURE', 11, 'acceptor'],
    ['MALFORMED', undefined],
    ['MALFORMED', undefined],
    ['ROOT_MISMATCH', 11],
  ]);
});

test('the wrong station key is UNKNOWN_KEY for that side, without a flood of signature failures', () => {
  const stranger = newStation();
  const result = verifyExport(exported, { ...keys, acceptorKey: stranger.publicKey });
  assert.deepEqual(brief(result), [['UNKNOWN_KEY', undefined, 'acceptor']]);
  assert.match(failuresOf(result)[0]!.message, /no head is shown to be signed by the acceptor station you named/);
  assert.deepEqual(brief(verifyExport(exported, { ...keys, inviterKey: 'not-a-key' })), [['UNKNOWN_KEY', undefined, 'inviter']]);
});

test('a whole record made and signed by an impostor station is UNKNOWN_KEY', () => {
  const impostor: Pair = { inviter: newStation(), acceptor: pair.acceptor };
  const fakeLog = logOf(story(impostor));
  const fake = buildExport(fakeLog, headsAt(fakeLog, impostor, [17]), { ...keysOf(impostor), exportedAt: t(59, 59) });
  assert.deepEqual(brief(verifyExport(fake, keys)), [['UNKNOWN_KEY', undefined, 'inviter']]);
  // Swapping the real key into the file does not help: entry 0 and the signatures betray it.
  fake.stations.inviter = clone(exported.stations.inviter);
  assert.deepEqual(brief(verifyExport(fake, keys)), [
    ['UNKNOWN_KEY', 0, 'inviter'],
    ['BAD_SIGNATURE', 17, 'inviter'],
  ]);
});

test('a signed readout citing an entry that does not exist is CITATION_MISSING', () => {
  const events = story(pair);
  const readout = events[12]![0] as { cites?: number[] };
  readout.cites = [8, 999];
  const badLog = logOf(events, { checkRules: false });
  const file = buildExport(badLog, headsAt(badLog, pair, [17]), { ...keys, exportedAt: t(59, 59) });
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [['CITATION_MISSING', 12]]);
  assert.match(failuresOf(result)[0]!.message, /readout r1 cites entry 999, which does not exist/);

  readout.cites = [3];
  const notContact = logOf(events, { checkRules: false });
  const file2 = buildExport(notContact, headsAt(notContact, pair, [17]), { ...keys, exportedAt: t(59, 59) });
  const result2 = verifyExport(file2, keys);
  assert.deepEqual(brief(result2), [['CITATION_MISSING', 12]]);
  assert.match(failuresOf(result2)[0]!.message, /cites entry 3 \(test_acknowledged\), which is not a contact/);
});

test('heads of a forked record are INCONSISTENT_HEADS naming the pairs', () => {
  // The same line, but from entry 9 on the hub told a different story to be signed at size 12.
  const events = story(pair);
  const forkEvents = events.slice(0, 12);
  forkEvents[11] = [{ type: 'call_ended', callId: 'c1' }, { side: 'acceptor', handle: 'general' }, t(25)];
  const fork = logOf(forkEvents);
  const file = clone(exported);
  file.heads[1] = cosignBoth(fork.head(t(59, 59), 12), pair);
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [
    ['INCONSISTENT_HEADS', 12],
    ['INCONSISTENT_HEADS', 17],
    ['ROOT_MISMATCH', 12],
  ]);
  assert.match(failuresOf(result)[0]!.message, /heads of size 5 and 12 are not one log growing/);

  // Two heads of one size with different roots: both stations signed a fork.
  const twice = clone(exported);
  twice.heads.splice(2, 0, cosignBoth(fork.head(t(59, 59), 12), pair));
  twice.consistency.splice(1, 0, { from: 12, to: 12, proof: [] });
  const codes = brief(verifyExport(twice, keys));
  assert.ok(codes.some(([c, h]) => c === 'INCONSISTENT_HEADS' && h === 12));
  assert.match(
    failuresOf(verifyExport(twice, keys)).find((f) => f.code === 'INCONSISTENT_HEADS')!.message,
    /two heads of size 12 with different roots/,
  );
});

test('a corrupted inclusion proof of an authentic entry blames the proof, not the entry', () => {
  const file = clone(exported);
  file.inclusion[7]!.proof.reverse();
  const result = verifyExport(file, keys);
  assert.deepEqual(
    failuresOf(result).map((f) => [f.code, f.entryIndex, f.path]),
    [['MALFORMED', 7, '/inclusion']],
  );
});

test('a corrupted consistency proof is INCONSISTENT_HEADS', () => {
  const file = clone(exported);
  const proof = file.consistency[0]!.proof;
  proof[0] = proof[1]!;
  assert.deepEqual(brief(verifyExport(file, keys)), [['INCONSISTENT_HEADS', 12]]);
});

test('entries not yet under a cosigned head verify with a warning and prove nothing', () => {
  const longer = logOf([...story(pair), [{ type: 'test_sent', testId: 't3' }, { side: 'inviter' }, t(59, 59)]]);
  const partial = [...headsAt(longer, pair, [5, 17]), sign(longer.head(t(59, 59)), 'inviter', pair.inviter)];
  const file = buildExport(longer, partial, { ...keys, exportedAt: t(59, 59) });
  assert.equal(file.heads.length, 2, 'a head signed by one side is not exported');
  assert.equal(file.entries.length, 18);
  const result = verifyExport(file, keys);
  assert.ok(result.ok);
  assert.equal(result.size, 17);
  assert.deepEqual(
    result.warnings.map((w) => [w.code, w.severity, w.entryIndex]),
    [['ENTRIES_BEYOND_HEAD', 'warning', 17]],
  );
  assert.ok(!result.statements.some((s) => s.includes('t3')), 'an uncovered entry is stated as fact');
  assert.match(formatReport(result), /Notes:\n {2}ENTRIES_BEYOND_HEAD +entry 17 +entry 17 is not covered by a head both stations signed/);
});

test('an export without any cosigned head proves nothing', () => {
  const file = buildExport(log, [], { ...keys, exportedAt: t(59, 59) });
  const result = verifyExport(file, keys);
  assert.deepEqual(brief(result), [
    ['NO_COSIGNED_HEAD', undefined],
    ['ENTRIES_BEYOND_HEAD', 0],
  ]);
});

test('malformed files name the path; every failure is reported, not only the first', () => {
  assert.deepEqual(brief(verifyExport('{"format": ', keys)), [['MALFORMED', undefined]]);
  const wrongFormat = { ...clone(exported), format: 'parley-record-export-v0' };
  const f1 = failuresOf(verifyExport(wrongFormat, keys));
  assert.deepEqual(
    f1.map((f) => [f.code, f.path]),
    [['MALFORMED', '/format']],
  );

  const file = clone(exported) as Omit<RecordExport, 'entries'> & { entries: Record<string, unknown>[] };
  file.entries[3]!.note = 'added';
  delete file.heads[0]!.signatures.inviter;
  file.entries[9]!.at = '2026-02-30T10:00:00.000Z';
  const failures = failuresOf(verifyExport(file, keys));
  assert.deepEqual(
    failures.map((f) => [f.code, f.entryIndex ?? f.headSize, f.path]),
    [
      ['MALFORMED', 3, '/entries/3/note'],
      ['MALFORMED', 9, '/entries/9/at'],
      ['HEAD_SIGNED_BY_ONE_SIDE', 5, undefined],
      ['ENTRY_TAMPERED', 3, undefined],
      ['ENTRY_TAMPERED', 9, undefined],
    ],
  );
  const text = formatReport(verifyExport(file, keys));
  assert.match(text, /NOT VERIFIED \(5 problems\)\n/);
  assert.match(text, /ENTRY_TAMPERED +entry 3 +entry 3 is not what the heads signed/);
});

test('buildExport refuses heads that do not belong to the log', () => {
  const stranger = newStation();
  assert.throws(() => buildExport(log, [sign(heads[0]!, 'inviter', stranger)], { ...keys, exportedAt: t(59) }), { code: 'BAD_SIGNATURE' });
  const other = new RecordLog(LINE_ID);
  other.append(log.entry(0));
  assert.throws(() => buildExport(other, [heads[0]!], { ...keys, exportedAt: t(59) }), { code: 'OUT_OF_RANGE' });
  const shortLog = logOf(story(pair).slice(0, 12));
  const fork = logOf(
    story(pair)
      .slice(0, 11)
      .concat([[{ type: 'call_ended', callId: 'c1' }, { side: 'acceptor' }, t(30)]]),
  );
  assert.throws(() => buildExport(shortLog, [cosignBoth(fork.head(t(59), 12), pair)], { ...keys, exportedAt: t(59) }), {
    code: 'ROOT_MISMATCH',
  });
  assert.throws(() => buildExport(log, heads, { ...keys, acceptorKey: stranger.publicKey, exportedAt: t(59) }), { code: 'UNKNOWN_KEY' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64url } from '@parley/protocol/bytes';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  cosign,
  entryLeafHash,
  HEAD_SIGNING_CONTEXT,
  headSigningBytes,
  RecordLog,
  rootOfLeafHashes,
  validateCosignedHead,
  validateHead,
  verifyConsistency,
  verifyHead,
  verifyInclusion,
} from '../src/index.js';
import { cosignBoth, keysOf, LINE_ID, logOf, newPair, newStation, sign, story, t } from './helpers.js';

const pair = newPair();
const keys = keysOf(pair);

test('append refuses what does not fit, and says why', () => {
  const log = logOf(story(pair).slice(0, 5));
  const next = (over: object) => ({
    ...log.nextEntry({ type: 'call_acknowledged', callId: 'c1' }, { side: 'acceptor', handle: 'duty' }, t(10)),
    ...over,
  });
  assert.throws(() => log.append(next({ index: 6 })), {
    code: 'ENTRY_OUT_OF_ORDER',
    message: /entry index 6 appended to a log of 5 entries/,
  });
  assert.throws(() => log.append(next({ index: 4 })), { code: 'ENTRY_OUT_OF_ORDER' });
  assert.throws(() => log.append(next({ at: t(3) })), { code: 'ENTRY_OUT_OF_ORDER', message: /earlier than the last entry/ });
  assert.throws(() => log.append(next({ callId: 'c9' })), { code: 'ENTRY_INVALID', message: /no earlier entry requests call c9/ });
  assert.throws(() => log.append(next({ by: { side: 'nobody' } })), { code: 'MALFORMED', message: /\/by\/side/ });
  assert.throws(
    () =>
      log.append(
        log.nextEntry(
          { type: 'readout_published', readoutId: 'r1', contentHash: toBase64url(new Uint8Array(32)), cites: [999] },
          { side: 'acceptor' },
          t(10),
        ),
      ),
    { code: 'CITATION_MISSING', message: /cites entry 999, which does not exist/ },
  );
  assert.throws(
    () =>
      log.append(
        log.nextEntry(
          { type: 'readout_published', readoutId: 'r1', contentHash: toBase64url(new Uint8Array(32)), cites: [1] },
          { side: 'acceptor' },
          t(10),
        ),
      ),
    { code: 'CITATION_MISSING', message: /entry 1 \(roster_changed\), which is not a contact/ },
  );
  assert.throws(
    () => log.append(next({ type: 'call_requested', talkId: 'k1', urgency: 'flash', by: { side: 'inviter', handle: 'chief' } })),
    {
      code: 'ENTRY_INVALID',
      message: /call c1 was already requested in entry 4/,
    },
  );
  assert.equal(log.size, 5, 'a refused entry changed the log');
  log.append(next({}));
  assert.equal(log.size, 6);

  const other = new RecordLog('line-other-01');
  assert.throws(() => other.append(logOf(story(pair).slice(0, 1)).entry(0)), { code: 'LINE_MISMATCH' });
  const empty = new RecordLog(LINE_ID);
  assert.throws(() => empty.append(log.entry(2)), { code: 'ENTRY_OUT_OF_ORDER' });
  assert.throws(() => empty.append({ ...log.entry(2), index: 0 }), { code: 'ENTRY_INVALID', message: /entry 0 must be line_linked/ });
});

test('the log keeps a frozen copy of each entry', () => {
  const log = new RecordLog(LINE_ID);
  const first = logOf(story(pair).slice(0, 1)).entry(0);
  const mine = structuredClone(first);
  log.append(mine);
  (mine as { lineName: string }).lineName = 'changed-later';
  assert.equal((log.entry(0) as { lineName: string }).lineName, 'chiefs-of-staff');
  assert.throws(() => {
    (log.entry(0) as { lineName: string }).lineName = 'x';
  }, TypeError);
});

test('roots and proofs of thousands of entries agree with the reference and verify', () => {
  const log = logOf(story(pair));
  const n = 3000;
  for (let i = log.size; i < n; i++) {
    const seq = i;
    log.append(
      log.nextEntry(
        { type: 'items', dir: 'inviter_to_acceptor', hashes: [{ seq, sha256: toBase64url(new Uint8Array(32).fill(i % 256)) }] },
        { side: 'inviter' },
        t(59, 59),
      ),
    );
  }
  const leaves = log.entries().map(entryLeafHash);
  assert.equal(toBase64url(log.root()), toBase64url(rootOfLeafHashes(leaves)));
  assert.equal(toBase64url(log.root(1234)), toBase64url(rootOfLeafHashes(leaves.slice(0, 1234))));
  for (const [index, size] of [
    [0, n],
    [1233, 1234],
    [2047, 2048],
    [2999, n],
    [17, 1025],
  ] as const) {
    assert.deepEqual(verifyInclusion(index, size, log.leafHash(index), log.inclusionProof(index, size), log.root(size)), { ok: true });
  }
  for (const [from, to] of [
    [1, n],
    [1024, 2048],
    [1025, 2999],
    [17, 18],
  ] as const) {
    assert.deepEqual(verifyConsistency(from, to, log.root(from), log.root(to), log.consistencyProof(from, to)), { ok: true });
  }
  assert.throws(() => log.inclusionProof(n, n), { code: 'OUT_OF_RANGE' });
  assert.throws(() => log.consistencyProof(10, 9), { code: 'OUT_OF_RANGE' });
  assert.throws(() => log.root(n + 1), { code: 'OUT_OF_RANGE' });
});

test('a head binds line, size, root and time; its signing bytes are domain-separated canonical JSON', () => {
  const log = logOf(story(pair));
  const head = log.head(t(59, 59), 12);
  assert.deepEqual(Object.keys(head).sort(), ['at', 'lineId', 'rootHash', 'size']);
  assert.equal(head.rootHash, toBase64url(log.root(12)));
  assert.equal(
    new TextDecoder().decode(headSigningBytes(head)),
    `parley-record-head-v1\n{"at":"2026-03-05T14:59:59.000Z","lineId":"${LINE_ID}","rootHash":"${head.rootHash}","size":12}`,
  );
  assert.equal(HEAD_SIGNING_CONTEXT, 'parley-record-head-v1\n');
  assert.throws(() => log.head(t(30), 17), { code: 'ENTRY_OUT_OF_ORDER', message: /cannot cover entry 16/ });
  assert.throws(() => log.head('yesterday'), { code: 'MALFORMED' });
  assert.deepEqual(validateHead(head), { ok: true, head });
  assert.equal(validateHead({ ...head, size: 0 }).ok, false, 'size 0 with a non-empty root');
  assert.equal(validateHead({ ...head, extra: 1 }).ok, false);
});

test('checkHead: a station signs only a head its own log agrees with', () => {
  const log = logOf(story(pair));
  const head = log.head(t(59, 59), 12);
  assert.deepEqual(log.checkHead(head), { ok: true });
  const reasons = [
    { ...head, rootHash: log.rootHash(11) },
    { ...head, size: 18 },
    { ...head, lineId: 'line-elsewhere' },
    { ...head, at: t(20) },
  ].map((h) => {
    const r = log.checkHead(h);
    return r.ok ? 'ok' : r.reason;
  });
  assert.deepEqual(reasons, ['ROOT_MISMATCH', 'BEYOND_LOG', 'LINE_MISMATCH', 'EARLIER_THAN_ENTRY']);
});

test('a head counts only with both valid signatures; verifyHead says which are missing or bad', () => {
  const log = logOf(story(pair));
  const head = log.head(t(59, 59));
  const both = cosignBoth(head, pair);
  assert.deepEqual(verifyHead(both, keys), { cosigned: true, inviter: 'valid', acceptor: 'valid', missing: [], invalid: [] });
  const one = sign(head, 'acceptor', pair.acceptor);
  assert.deepEqual(verifyHead(one, keys), { cosigned: false, inviter: 'missing', acceptor: 'valid', missing: ['inviter'], invalid: [] });
  const forged = sign(one, 'inviter', newStation());
  assert.deepEqual(verifyHead(forged, keys), { cosigned: false, inviter: 'invalid', acceptor: 'valid', missing: [], invalid: ['inviter'] });
  // Signing the same bytes without the context, or another head, does not count.
  const raw = ed25519.sign(new TextEncoder().encode(JSON.stringify(head)), pair.inviter.secretKey);
  assert.equal(verifyHead(cosign(one, 'inviter', raw), keys).inviter, 'invalid');
  const moved = { head: { ...head, size: 16, rootHash: toBase64url(log.root(16)) }, signatures: both.signatures };
  assert.deepEqual(verifyHead(moved, keys).invalid, ['inviter', 'acceptor']);
  // Swapped keys: each signature is checked against its own side's key.
  assert.deepEqual(verifyHead(both, { inviterKey: keys.acceptorKey, acceptorKey: keys.inviterKey }).invalid, ['inviter', 'acceptor']);
  // The small-order key and "signature" that lenient (ZIP-215) verification accepts for any
  // message: strict RFC 8032 verification refuses them, so nobody can sign everything at once.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const universal = new Uint8Array(64);
  universal[0] = 1;
  assert.equal(verifyHead(cosign(head, 'inviter', universal), { ...keys, inviterKey: identity }).inviter, 'invalid');
  assert.equal(validateCosignedHead(both).ok, true);
  assert.equal(validateCosignedHead({ ...both, signatures: { inviter: 'short' } }).ok, false);
});

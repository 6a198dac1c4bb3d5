import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64url } from '@parley/protocol/bytes';
import { checkPeerHead, findEquivocation, type Inconsistency, validateInconsistency } from '../src/index.js';
import { cosignBoth, keysOf, logOf, newPair, sign, story, t } from './helpers.js';

const pair = newPair();
const keys = keysOf(pair);
const log = logOf(story(pair));
// The peer's fork: the same first 11 entries, then a different account of who ended call c1.
const forkEvents = story(pair).slice(0, 12);
forkEvents[11] = [{ type: 'call_ended', callId: 'c1' }, { side: 'acceptor', handle: 'general' }, t(25)];
const fork = logOf(forkEvents);

function evidenceOf(result: ReturnType<typeof checkPeerHead>): Inconsistency {
  assert.equal(result.consistent, false, 'an inconsistent head was accepted');
  return result.consistent ? (undefined as never) : result.evidence;
}

test('a head that extends the one signed before is consistent, whatever the proof direction', () => {
  const before = cosignBoth(log.head(t(30), 12), pair);
  const now = sign(log.head(t(59, 59)), 'inviter', pair.inviter);
  assert.deepEqual(checkPeerHead(before, now, log.consistencyProof(12, 17), keys), { consistent: true });
  assert.deepEqual(checkPeerHead(before, now, log.consistencyProof(12, 17).map(toBase64url)), { consistent: true });
  assert.deepEqual(checkPeerHead(now, before, log.consistencyProof(12, 17), keys), { consistent: true }, 'an older head presented late');
  assert.deepEqual(checkPeerHead(before.head, before, [], keys), { consistent: true }, 'the same head again');
});

test('a forked head yields evidence: both heads, their signatures, the proof, a reason', () => {
  const before = cosignBoth(log.head(t(30), 12), pair);
  const presented = sign(fork.head(t(40), 12), 'acceptor', pair.acceptor);
  const same = evidenceOf(checkPeerHead(before, presented, [], keys));
  assert.equal(same.reason, 'SAME_SIZE_DIFFERENT_ROOT');
  assert.deepEqual(same.equivocatedBy, ['acceptor'], 'the acceptor signed two trees of size 12');
  assert.deepEqual(same.validSignatures, { previous: ['inviter', 'acceptor'], presented: ['acceptor'] });
  assert.deepEqual(same.previous, before);
  assert.deepEqual(same.presented, presented);

  // A larger fork with the honest log's proof (or any proof) fails the consistency check.
  const bigger = logOf([...forkEvents, ...story(pair).slice(12)]);
  const grown = cosignBoth(bigger.head(t(59, 59)), pair);
  const proof = log.consistencyProof(12, 17);
  const failed = evidenceOf(checkPeerHead(before, grown, proof, keys));
  assert.equal(failed.reason, 'PROOF_FAILED');
  assert.equal(failed.proofFailure, 'ROOT_MISMATCH');
  assert.deepEqual(failed.proof, proof.map(toBase64url));
  assert.deepEqual(failed.equivocatedBy, [], 'different sizes with a bad proof do not prove equivocation');
  assert.match(failed.detail, /size 12 .* is not shown to be a prefix of the tree of size 17/);
  assert.equal(evidenceOf(checkPeerHead(before, grown, bigger.consistencyProof(12, 17), keys)).reason, 'PROOF_FAILED');
  assert.equal(evidenceOf(checkPeerHead(before, grown, [], keys)).proofFailure, 'WRONG_PROOF_LENGTH');
  assert.equal(evidenceOf(checkPeerHead(before, grown, ['not-a-hash'], keys)).reason, 'BAD_PROOF_ELEMENT');
  assert.equal(evidenceOf(checkPeerHead(before, { ...grown.head, lineId: 'line-elsewhere' }, proof)).reason, 'LINE_MISMATCH');

  // The evidence is plain JSON the station can store and load again.
  const stored = JSON.parse(JSON.stringify(failed));
  assert.deepEqual(validateInconsistency(stored), { ok: true, evidence: failed });
  assert.equal(validateInconsistency({ ...stored, reason: 'BORED' }).ok, false);
});

test('findEquivocation: one size, two roots, one key on both', () => {
  const a = cosignBoth(log.head(t(30), 12), pair);
  const b = cosignBoth(fork.head(t(30), 12), pair);
  assert.deepEqual(findEquivocation(a, b, keys)?.equivocatedBy, ['inviter', 'acceptor']);
  assert.equal(findEquivocation(a, a, keys), undefined);
  assert.equal(
    findEquivocation(a, sign(fork.head(t(30), 12), 'inviter', newPair().inviter), keys),
    undefined,
    'a stranger signed the fork',
  );
  assert.equal(findEquivocation(a, cosignBoth(log.head(t(59, 59), 13), pair), keys), undefined);
});

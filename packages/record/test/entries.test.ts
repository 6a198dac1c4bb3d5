import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHex } from '@parley/protocol/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, ENTRY_TYPES, entryBytes, entryLeafHash, type RecordEntry, validateEntry } from '../src/index.js';
import { digest } from './helpers.js';

test('canonical JSON: sorted keys, no whitespace, integers only, absent optionals left out', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: -0, y: undefined } }), '{"a":[true,null,"x"],"b":1,"c":{"z":0}}');
  // UTF-16 code unit order, as JavaScript sorts: uppercase before lowercase, "é" (U+00E9) after "z".
  assert.equal(canonicalJson({ é: 1, z: 2, Z: 3, a: 4 }), '{"Z":3,"a":4,"z":2,"é":1}');
  assert.equal(canonicalJson('tab\there "quote" \\ \u0001 \ud800 Ω'), '"tab\\there \\"quote\\" \\\\ \\u0001 \\ud800 Ω"');
  assert.equal(canonicalJson(Number.MAX_SAFE_INTEGER), '9007199254740991');
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 10n, new Date(0), new Uint8Array(1), () => 1, Symbol('s')]) {
    assert.throws(() => canonicalJson({ x: [bad] }), /\/x\/0/, `${String(bad)} was encoded`);
  }
  const sparse = [1, 2, 3];
  delete sparse[1];
  assert.throws(() => canonicalJson(sparse), /\/1/, 'a hole in an array was encoded');
});

const requested: RecordEntry = {
  index: 4,
  at: '2026-03-05T14:04:00.000Z',
  by: { side: 'inviter', handle: 'chief' },
  type: 'call_requested',
  callId: 'c1',
  talkId: 'k1',
  urgency: 'flash',
};

test('an entry is encoded as its canonical JSON; the leaf is SHA-256(0x00 || bytes)', () => {
  const text =
    '{"at":"2026-03-05T14:04:00.000Z","by":{"handle":"chief","side":"inviter"},"callId":"c1","index":4,"talkId":"k1","type":"call_requested","urgency":"flash"}';
  assert.equal(new TextDecoder().decode(entryBytes(requested)), text);
  const shuffled = {
    urgency: 'flash',
    type: 'call_requested',
    talkId: 'k1',
    callId: 'c1',
    by: { handle: 'chief', side: 'inviter' },
    at: requested.at,
    index: 4,
  } as RecordEntry;
  assert.equal(toHex(entryLeafHash(shuffled)), toHex(sha256(new Uint8Array([0, ...new TextEncoder().encode(text)]))));
});

test('every entry type has a schema and validates a well-formed example', () => {
  const common = { index: 3, at: '2026-03-05T14:04:00.000Z', by: { side: 'acceptor' as const, handle: 'duty' } };
  const key = digest('a key');
  const examples: Record<string, object> = {
    line_linked: { lineId: 'line-7f3a9c2e', lineName: 'chiefs', inviterKey: key, acceptorKey: digest('other') },
    roster_changed: { epoch: 2, added: ['dev-12345678'], removed: [] },
    call_requested: { callId: 'c1', talkId: 'k1', urgency: 'immediate' },
    call_accepted: { callId: 'c1', scheduledFor: '2026-03-06T09:00:00.000Z' },
    call_escalated: { callId: 'c1', level: 'deputy' },
    test_sent: { testId: 't1' },
    test_acknowledged: { testId: 't1' },
    test_unanswered: { testId: 't1' },
    policy_set: { policy: { calls: { ackDeadlineMs: { flash: 30_000 } }, tests: { intervalMs: 1_800_000 } } },
    readout_published: { readoutId: 'r1', contentHash: key, cites: [1, 2] },
    items: { dir: 'acceptor_to_inviter', hashes: [{ seq: 4, sha256: key }] },
  };
  for (const type of ENTRY_TYPES) {
    const fields = examples[type] ?? { callId: 'c1' };
    const result = validateEntry({ ...common, type, ...fields });
    assert.ok(result.ok, `${type}: ${JSON.stringify(!result.ok && result.errors)}`);
  }
});

test('a policy change names who made it and says only what it set', () => {
  const base = { index: 3, at: '2026-03-05T14:04:00.000Z', type: 'policy_set' };
  const policy = { calls: { ackDeadlineMs: { flash: 30_000 } } };
  assert.ok(validateEntry({ ...base, by: { side: 'acceptor', handle: 'chief' }, policy }).ok);
  assert.deepEqual(errorsOf({ ...base, by: { side: 'inviter' }, policy })[0]?.[0], '/by/handle');
  const paths = errorsOf({ ...base, by: { side: 'inviter', handle: 'chief' }, policy: { calls: { ackDeadlineMs: { urgent: 1 } } } });
  assert.ok(paths.length > 0);
});

function errorsOf(value: unknown): [string, string][] {
  const result = validateEntry(value);
  assert.equal(result.ok, false, `${JSON.stringify(value)} was accepted`);
  return result.ok ? [] : result.errors.map((e) => [e.path, e.message]);
}

test('validation lists each problem with its path', () => {
  assert.deepEqual(errorsOf({ ...requested, type: 'call_teleported' })[0]?.[0], '/type');
  assert.deepEqual(errorsOf(null)[0]?.[0], '/type');
  const paths = errorsOf({ ...requested, urgency: 'panic', extra: 1, index: -1 }).map(([p]) => p);
  assert.deepEqual(new Set(paths), new Set(['/urgency', '/extra', '/index']));
  assert.deepEqual(errorsOf({ ...requested, at: '2026-02-30T10:00:00.000Z' }), [['/at', 'is not a real UTC time']]);
  assert.deepEqual(
    errorsOf({ ...requested, at: '2026-03-05T14:04:00Z' }).map(([p]) => p),
    ['/at'],
    'milliseconds are required',
  );
  assert.deepEqual(errorsOf({ ...requested, by: { side: 'inviter' } }), [['/by/handle', 'a call request names the member who made it']]);
  assert.deepEqual(
    errorsOf({ ...requested, index: 1.5 }).map(([p]) => p),
    ['/index'],
  );
  const items = { index: 9, at: requested.at, by: { side: 'inviter' }, type: 'items', dir: 'inviter_to_acceptor' };
  assert.deepEqual(
    errorsOf({
      ...items,
      hashes: [
        { seq: 2, sha256: digest('a') },
        { seq: 2, sha256: digest('b') },
      ],
    }),
    [['/hashes/1/seq', 'sequence numbers in a batch must increase']],
  );
  // 43 base64url characters whose last one carries non-zero padding bits: not canonical.
  const nonCanonical = `${digest('a').slice(0, 42)}B`;
  assert.deepEqual(errorsOf({ ...items, hashes: [{ seq: 1, sha256: nonCanonical }] }), [
    ['/hashes/0/sha256', 'is not a SHA-256 digest in canonical base64url'],
  ]);
  assert.deepEqual(
    errorsOf({ ...items, hashes: [] }).map(([p]) => p),
    ['/hashes'],
  );
  const readout = {
    index: 9,
    at: requested.at,
    by: { side: 'acceptor' },
    type: 'readout_published',
    readoutId: 'r1',
    contentHash: digest('x'),
  };
  assert.deepEqual(errorsOf({ ...readout, cites: [3, 3] }), [['/cites', 'cites an entry twice']]);
  const linked = { index: 0, at: requested.at, by: { side: 'acceptor' }, type: 'line_linked', lineId: 'line-7f3a9c2e', lineName: 'chiefs' };
  assert.deepEqual(errorsOf({ ...linked, inviterKey: digest('k'), acceptorKey: digest('k') }), [
    ['/acceptorKey', 'equals the inviter key: a line joins two stations'],
  ]);
});

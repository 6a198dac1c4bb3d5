// A line's policy change in the joint record: a verified export states who set which deadlines
// and when, and a readout may not cite it (it is not a contact).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBase64url } from '@parley/protocol/bytes';
import { buildExport, describeEntry, type EntryEvent, isContact, verifyExport } from '../src/index.js';
import { headsAt, keysOf, LINE_ID, logOf, newPair, t } from './helpers.js';

test('a verified record states each policy change with its author and time', () => {
  const pair = newPair();
  const keys = keysOf(pair);
  const linked: EntryEvent = {
    type: 'line_linked',
    lineId: LINE_ID,
    lineName: 'chiefs',
    inviterKey: toBase64url(pair.inviter.publicKey),
    acceptorKey: toBase64url(pair.acceptor.publicKey),
  };
  const change: EntryEvent = {
    type: 'policy_set',
    policy: { calls: { ackDeadlineMs: { flash: 30_000 } }, tests: { intervalMs: 1_800_000, ackDeadlineMs: 120_000 } },
  };
  const log = logOf([
    [linked, { side: 'inviter', handle: 'admin' }, t(0)],
    [change, { side: 'acceptor', handle: 'chief' }, t(1)],
  ]);
  const exported = buildExport(log, headsAt(log, pair, [2]), { ...keys, exportedAt: t(2) });
  const result = verifyExport(JSON.parse(JSON.stringify(exported)), keys);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.failures));
  assert.equal(
    result.statements[1],
    'line policy set by acceptor/chief at 2026-03-05T14:01:00.000Z: acknowledge flash within 30 s; test every 1800 s; tests acknowledged within 120 s',
  );
  assert.deepEqual(result.summary.policies, [
    { entryIndex: 1, at: t(1), by: { side: 'acceptor', handle: 'chief' }, policy: change.type === 'policy_set' ? change.policy : {} },
  ]);
  const entry = log.entry(1);
  assert.equal(isContact(entry), false);
  assert.equal(describeEntry(entry), 'line policy set by acceptor/chief');
});

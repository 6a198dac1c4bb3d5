import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { entryLeafHash, type CosignedHead, type Inconsistency, type RecordEntry, type RecordExport } from '@parley/record';
import { linkStations, runCli, StationProcess, tempDir } from '@parley/testkit';
import { signRequest } from '../src/federation/signing.js';
import { StationKey } from '../src/identity/station-key.js';
import { encodeRecordItem } from '../src/record/record-items.js';
import { loadDataDir } from '../src/config/data-dir.js';
import { openDatabase } from '../src/station.js';
import { type ClientItem, httpSendAll, lineSummary, opaquePayload, readTimeline, waitFor } from './support/line-client.js';

// The joint record end to end, with real station processes: both stations fold the hub's stream
// into the same log and cosign its heads; an export verifies offline with the CLI and states who
// requested the call; a tampered export is named; a hub killed mid-traffic loses no entry; a
// station that rewrites its stored record is caught by its peer.

interface Alarm {
  at: number;
  reason: string;
  detail: string;
  evidence: unknown;
}
interface RecordStatus {
  size: number;
  rootHash: string;
  holdFrom: number | null;
  cosigned: CosignedHead | null;
  alarms: Alarm[];
  entries?: RecordEntry[];
}

let lineId = '';

function items(prefix: string, n: number): ClientItem[] {
  return Array.from({ length: n }, (_, i) => ({
    clientId: `${prefix}-${String(i).padStart(6, '0')}`,
    payload: opaquePayload(lineId, `${prefix} ${i}`),
    acceptedSeq: null,
  }));
}

async function recordOf(url: string, token: string): Promise<RecordStatus> {
  const res = await fetch(`${url}/api/v1/lines/hotline/record?entries=true`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`record: ${res.status} ${await res.text()}`);
  return (await res.json()) as RecordStatus;
}

async function callAction(url: string, token: string, body: Record<string, unknown>): Promise<{ event: { callId: string } }> {
  const res = await fetch(`${url}/api/v1/lines/hotline/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { event: { callId: string } };
  if (!res.ok) throw new Error(`call ${String(body.action)}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe('joint record', () => {
  let washington: StationProcess;
  let moscow: StationProcess;
  let alice: string;
  let boris: string;
  let keys: { inviter: string; acceptor: string };
  let callId = '';
  const work = tempDir('parley-record-');

  /** Both stations hold the same entries, and both signed a head covering all of them. */
  async function settled(what: string, extra: (r: RecordStatus) => boolean = () => true): Promise<RecordStatus> {
    return waitFor(
      what,
      async () => {
        const w = await recordOf(washington.url, alice);
        const m = await recordOf(moscow.url, boris);
        if (w.size === 0 || w.size !== m.size || w.rootHash !== m.rootHash) return undefined;
        if (w.cosigned?.head.size !== w.size || m.cosigned?.head.size !== m.size) return undefined;
        return extra(w) ? w : undefined;
      },
      60_000,
      200,
    );
  }

  /** Every item of both streams but the record's own has a receipt, with its payload's hash. */
  async function receiptsComplete(r: RecordStatus): Promise<boolean> {
    const timeline = await readTimeline(washington.url, alice, 'hotline');
    const receipted = new Map<string, string>();
    for (const e of r.entries ?? []) {
      if (e.type !== 'items') continue;
      for (const h of e.hashes) receipted.set(`${e.dir === 'inviter_to_acceptor' ? 'out' : 'in'}/${h.seq}`, h.sha256);
    }
    const wanted = timeline.filter((i) => i.kind !== 'record');
    return wanted.length === receipted.size && wanted.every((i) => receipted.has(`${i.dir}/${i.seq}`));
  }

  before(async () => {
    washington = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    moscow = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await washington.start();
    await moscow.start();
    alice = await washington.addEnrolledMember('alice');
    boris = await moscow.addEnrolledMember('boris');
    await linkStations(washington, moscow, 'hotline', ['alice'], ['boris']);
    const summary = (await lineSummary(washington.url, alice, 'hotline')) as unknown as {
      id: string;
      station: { publicKey: string };
      peer: { publicKey: string };
    };
    lineId = summary.id;
    keys = { inviter: summary.station.publicKey, acceptor: summary.peer.publicKey };
  });

  after(async () => {
    await washington.stop();
    await moscow.stop();
  });

  it('both stations hold the same record after messages both ways and a call, under a head both signed', async () => {
    await httpSendAll(() => washington.url, alice, 'hotline', items('w', 5));
    await httpSendAll(() => moscow.url, boris, 'hotline', items('m', 5));
    const requested = await callAction(washington.url, alice, { action: 'request', urgency: 'flash', clientId: 'call-request-1' });
    callId = requested.event.callId;
    await waitFor('the request on moscow\u2019s timeline', async () => {
      const res = await fetch(`${moscow.url}/api/v1/lines/hotline/calls`, { headers: { authorization: `Bearer ${boris}` } });
      const book = (await res.json()) as { calls?: { callId: string }[] };
      return book.calls?.some((c) => c.callId === callId) ? true : undefined;
    });
    await callAction(moscow.url, boris, { action: 'acknowledge', callId, clientId: 'call-ack-1' });
    await callAction(moscow.url, boris, { action: 'accept', callId, clientId: 'call-accept-1' });

    // One reading in which both stations hold the same root, cosigned, with the call, the
    // roster change and a receipt of every item (the line may still grow after it).
    const w = await waitFor('both records equal and cosigned, with the call, the roster and every receipt', async () => {
      const r = await settled('records equal and cosigned', (x) => {
        const types = (x.entries ?? []).map((e) => e.type);
        return types.includes('call_accepted') && types.includes('roster_changed');
      });
      return (await receiptsComplete(r)) ? r : undefined;
    });
    const m = await recordOf(moscow.url, boris);
    assert.deepEqual(m.entries?.slice(0, w.size), w.entries, 'the two stations hold the same entries');
    const wNow = await recordOf(washington.url, alice);
    const entries = w.entries ?? [];
    const first = entries[0];
    assert.equal(first?.type, 'line_linked');
    assert.ok(first?.type === 'line_linked' && first.inviterKey === keys.inviter && first.acceptorKey === keys.acceptor);
    const req = entries.find((e) => e.type === 'call_requested');
    assert.ok(req?.type === 'call_requested');
    assert.equal(req.callId, callId);
    assert.equal(req.urgency, 'flash');
    assert.deepEqual(req.by, { side: 'inviter', handle: 'alice' });
    const ack = entries.find((e) => e.type === 'call_acknowledged');
    assert.deepEqual(ack?.by, { side: 'acceptor', handle: 'boris' });
    assert.ok(entries.some((e) => e.type === 'items' && e.dir === 'acceptor_to_inviter'));
    assert.ok(entries.some((e) => e.type === 'items' && e.dir === 'inviter_to_acceptor'));
    // The hub added moscow's recorder to the group: a roster entry names both recorders by side.
    const roster = entries.find((e) => e.type === 'roster_changed');
    assert.ok(roster?.type === 'roster_changed', 'a roster change is recorded');
    assert.ok(
      roster.added.some((d) => d.startsWith('i-recorder-')) && roster.added.some((d) => d.startsWith('a-recorder-')),
      JSON.stringify(roster),
    );
    assert.deepEqual(wNow.alarms, []);
    assert.deepEqual(m.alarms, []);
  });

  it('an export verifies offline with the two station keys and says who requested the call and when', async () => {
    const file = join(work, 'hotline.json');
    const exp = await runCli(['record', 'export', '--data', washington.dir, '--line', 'hotline', '--out', file]);
    assert.equal(exp.code, 0, exp.stderr);
    const verify = await runCli(['record', 'verify', file, '--inviter-key', keys.inviter, '--acceptor-key', keys.acceptor]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /VERIFIED/);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as RecordExport;
    const req = parsed.entries.find((e) => e.type === 'call_requested') as RecordEntry;
    assert.ok(verify.stdout.includes('inviter/alice'), verify.stdout);
    assert.ok(verify.stdout.includes(req.at), `the report gives the time of the request\n${verify.stdout}`);

    // The other station's export of the same record verifies too.
    const fileM = join(work, 'hotline-moscow.json');
    assert.equal((await runCli(['record', 'export', '--data', moscow.dir, '--line', 'hotline', '--out', fileM])).code, 0);
    const verifyM = await runCli(['record', 'verify', fileM, '--inviter-key', keys.inviter, '--acceptor-key', keys.acceptor]);
    assert.equal(verifyM.code, 0, verifyM.stdout);
  });

  it('a tampered export fails with the named problem', async () => {
    const file = join(work, 'hotline.json');
    const original = JSON.parse(readFileSync(file, 'utf8')) as RecordExport;
    const verify = async (name: string, doc: unknown, k = keys) => {
      const path = join(work, name);
      writeFileSync(path, JSON.stringify(doc));
      const r = await runCli(['record', 'verify', path, '--inviter-key', k.inviter, '--acceptor-key', k.acceptor]);
      assert.equal(r.code, 1, `${name} must fail\n${r.stdout}`);
      assert.match(r.stdout, /NOT VERIFIED/);
      return r.stdout;
    };

    const edited = structuredClone(original);
    const req = edited.entries.find((e) => e.type === 'call_requested');
    assert.ok(req?.type === 'call_requested');
    req.urgency = 'routine';
    assert.match(await verify('edited.json', edited), new RegExp(`ENTRY_TAMPERED\\s+entry ${req.index}`));

    const unsigned = structuredClone(original);
    const last = unsigned.heads[unsigned.heads.length - 1] as CosignedHead;
    delete last.signatures.acceptor;
    assert.match(await verify('one-signature.json', unsigned), /HEAD_SIGNED_BY_ONE_SIDE/);

    // The keys of the wrong stations: nothing in the file counts.
    assert.match(await verify('swapped-keys.json', original, { inviter: keys.acceptor, acceptor: keys.inviter }), /UNKNOWN_KEY/);
  });

  it('kill -9 of the hub in the middle of traffic loses no entry; both records still agree', async () => {
    const fromW = items('kw', 150);
    const fromM = items('km', 150);
    const sending = Promise.all([
      httpSendAll(() => washington.url, alice, 'hotline', fromW, { concurrency: 4, ratePerSec: 100 }),
      httpSendAll(() => moscow.url, boris, 'hotline', fromM, { concurrency: 4, ratePerSec: 100 }),
    ]);
    await new Promise((r) => setTimeout(r, 700));
    await washington.kill9();
    await new Promise((r) => setTimeout(r, 300));
    // A loaded test machine can take longer than start()'s 15 s to bring a station up.
    await washington.start().catch(() => washington.waitHealthy(60_000));
    await sending;
    const r = await waitFor('records settled with a receipt of every item', async () => {
      const s = await settled('records equal and cosigned');
      return (await receiptsComplete(s)) ? s : undefined;
    });
    const m = await recordOf(moscow.url, boris);
    assert.deepEqual(m.entries?.slice(0, r.size), r.entries);
    // The call entries from before the crash are still there, once each.
    assert.equal((r.entries ?? []).filter((e) => e.type === 'call_requested').length, 1);
    assert.deepEqual(r.alarms, []);
    assert.deepEqual(m.alarms, []);
  });

  it('a station that rewrites its stored record is caught by its peer, with the evidence', async () => {
    const before = await settled('records equal and cosigned before the rewrite');
    await moscow.stop();
    // Moscow's operator rewrites history: the call was only "routine". The row's leaf hash is
    // recomputed and the heads it signed are deleted, so nothing on moscow itself shows it.
    // Through the station's own database code, so the same edit runs on SQLite and PostgreSQL.
    const db = await openDatabase(loadDataDir(moscow.dir));
    try {
      const row = await db
        .selectFrom('record_entries')
        .select(['idx', 'entry'])
        .where('line_id', '=', lineId)
        .where('entry', 'like', '%call_requested%')
        .executeTakeFirstOrThrow();
      const entry = JSON.parse(row.entry) as RecordEntry;
      assert.ok(entry.type === 'call_requested');
      entry.urgency = 'routine';
      await db
        .updateTable('record_entries')
        .set({ entry: JSON.stringify(entry), leaf_hash: entryLeafHash(entry) })
        .where('line_id', '=', lineId)
        .where('idx', '=', row.idx)
        .execute();
      await db.deleteFrom('record_heads').where('line_id', '=', lineId).execute();
    } finally {
      await db.destroy();
    }
    await moscow.start();

    const alarm = await waitFor('washington raises the alarm', async () => {
      const w = await recordOf(washington.url, alice);
      return w.alarms.find((a) => a.reason === 'PEER_HEAD_INCONSISTENT');
    });
    const evidence = alarm.evidence as Inconsistency;
    assert.equal(evidence.kind, 'parley-record-inconsistency-v1');
    assert.equal(evidence.reason, 'SAME_SIZE_DIFFERENT_ROOT');
    assert.deepEqual(evidence.equivocatedBy, ['acceptor'], 'moscow signed two roots for one size');
    assert.equal(evidence.previous.head.rootHash, before.rootHash);
    assert.ok(evidence.previous.signatures.acceptor && evidence.presented.signatures.acceptor);
    assert.notEqual(evidence.presented.head.rootHash, before.rootHash);

    const metrics = await (await fetch(`${washington.url}/metrics`)).text();
    assert.match(metrics, /parley_record_alarms\{line="hotline"\} [1-9]/);
    // Washington's own record is untouched and still verifies.
    const file = join(work, 'after-alarm.json');
    assert.equal((await runCli(['record', 'export', '--data', washington.dir, '--line', 'hotline', '--out', file])).code, 0);
    const verify = await runCli(['record', 'verify', file, '--inviter-key', keys.inviter, '--acceptor-key', keys.acceptor]);
    assert.equal(verify.code, 0, verify.stdout);
  });

  it('a receipt that does not match the items the other station holds raises its alarm, and it signs no further', async () => {
    // Washington plays a lying hub: stopped, its key signs two items by hand, a message and a
    // receipt that gives that message another hash.
    await washington.stop();
    const key = StationKey.fromPem(readFileSync(join(washington.dir, 'station.key'), 'utf8'));
    const tl = await readTimeline(moscow.url, boris, 'hotline');
    const next = Math.max(0, ...tl.filter((i) => i.dir === 'in').map((i) => i.seq)) + 1;
    const wrong = Buffer.alloc(32, 7).toString('base64url');
    const receipt = encodeRecordItem({
      type: 'items',
      dir: 'inviter_to_acceptor',
      hashes: [{ seq: next, sha256: wrong }],
      at: new Date().toISOString(),
      by: { side: 'inviter' },
    });
    const body = Buffer.from(
      JSON.stringify({
        items: [
          { seq: next, kind: 'mls', payload: opaquePayload(lineId, 'lie'), sender: 'alice', clientId: 'lying-hub-1', sentAt: Date.now() },
          {
            seq: next + 1,
            kind: 'record',
            payload: Buffer.from(receipt).toString('base64url'),
            sender: 'recorder',
            clientId: 'lying-hub-2',
            sentAt: Date.now(),
          },
        ],
      }),
    );
    const path = `/fed/v1/lines/${lineId}/items`;
    const res = await fetch(`${moscow.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(key, 'POST', path, body) },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const m = await waitFor('moscow raises the receipt alarm', async () => {
      const r = await recordOf(moscow.url, boris);
      return r.alarms.some((a) => a.reason === 'RECEIPT_MISMATCH') ? r : undefined;
    });
    const alarm = m.alarms.find((a) => a.reason === 'RECEIPT_MISMATCH') as Alarm;
    const evidence = alarm.evidence as { entry: RecordEntry; problems: { seq: number; recorded?: string; ours?: string }[] };
    assert.equal(evidence.problems[0]?.seq, next);
    assert.equal(evidence.problems[0]?.recorded, wrong);
    assert.equal(m.holdFrom, evidence.entry.index, 'moscow will not sign the lie');
  });
});

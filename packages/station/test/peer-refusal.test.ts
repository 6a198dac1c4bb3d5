// A peer station that refuses our stream's next item holds the whole stream (nothing after it may
// pass, or order would break). The operators must see that and why, not only a growing backlog:
// line status, the client API and /metrics name the item and the peer's reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliOk, eventually, linkStations, StationProcess } from '@parley/testkit';
import { loadDataDir } from '../src/config/data-dir.js';
import { openDatabase } from '../src/station.js';
import { lineSummary, opaquePayload, readTimeline } from './support/line-client.js';

describe('a peer that refuses our next item', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let waToken: string;
  let moToken: string;
  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    waToken = await wa.addEnrolledMember('alice');
    moToken = await mo.addEnrolledMember('boris');
    await linkStations(wa, mo, 'hotline', ['alice'], ['boris']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('shows the held item and the peer’s reason in line status, the client API and /metrics', async () => {
    const lineId = (await lineSummary(mo.url, moToken, 'hotline')).id as string;
    // What an older or newer moscow might send that washington does not take: a Welcome from
    // the side that is not the hub. Put on moscow's stream behind its back, as a bug would.
    await mo.stop();
    const db = await openDatabase(loadDataDir(mo.dir));
    let seq = 0;
    try {
      const line = await db.selectFrom('lines').selectAll().where('id', '=', lineId).executeTakeFirstOrThrow();
      seq = Number(line.out_seq) + 1;
      const pos = Number(line.last_pos) + 1;
      await db
        .insertInto('items')
        .values({
          line_id: lineId,
          pos,
          dir: 'out',
          seq,
          kind: 'welcome',
          payload: Buffer.from(opaquePayload(lineId, 'not for the acceptor to send'), 'base64url'),
          sender_handle: 'recorder',
          client_id: 'stray-welcome-1',
          sent_at: Date.now(),
          stored_at: Date.now(),
        })
        .execute();
      await db.updateTable('lines').set({ out_seq: seq, last_pos: pos }).where('id', '=', lineId).execute();
    } finally {
      await db.destroy();
    }
    await mo.start();

    // Right after the restart the line may read 'down' until washington's next heartbeat lands
    // (a loaded machine takes longer than three intervals to stop, edit and start a station);
    // once heartbeats flow, a held stream is 'degraded'.
    const summary = await eventually('moscow to see the refusal on a line that is otherwise alive', async () => {
      const s = await lineSummary(mo.url, moToken, 'hotline');
      return s.peerRefusal && s.health === 'degraded' ? s : undefined;
    });
    const refusal = summary.peerRefusal as { seq: number; code: string; message: string; since: number };
    assert.equal(refusal.seq, seq, 'the held item is named');
    assert.equal(refusal.code, 'FED_BAD_ITEM', 'with the peer’s machine-readable reason');

    const status = await cliOk(['line', 'status', '--data', mo.dir, '--line', 'hotline']);
    assert.match(status, new RegExp(`washington refuses our item ${seq} .*FED_BAD_ITEM`));
    const json = JSON.parse(await cliOk(['line', 'status', '--data', mo.dir, '--line', 'hotline', '--json'])) as {
      peerRefusal: { seq: number; code: string } | null;
    };
    assert.deepEqual({ seq: json.peerRefusal?.seq, code: json.peerRefusal?.code }, { seq, code: 'FED_BAD_ITEM' });
    const metrics = await (await fetch(`${mo.url}/metrics`)).text();
    assert.match(metrics, /parley_line_peer_refusing\{line="hotline",code="FED_BAD_ITEM"\} 1/);

    // Washington stored none of it, and says the line is fine from its side.
    const atWashington = await readTimeline(wa.url, waToken, 'hotline');
    assert.equal(
      atWashington.some((i) => i.clientId === 'stray-welcome-1'),
      false,
    );
    assert.equal((await lineSummary(wa.url, waToken, 'hotline')).peerRefusal, null);
  });
});

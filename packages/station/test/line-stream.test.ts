// The line WebSocket takes frames sent the moment it opens: a reconnecting client resends what
// was unanswered at once, before the station has looked the line up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linkStations, StationProcess } from '@parley/testkit';
import WebSocket from 'ws';
import { lineSummary, opaquePayload } from './support/line-client.js';

describe('the line WebSocket', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let token: string;
  let lineId: string;
  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 400 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 400 });
    await Promise.all([wa.start(), mo.start()]);
    token = await wa.addEnrolledMember('alice');
    await mo.addEnrolledMember('boris');
    await linkStations(wa, mo, 'hotline', ['alice'], ['boris']);
    lineId = (await lineSummary(wa.url, token, 'hotline')).id as string;
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('answers every frame sent right as the socket opens', async () => {
    for (let round = 0; round < 10; round++) {
      const ws = new WebSocket(`${wa.url.replace(/^http/, 'ws')}/api/v1/lines/hotline/stream?after=999999`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const ids = [0, 1, 2].map((i) => `early-${round}-${i}-abcdef`);
      const answered = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${round}: answered only ${[...answered].join(', ')}`)), 10_000);
        ws.on('open', () => {
          for (const id of ids) ws.send(JSON.stringify({ type: 'send', payload: opaquePayload(lineId, id), clientId: id }));
        });
        ws.on('message', (raw) => {
          const f = JSON.parse(String(raw)) as { type: string; clientId?: string };
          if (f.type === 'accepted' && f.clientId) answered.add(f.clientId);
          if (ids.every((id) => answered.has(id))) {
            clearTimeout(timer);
            resolve();
          }
        });
        ws.on('error', reject);
      });
      ws.close();
    }
  });

  it('tells an open view each new contact with the peer, not the one it saw when it connected', async () => {
    const ws = new WebSocket(`${wa.url.replace(/^http/, 'ws')}/api/v1/lines/hotline/stream?after=999999`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const contacts = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`health frames carried only ${[...contacts].join(', ')}`)), 15_000);
      ws.on('message', (raw) => {
        const f = JSON.parse(String(raw)) as { type: string; health?: string; lastContactAt?: number | null };
        if (f.type !== 'health') return;
        assert.equal(f.health, 'up');
        if (typeof f.lastContactAt === 'number') contacts.add(f.lastContactAt);
        // Heartbeats every 400 ms: three different times of contact on one connection.
        if (contacts.size >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', reject);
    });
    ws.close();
  });
});

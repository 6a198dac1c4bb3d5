import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingMessage } from '../src/offline-queue.js';
import { applyEvents, beforeJoinCount, deliveryOf, emptyTimeline, timelineEntries } from '../src/timeline.js';
import { record } from './fixtures.js';

const pending = (clientId: string, status: PendingMessage['status'] = 'queued'): PendingMessage => ({
  clientId,
  line: 'chiefs-of-staff',
  text: `text of ${clientId}`,
  createdAt: 1,
  status,
});

describe('timeline merge', () => {
  it('keeps items in position order whatever order they arrive in, each once', () => {
    let t = applyEvents(emptyTimeline, [
      { type: 'records', records: [record({ pos: 1 })] },
      { type: 'records', records: [record({ pos: 3 })] },
    ]);
    t = applyEvents(t, [
      { type: 'records', records: [record({ pos: 2 })] },
      { type: 'records', records: [record({ pos: 3 })] },
      { type: 'records', records: [record({ pos: 1 })] },
    ]);
    assert.deepEqual(
      t.records.map((i) => i.pos),
      [1, 2, 3],
    );
    assert.equal(t.cursor, 3);
  });

  it('a position appears once: a later record for it replaces the earlier', () => {
    const r1 = record({ pos: 5, clientId: 'client-aaaa' });
    const t = applyEvents(emptyTimeline, [
      { type: 'records', records: [r1] },
      { type: 'records', records: [{ ...r1 }] },
    ]);
    assert.equal(t.records.length, 1);
  });

  it('a message sent before this device joined is replaced once loaded from the recorder', () => {
    const before = record({ pos: 2, dir: 'in', body: { t: 'before-join', epoch: 1 } });
    let t = applyEvents(emptyTimeline, [{ type: 'records', records: [record({ pos: 1 }), before, record({ pos: 3 })] }]);
    assert.equal(beforeJoinCount(t), 1);
    const loaded = {
      ...before,
      body: { t: 'archived' as const, text: 'old', from: { station: 'moscow', handle: 'chief', deviceId: 'd-1' }, error: null },
    };
    t = applyEvents(t, [{ type: 'records', records: [loaded] }]);
    assert.equal(beforeJoinCount(t), 0);
    assert.deepEqual(
      t.records.map((r) => r.body.t),
      ['text', 'archived', 'text'],
    );
  });

  it('changes of the group are shown as events, not as messages with a delivery state', () => {
    const t = applyEvents(emptyTimeline, [
      {
        type: 'records',
        records: [record({ pos: 1, dir: 'in', body: { t: 'event', event: 'joined', text: 'joined' } }), record({ pos: 2, dir: 'in' })],
      },
    ]);
    assert.deepEqual(
      timelineEntries(t, [], { connected: true, inFlight: new Set() }).map((e) => e.kind),
      ['event', 'record'],
    );
  });

  it('returns the same state object when nothing changes', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'delivered', seq: 0 }]);
    assert.equal(t, emptyTimeline);
    assert.equal(applyEvents(t, []), t);
  });

  it('delivered never moves backwards', () => {
    let t = applyEvents(emptyTimeline, [{ type: 'delivered', seq: 7 }]);
    t = applyEvents(t, [{ type: 'delivered', seq: 4 }]);
    assert.equal(t.deliveredSeq, 7);
  });
});

describe('delivery state', () => {
  it('outgoing items are accepted until the peer acknowledges their seq, then delivered', () => {
    assert.equal(deliveryOf({ dir: 'out', seq: 3 }, 2), 'accepted');
    assert.equal(deliveryOf({ dir: 'out', seq: 3 }, 3), 'delivered');
    assert.equal(deliveryOf({ dir: 'out', seq: 3 }, 9), 'delivered');
    assert.equal(deliveryOf({ dir: 'in', seq: 3 }, 0), 'received');
  });

  it('a delivered frame turns every outgoing item up to its seq to delivered', () => {
    let t = applyEvents(emptyTimeline, [
      { type: 'records', records: [record({ pos: 1, seq: 1 })] },
      { type: 'records', records: [record({ pos: 2, seq: 1, dir: 'in' })] },
      { type: 'records', records: [record({ pos: 3, seq: 2 })] },
    ]);
    const states = () =>
      timelineEntries(t, [], { connected: true, inFlight: new Set() }).map((e) => (e.kind === 'event' ? 'event' : e.state));
    assert.deepEqual(states(), ['accepted', 'received', 'accepted']);
    t = applyEvents(t, [{ type: 'delivered', seq: 1 }]);
    assert.deepEqual(states(), ['delivered', 'received', 'accepted']);
    t = applyEvents(t, [{ type: 'delivered', seq: 2 }]);
    assert.deepEqual(states(), ['delivered', 'received', 'delivered']);
  });

  it('pending messages follow the stored items: queued offline, sending once written to a live socket, failed when refused', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'records', records: [record({ pos: 1 })] }]);
    const p = [pending('client-0001'), pending('client-0002'), pending('client-0003', 'failed')];
    const offline = timelineEntries(t, p, { connected: false, inFlight: new Set(['client-0001']) });
    assert.deepEqual(
      offline.map((e) => (e.kind === 'event' ? 'event' : e.state)),
      ['accepted', 'queued', 'queued', 'failed'],
    );
    const online = timelineEntries(t, p, { connected: true, inFlight: new Set(['client-0001']) });
    assert.deepEqual(
      online.map((e) => (e.kind === 'event' ? 'event' : e.state)),
      ['accepted', 'sending', 'queued', 'failed'],
    );
  });

  it('a pending message whose item has arrived is shown once, as the stored item', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'records', records: [record({ pos: 1, clientId: 'client-0001' })] }]);
    const entries = timelineEntries(t, [pending('client-0001')], { connected: true, inFlight: new Set(['client-0001']) });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.kind, 'record');
  });

  it('an incoming item with the same clientId does not hide our pending message', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'records', records: [record({ pos: 1, dir: 'in', clientId: 'client-0001' })] }]);
    const entries = timelineEntries(t, [pending('client-0001')], { connected: true, inFlight: new Set() });
    assert.equal(entries.length, 2);
  });
});

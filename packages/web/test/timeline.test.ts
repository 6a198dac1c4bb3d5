import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingMessage } from '../src/offline-queue.js';
import { applyEvents, deliveryOf, emptyTimeline, timelineEntries } from '../src/timeline.js';
import { item } from './fixtures.js';

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
      { type: 'item', item: item({ pos: 1 }) },
      { type: 'item', item: item({ pos: 3 }) },
    ]);
    t = applyEvents(t, [
      { type: 'item', item: item({ pos: 2 }) },
      { type: 'item', item: item({ pos: 3 }) },
      { type: 'item', item: item({ pos: 1 }) },
    ]);
    assert.deepEqual(
      t.items.map((i) => i.pos),
      [1, 2, 3],
    );
    assert.equal(t.cursor, 3);
  });

  it('an accepted answer and the streamed copy of the same item make one entry', () => {
    const it1 = item({ pos: 5, clientId: 'client-aaaa' });
    const t = applyEvents(emptyTimeline, [
      { type: 'item', item: it1 },
      { type: 'item', item: { ...it1 } },
    ]);
    assert.equal(t.items.length, 1);
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
      { type: 'item', item: item({ pos: 1, seq: 1 }) },
      { type: 'item', item: item({ pos: 2, seq: 1, dir: 'in' }) },
      { type: 'item', item: item({ pos: 3, seq: 2 }) },
    ]);
    const states = () => timelineEntries(t, [], { connected: true, inFlight: new Set() }).map((e) => e.state);
    assert.deepEqual(states(), ['accepted', 'received', 'accepted']);
    t = applyEvents(t, [{ type: 'delivered', seq: 1 }]);
    assert.deepEqual(states(), ['delivered', 'received', 'accepted']);
    t = applyEvents(t, [{ type: 'delivered', seq: 2 }]);
    assert.deepEqual(states(), ['delivered', 'received', 'delivered']);
  });

  it('pending messages follow the stored items: queued offline, sending once written to a live socket, failed when refused', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'item', item: item({ pos: 1 }) }]);
    const p = [pending('client-0001'), pending('client-0002'), pending('client-0003', 'failed')];
    const offline = timelineEntries(t, p, { connected: false, inFlight: new Set(['client-0001']) });
    assert.deepEqual(
      offline.map((e) => e.state),
      ['accepted', 'queued', 'queued', 'failed'],
    );
    const online = timelineEntries(t, p, { connected: true, inFlight: new Set(['client-0001']) });
    assert.deepEqual(
      online.map((e) => e.state),
      ['accepted', 'sending', 'queued', 'failed'],
    );
  });

  it('a pending message whose item has arrived is shown once, as the stored item', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'item', item: item({ pos: 1, clientId: 'client-0001' }) }]);
    const entries = timelineEntries(t, [pending('client-0001')], { connected: true, inFlight: new Set(['client-0001']) });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.kind, 'item');
  });

  it('an incoming item with the same clientId does not hide our pending message', () => {
    const t = applyEvents(emptyTimeline, [{ type: 'item', item: item({ pos: 1, dir: 'in', clientId: 'client-0001' }) }]);
    const entries = timelineEntries(t, [pending('client-0001')], { connected: true, inFlight: new Set() });
    assert.equal(entries.length, 2);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLiveView, checkStream, type SenderLog, type TimelineItem } from '../src/stream-checker.js';

// The fault test is only as good as its checker: feed it streams broken in every way the
// line must not break, and see each one named.

function sender(name: string, n: number, ordered = true): SenderLog {
  return {
    name,
    handle: name,
    ordered,
    items: Array.from({ length: n }, (_, i) => ({ clientId: `${name}-${i}`, payload: `p-${name}-${i}`, acceptedSeq: null })),
  };
}

/** A receiving timeline holding the given (sender, index) items in this order, seqs 1..n. */
function timeline(senders: SenderLog[], order: [number, number][], opts: { localEvery?: number } = {}): TimelineItem[] {
  const out: TimelineItem[] = [];
  let pos = 0;
  order.forEach(([s, i], k) => {
    if (opts.localEvery && k % opts.localEvery === 0) {
      out.push({ pos: ++pos, dir: 'out', seq: k + 1, payload: 'local', clientId: `local-${k}`, sender: { handle: 'local' } });
    }
    const log = senders[s] as SenderLog;
    const item = log.items[i] as SenderLog['items'][number];
    out.push({ pos: ++pos, dir: 'in', seq: k + 1, payload: item.payload, clientId: item.clientId, sender: { handle: log.handle } });
  });
  return out;
}

/** Mark items acknowledged with the sequence they hold in `tl`. */
function acknowledge(senders: SenderLog[], tl: TimelineItem[], except: Set<string> = new Set()): void {
  for (const t of tl) {
    if (t.dir !== 'in') continue;
    for (const s of senders) {
      const item = s.items.find((x) => x.clientId === t.clientId && s.handle === t.sender.handle);
      if (item && !except.has(item.clientId)) item.acceptedSeq = t.seq;
    }
  }
}

function interleaved(a: number, b: number): [number, number][] {
  const order: [number, number][] = [];
  for (let i = 0; i < Math.max(a, b); i++) {
    if (i < a) order.push([0, i]);
    if (i < b) order.push([1, i]);
  }
  return order;
}

describe('stream checker', () => {
  it('passes a correct stream, interleaved with local items, from two senders', () => {
    const senders = [sender('alice', 20), sender('anna', 15, false)];
    const tl = timeline(senders, interleaved(20, 15), { localEvery: 3 });
    acknowledge(senders, tl);
    const r = checkStream({ senders, receiverTimeline: tl });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.stats, { sent: 35, acknowledged: 35, received: 35, unacknowledgedDelivered: 0, others: 0 });
  });

  it('takes items from a known other sender (a recorder device) in their place in the stream, once each', () => {
    const senders = [sender('alice', 4)];
    const tl = timeline(senders, interleaved(4, 0));
    acknowledge(senders, tl);
    // The recorder's item sits at sequence 3; the stream is renumbered around it.
    const withRecorder: TimelineItem[] = [];
    let seq = 0;
    tl.forEach((t, i) => {
      if (i === 2)
        withRecorder.push({ pos: 0, dir: 'in', seq: ++seq, payload: 'mls', clientId: 'commit-e1', sender: { handle: 'recorder' } });
      withRecorder.push({ ...t, seq: ++seq });
    });
    withRecorder.forEach((t, i) => {
      t.pos = i + 1;
    });
    for (const s of senders)
      for (const it of s.items) it.acceptedSeq = (withRecorder.find((t) => t.clientId === it.clientId) as TimelineItem).seq;
    const r = checkStream({ senders, receiverTimeline: withRecorder, otherSenders: ['recorder'] });
    assert.deepEqual(r.problems, []);
    assert.equal(r.stats.others, 1);
    assert.equal(r.stats.received, 4);
    // Unless allowed, an item nobody sent is reported, and a repeated one always is.
    assert.ok(checkStream({ senders, receiverTimeline: withRecorder }).problems.some((p) => /never sent by any client/.test(p)));
    const twice = [...withRecorder, { ...(withRecorder[2] as TimelineItem), pos: 99, seq: 6 }];
    assert.ok(
      checkStream({ senders, receiverTimeline: twice, otherSenders: ['recorder'] }).problems.some((p) =>
        /recorder\/commit-e1 delivered twice/.test(p),
      ),
    );
  });

  it('accepts items the sender never saw acknowledged, once', () => {
    const senders = [sender('alice', 10)];
    const tl = timeline(senders, interleaved(10, 0));
    acknowledge(senders, tl, new Set(['alice-4', 'alice-9']));
    // and alice-10 .. never arrived and was never acknowledged: fine as well
    senders[0]?.items.push({ clientId: 'alice-10', payload: 'p-alice-10', acceptedSeq: null });
    const r = checkStream({ senders, receiverTimeline: tl });
    assert.deepEqual(r.problems, []);
    assert.equal(r.stats.unacknowledgedDelivered, 2);
  });

  it('catches a lost acknowledged item', () => {
    const senders = [sender('alice', 10)];
    const tl = timeline(senders, interleaved(10, 0));
    acknowledge(senders, tl);
    // the receiver lost item 5 (and the stream renumbered around it, or not)
    const lost = tl.filter((t) => t.clientId !== 'alice-5');
    const r = checkStream({ senders, receiverTimeline: lost });
    assert.ok(
      r.problems.some((p) => /alice-5 was acknowledged .* never arrived/.test(p)),
      r.problems.join('\n'),
    );
    assert.ok(r.problems.some((p) => /gap or is out of order/.test(p)));
  });

  it('catches a lost item even when the receiver renumbered its stream to hide the gap', () => {
    const senders = [sender('alice', 6)];
    const full = timeline(senders, interleaved(6, 0));
    acknowledge(senders, full);
    const renumbered = timeline(
      senders,
      interleaved(6, 0).filter(([, i]) => i !== 2),
    );
    const r = checkStream({ senders, receiverTimeline: renumbered });
    assert.ok(r.problems.some((p) => /alice-2 was acknowledged/.test(p)));
    assert.ok(r.problems.some((p) => /acknowledged as sequence 4 but arrived as 3/.test(p)));
  });

  it('catches a duplicate, by client id and by sequence number', () => {
    const senders = [sender('alice', 5)];
    const tl = timeline(senders, interleaved(5, 0));
    acknowledge(senders, tl);
    const third = tl[2] as TimelineItem;
    const dupByClient = [...tl, { ...third, pos: 99, seq: 6 }];
    const r1 = checkStream({ senders, receiverTimeline: dupByClient });
    assert.ok(
      r1.problems.some((p) => /alice-2 delivered twice/.test(p)),
      r1.problems.join('\n'),
    );

    const dupBySeq = [...tl, { ...third, pos: 99, clientId: 'alice-x', payload: 'x' }];
    const r2 = checkStream({ senders, receiverTimeline: dupBySeq });
    assert.ok(
      r2.problems.some((p) => /sequence 3 delivered twice/.test(p)),
      r2.problems.join('\n'),
    );
    assert.ok(r2.problems.some((p) => /never sent by any client/.test(p)));
  });

  it('catches reordering: by sequence on the stream, and against the send order of an ordered sender', () => {
    const senders = [sender('alice', 5)];
    const tl = timeline(senders, interleaved(5, 0));
    acknowledge(senders, tl);
    // positions swapped: seqs arrive 1,2,4,3,5
    const swapped = tl.map((t) => ({ ...t }));
    const a = swapped[2] as TimelineItem;
    const b = swapped[3] as TimelineItem;
    [a.pos, b.pos] = [b.pos, a.pos];
    swapped.sort((x, y) => x.pos - y.pos);
    const r1 = checkStream({ senders, receiverTimeline: swapped });
    assert.ok(
      r1.problems.some((p) => /gap or is out of order/.test(p)),
      r1.problems.join('\n'),
    );

    // The station numbered them consistently but not in the order the client sent them.
    const misordered = timeline(senders, [
      [0, 0],
      [0, 2],
      [0, 1],
      [0, 3],
      [0, 4],
    ]);
    const fresh = [sender('alice', 5)];
    acknowledge(fresh, misordered);
    const r2 = checkStream({ senders: fresh, receiverTimeline: misordered });
    assert.ok(
      r2.problems.some((p) => /sent alice-1 before alice-2, but they arrived as sequences 3 and 2/.test(p)),
      r2.problems.join('\n'),
    );
    // An unordered sender (parallel HTTP) may see that.
    const unordered = [sender('alice', 5, false)];
    acknowledge(unordered, misordered);
    assert.deepEqual(checkStream({ senders: unordered, receiverTimeline: misordered }).problems, []);
  });

  it('catches an altered payload and a timeline out of position order', () => {
    const senders = [sender('alice', 3)];
    const tl = timeline(senders, interleaved(3, 0));
    acknowledge(senders, tl);
    const altered = tl.map((t, i) => (i === 1 ? { ...t, payload: 'tampered' } : t));
    assert.ok(checkStream({ senders, receiverTimeline: altered }).problems.some((p) => /different payload/.test(p)));
    const backwards = [...tl].reverse();
    assert.ok(checkStream({ senders, receiverTimeline: backwards }).problems.some((p) => /not in position order/.test(p)));
  });

  it('compares both ends of the stream when given the sending station’s timeline', () => {
    const senders = [sender('alice', 4)];
    const rx = timeline(senders, interleaved(4, 0));
    acknowledge(senders, rx);
    const tx = rx.map((t) => ({ ...t, dir: 'out' as const }));
    assert.deepEqual(checkStream({ senders, receiverTimeline: rx, senderTimeline: tx }).problems, []);
    // The sender holds one more than was delivered (not quiescent, or lost in transit).
    const more = [...tx, { ...(tx[3] as TimelineItem), pos: 5, seq: 5, clientId: 'alice-9' }];
    assert.ok(checkStream({ senders, receiverTimeline: rx, senderTimeline: more }).problems.some((p) => /holds 5 outgoing items/.test(p)));
    // Same sequence, different item at each end.
    const differs = tx.map((t, i) => (i === 0 ? { ...t, clientId: 'alice-3' } : t));
    assert.ok(
      checkStream({ senders, receiverTimeline: rx, senderTimeline: differs }).problems.some((p) =>
        /sequence 1 differs between the two/.test(p),
      ),
    );
  });

  it('checks a live view against the timeline: gaps, repeats, extras', () => {
    const tl = [1, 2, 3, 4, 5].map((pos) => ({ pos }));
    assert.deepEqual(checkLiveView(tl, tl).problems, []);
    assert.ok(
      checkLiveView(
        [1, 2, 4, 5].map((pos) => ({ pos })),
        tl,
      ).problems.length > 0,
    );
    assert.ok(
      checkLiveView(
        [1, 2, 2, 3, 4, 5].map((pos) => ({ pos })),
        tl,
      ).problems.length > 0,
    );
    assert.ok(
      checkLiveView(
        [1, 2, 3].map((pos) => ({ pos })),
        tl,
      ).problems.some((p) => /stopped/.test(p)),
    );
    assert.ok(
      checkLiveView(
        [1, 2, 3, 4, 5, 6].map((pos) => ({ pos })),
        tl,
      ).problems.some((p) => /extra/.test(p)),
    );
  });
});

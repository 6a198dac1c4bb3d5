import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encrypt } from '@parley/e2ee';
import { topUpKeyPackages } from '../src/e2ee/device.js';
import { LineEngine, type LineRecord } from '../src/e2ee/line-engine.js';
import { encodeContent } from '../src/message-codec.js';
import {
  decodeReceiptContent,
  encodeReceiptContent,
  isReceiptItem,
  RECEIPT_AAD,
  ReceiptMarks,
  readersOf,
  receiptToSend,
} from '../src/receipts.js';
import { memoryStore } from '../src/storage.js';
import { applyEvents, emptyTimeline, isMessageRecord, timelineEntries } from '../src/timeline.js';
import { countUnread } from '../src/unread.js';
import { FakeLine } from './e2ee-fixtures.js';
import { record } from './fixtures.js';

const receipt = (pos: number, from: string, side: 'inviter' | 'acceptor', seq: number, dir: 'in' | 'out' = 'in'): LineRecord =>
  record({
    pos,
    dir,
    body: {
      t: 'receipt',
      upTo: { side, seq },
      from: { station: dir === 'in' ? 'moscow' : 'washington', handle: from, deviceId: 'd' },
      own: false,
    },
  });

const states = (entries: ReturnType<typeof timelineEntries>) =>
  entries.flatMap((e) =>
    e.kind === 'record' ? [`${e.record.pos}:${e.state}${e.readBy ? `(${e.readBy.map((r) => r.handle).join(',')})` : ''}`] : [],
  );

describe('read receipts', () => {
  it('are JSON {type: receipt, readUpTo: {side, seq}}; anything else is no receipt', () => {
    const bytes = encodeReceiptContent({ side: 'inviter', seq: 12 });
    assert.equal(Buffer.from(bytes).toString('utf8'), '{"type":"receipt","readUpTo":{"side":"inviter","seq":12}}');
    assert.deepEqual(decodeReceiptContent(bytes), { side: 'inviter', seq: 12 });
    for (const bad of [
      '{"type":"receipt","readUpTo":{"side":"x","seq":1}}',
      '{"type":"receipt","readUpTo":{"side":"inviter","seq":0}}',
      '{"text":"hi"}',
      'x',
    ]) {
      assert.equal(decodeReceiptContent(new TextEncoder().encode(bad)), undefined, bad);
    }
  });

  it('mark our messages read up to the newest receipt of each member of the other side, with who read them', () => {
    // We are the inviter (washington). Our messages 1, 2, 4; theirs 3.
    let t = applyEvents(emptyTimeline, [
      { type: 'records', records: [record({ pos: 1 }), record({ pos: 2 }), record({ pos: 3, dir: 'in' }), record({ pos: 4 })] },
      { type: 'delivered', seq: 4 },
    ]);
    const opts = { connected: true, inFlight: new Set<string>(), side: 'inviter' as const };
    assert.deepEqual(states(timelineEntries(t, [], opts)), ['1:delivered', '2:delivered', '3:received', '4:delivered']);
    t = applyEvents(t, [{ type: 'records', records: [receipt(5, 'boris', 'inviter', 2), receipt(6, 'anna', 'inviter', 1)] }]);
    const entries = timelineEntries(t, [], opts);
    assert.deepEqual(states(entries), ['1:read(anna,boris)', '2:read(boris)', '3:received', '4:delivered']);
    assert.equal(entries.length, 4, 'receipts are not shown as messages or events');
    // A later receipt moves a reader on; an older one (arriving late) never moves them back.
    t = applyEvents(t, [{ type: 'records', records: [receipt(7, 'boris', 'inviter', 4), receipt(8, 'boris', 'inviter', 1)] }]);
    assert.deepEqual(states(timelineEntries(t, [], opts)), ['1:read(anna,boris)', '2:read(boris)', '3:received', '4:read(boris)']);
    // Receipts about the other side's stream (sent by our own members) say nothing about our messages.
    const ours = applyEvents(emptyTimeline, [
      { type: 'records', records: [record({ pos: 1 }), receipt(2, 'chief', 'acceptor', 1, 'out')] },
    ]);
    assert.deepEqual(states(timelineEntries(ours, [], opts)), ['1:accepted']);
    const wrongSide = applyEvents(emptyTimeline, [{ type: 'records', records: [record({ pos: 1 }), receipt(2, 'boris', 'acceptor', 9)] }]);
    assert.deepEqual(readersOf(wrongSide.records, 'inviter'), []);
  });

  it('are not messages: not in contact history, not unread', () => {
    const recs = [record({ pos: 1, dir: 'in' }), receipt(2, 'boris', 'inviter', 1)];
    assert.deepEqual(
      recs.filter(isMessageRecord).map((r) => r.pos),
      [1],
    );
  });

  it('are sent when the newest message of the other side shown with its text advances, once', () => {
    const recs: LineRecord[] = [record({ pos: 1 }), record({ pos: 2, dir: 'in' })];
    // Positions are per station; sequence numbers per side: the peer's message 2 is its seq 2 here (fixture).
    assert.deepEqual(receiptToSend(recs, 'acceptor', 0), { side: 'acceptor', seq: 2 });
    assert.equal(receiptToSend(recs, 'acceptor', 2), null, 'nothing new: no receipt');
    // Only our own messages, or messages this device cannot read yet: nothing read.
    assert.equal(receiptToSend([record({ pos: 1 })], 'acceptor', 0), null);
    assert.equal(receiptToSend([record({ pos: 3, dir: 'in', body: { t: 'pending', epoch: 4 } })], 'acceptor', 0), null);
    assert.equal(receiptToSend([receipt(4, 'boris', 'inviter', 1)], 'acceptor', 0), null, 'a receipt is not something read');
    const marks = new ReceiptMarks(memoryStore(), 'scope');
    marks.set('line-1', 5);
    marks.set('line-1', 3);
    assert.equal(marks.get('line-1'), 5, 'only moves forward');
    assert.equal(marks.get('line-2'), 0);
  });

  it('travel end-to-end encrypted: the engine seals ours, decrypts theirs, the header alone tells unread counts to skip them', async () => {
    const line = await FakeLine.create();
    const { ctx } = await line.webDevice();
    await topUpKeyPackages(ctx);
    const engine = await LineEngine.open(ctx, line.summary());
    await line.addWebDevice();
    await engine.ingest(line.after(0));
    // washington (inviter) writes; boris (moscow, acceptor) reads it and his app sends a receipt.
    const said = await engine.seal({ clientId: 'client-00000001', text: 'Proposal: call at 14:00Z' });
    assert.ok('payload' in said);
    const sent = line.push('out', 'chief', 'mls', new Uint8Array(Buffer.from(said.payload, 'base64url')), 'client-00000001');
    const theirs = await encrypt(line.borisState, encodeReceiptContent({ side: 'inviter', seq: sent.seq }), {
      authenticatedData: RECEIPT_AAD,
    });
    line.borisState = theirs.state;
    const item = line.push('in', 'chief', 'mls', theirs.message);
    assert.equal(item.payload.includes(Buffer.from('receipt').toString('base64url')), false);
    assert.equal(isReceiptItem(item), true);
    // And one of ours: sealed, sent, back as our own receipt.
    const mine = await engine.sealReceipt('client-00000002', { side: 'acceptor', seq: 1 });
    assert.ok('payload' in mine);
    const back = line.push('out', 'chief', 'mls', new Uint8Array(Buffer.from(mine.payload, 'base64url')), 'client-00000002');
    assert.equal(isReceiptItem(back), true);
    const msg = await encrypt(line.borisState, encodeContent('hello'));
    line.borisState = msg.state;
    const plain = line.push('in', 'chief', 'mls', msg.message);
    assert.equal(isReceiptItem(plain), false);

    const got = await engine.ingest(line.after(engine.cursor));
    const bodies = got.map((r) => r.body.t);
    assert.deepEqual(bodies, ['text', 'receipt', 'receipt', 'text']);
    const b = got[1]?.body;
    assert.ok(b?.t === 'receipt' && !b.own);
    assert.deepEqual(b.upTo, { side: 'inviter', seq: sent.seq });
    assert.equal(b.from.deviceId, line.boris.deviceId, 'who read is the MLS-authenticated device');
    assert.ok(got[2]?.body.t === 'receipt' && got[2].body.own);
    const t = applyEvents(emptyTimeline, [{ type: 'records', records: got }]);
    const entries = timelineEntries(t, [], { connected: true, inFlight: new Set(), side: 'inviter' });
    assert.deepEqual(states(entries), [`${got[0]?.pos}:read(chief)`, `${got[3]?.pos}:received`]);
    // The dashboard counts unread from items without decrypting: the receipt is not one.
    const items = line.after(0).filter((i) => i.kind === 'mls' && !isReceiptItem(i));
    assert.equal(countUnread(items, 0), 1, 'boris’s message only, not his receipt');
  });
});

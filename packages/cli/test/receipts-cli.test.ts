// `parley read --mark-read`: the CLI's read receipts, the same wire format as the web app's.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { peekMessage } from '@parley/e2ee';
import { tempDir } from '@parley/testkit';
import { ensureDevice } from '../src/e2ee/device.js';
import { newestRead, openLine, sendReceipt, sendText, syncLine } from '../src/e2ee/line.js';
import { DeviceStore, type MessageRecord, type TimelineRecord } from '../src/e2ee/store.js';
import { FakeLine } from './e2ee-fake-station.js';

const msg = (pos: number, ref: string, over: Partial<MessageRecord> = {}): MessageRecord => ({
  t: 'msg',
  pos,
  sentAt: 0,
  sender: { station: 'moscow', handle: 'chief', deviceId: 'd' },
  text: `text ${pos}`,
  verified: true,
  error: null,
  status: 'ok',
  clientId: null,
  ref,
  ...over,
});

describe('read receipts from the CLI', () => {
  it('name the newest message of the other side this device decrypted', () => {
    const records: TimelineRecord[] = [
      msg(1, 'acceptor:1'),
      msg(2, 'inviter:1', { status: 'own' }),
      msg(3, 'acceptor:2'),
      msg(4, 'acceptor:3', { text: null, status: 'failed' }),
      msg(5, 'acceptor:4', { translationOf: 'inviter:1' }),
      msg(6, 'acceptor:5', { hidden: 'receipt', text: null }),
    ];
    assert.deepEqual(newestRead(records, 'inviter'), { side: 'acceptor', seq: 2 });
    assert.equal(newestRead(records.slice(1, 2), 'inviter'), null, 'only our own messages: nothing read');
  });

  it('travel encrypted, tagged in the header, once per advance, and are never printed as messages', async () => {
    const fake = await FakeLine.create();
    const dev = async (station: string) => {
      const owner = fake.login(station, 'chief');
      const store = new DeviceStore(join(tempDir(), station));
      await ensureDevice(store, fake.apiFor(owner), owner, { forceKeyPackageCheck: true });
      return { owner, store };
    };
    const wa = await dev('washington');
    const mo = await dev('moscow');
    const session = async (d: typeof wa) => openLine(await ensureDevice(d.store, fake.apiFor(d.owner), d.owner), fake.name);
    await fake.addPending();
    const ws = await session(wa);
    await syncLine(ws);
    await sendText(ws, 'Request a call at 14:00Z');

    const ms = await session(mo);
    await syncLine(ms);
    // The fake stations keep one timeline without sides: moscow is told it is the acceptor.
    ms.line.side = 'acceptor';
    const read: TimelineRecord[] = [msg(9, 'inviter:7')];
    assert.deepEqual(await sendReceipt(ms, read), { side: 'inviter', seq: 7 });
    assert.equal(await sendReceipt(ms, read), null, 'nothing newer read: no second receipt');
    await syncLine(ms);

    const item = fake.timeline[fake.timeline.length - 1];
    assert.ok(item);
    assert.equal(peekMessage(Buffer.from(item.payload, 'base64url')).kind, 'application');
    assert.ok(Buffer.from(item.payload, 'base64url').includes(Buffer.from('parley/receipt')), 'tagged in the clear header');
    assert.ok(!Buffer.from(item.payload, 'base64url').includes(Buffer.from('readUpTo')), 'what it says is encrypted');

    await syncLine(await session(wa));
    for (const d of [wa, mo]) {
      const last = d.store.readCache(fake.name).timeline.find((r) => r.pos === item.pos);
      assert.ok(last?.t === 'msg' && last.hidden === 'receipt', `${d.owner.stationName} keeps it hidden`);
    }
  });
});

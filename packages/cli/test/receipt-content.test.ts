import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeContent } from '../src/e2ee/content.js';
import { toText, withArchive } from '../src/e2ee/format.js';
import type { MessageRecord } from '../src/e2ee/store.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('read receipts in the CLI', () => {
  it('are recognised as hidden content, not as a message or an error', () => {
    assert.deepEqual(decodeContent(bytes('{"type":"receipt","readUpTo":{"side":"inviter","seq":3}}')), {
      text: null,
      error: null,
      hidden: 'receipt',
    });
    assert.deepEqual(decodeContent(bytes('{"text":"hello"}')), { text: 'hello', error: null });
  });

  it('filled in from the archive stay hidden instead of printing their JSON', () => {
    const rec: MessageRecord = {
      t: 'msg',
      pos: 4,
      sentAt: 0,
      sender: { station: 'moscow', handle: 'chief', deviceId: null },
      text: null,
      verified: false,
      error: null,
      status: 'before-join',
      clientId: null,
    };
    const text = Buffer.from('{"type":"receipt","readUpTo":{"side":"inviter","seq":3}}').toString('base64url');
    const [shown] = withArchive(
      [rec],
      new Map([[4, { pos: 4, sentAt: 0, sender: { station: 'moscow', handle: 'chief', deviceId: 'd' }, text, error: null }]]),
    );
    assert.ok(shown?.t === 'msg' && shown.hidden === 'receipt');
    assert.doesNotMatch(toText(rec), /receipt/);
  });
});

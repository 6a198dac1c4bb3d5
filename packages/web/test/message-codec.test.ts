import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage, payloadBytes } from '../src/message-codec.js';

describe('message codec', () => {
  it('encodes exactly as the CLI does (UTF-8, unpadded base64url)', () => {
    for (const text of ['Request a call at 14:00Z', 'Запрос на звонок', '', '🛰️ a\nb', 'x'.repeat(1000)]) {
      assert.equal(encodeMessage(text), Buffer.from(text, 'utf8').toString('base64url'));
      assert.deepEqual(decodeMessage(encodeMessage(text)), { ok: true, text });
    }
  });

  it('reports a payload it cannot show instead of throwing', () => {
    assert.equal(decodeMessage('!!!').ok, false);
    assert.equal(decodeMessage(Buffer.from([0xff, 0xfe, 0x00]).toString('base64url')).ok, false);
  });

  it('measures the payload in bytes, not characters', () => {
    assert.equal(payloadBytes('Запрос'), 12);
  });
});

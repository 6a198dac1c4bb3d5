import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peekMessage } from '@parley/e2ee';
import {
  contentBytes,
  decodeContent,
  decodeLegacyText,
  encodeContent,
  encodeSignalContent,
  isConversationItem,
  SIGNAL_AAD,
  validLang,
} from '../src/message-codec.js';
import { FakeLine } from './e2ee-fixtures.js';

describe('message content', () => {
  it('is UTF-8 JSON {text, lang?}, as the CLI writes it', () => {
    assert.equal(Buffer.from(encodeContent('Request a call at 14:00Z')).toString('utf8'), '{"text":"Request a call at 14:00Z"}');
    assert.equal(Buffer.from(encodeContent('Запрос', 'ru')).toString('utf8'), '{"text":"Запрос","lang":"ru"}');
    for (const [text, lang] of [['Request a call at 14:00Z'], ['Запрос на звонок', 'ru'], [''], ['🛰️ a\nb', 'en-GB']] as [
      string,
      string?,
    ][]) {
      assert.deepEqual(decodeContent(encodeContent(text, lang)), lang ? { ok: true, text, lang } : { ok: true, text });
    }
  });

  it('says what it cannot show instead of throwing', () => {
    const bad = (s: string | Uint8Array) => decodeContent(typeof s === 'string' ? new TextEncoder().encode(s) : s);
    assert.deepEqual(bad('plain text'), { ok: false, code: 'BAD_CONTENT', reason: 'the decrypted message is not Parley message JSON' });
    assert.equal(bad(new Uint8Array([0xff, 0xfe])).ok, false);
    assert.equal(bad('[1,2]').ok, false);
    const other = bad('{"type":"call-offer","sdp":"…"}');
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.code, 'NOT_TEXT');
    assert.deepEqual(bad('{"text":"hi","lang":"not a tag!"}'), { ok: true, text: 'hi' }, 'a bad language tag is dropped, the text kept');
  });

  it('checks language tags', () => {
    for (const t of ['en', 'ru', 'en-GB', 'zh-Hant-TW']) assert.ok(validLang(t), t);
    for (const t of ['', 'e', 'en_GB', 'x'.repeat(40), 'ru; drop']) assert.ok(!validLang(t), t);
  });

  it('measures the content in bytes, not characters', () => {
    assert.equal(contentBytes('Запрос'), '{"text":""}'.length + 12);
  });

  it('reads old unencrypted items as text when they are UTF-8', () => {
    assert.equal(decodeLegacyText(new TextEncoder().encode('old')), 'old');
    assert.equal(decodeLegacyText(new Uint8Array([0xff])), null);
  });

  it('counts unencrypted messages as conversation, and undecodable MLS items not', () => {
    assert.equal(isConversationItem({ kind: 'message', payload: 'aGk' }), true);
    assert.equal(isConversationItem({ kind: 'welcome', payload: 'aGk' }), false);
    assert.equal(isConversationItem({ kind: 'mls', payload: '!!' }), false);
    assert.equal(isConversationItem({ kind: 'mls', payload: 'aGk' }), false);
  });

  it('tells application messages from the group’s plumbing by the MLS header alone, as peekMessage does', async () => {
    const line = await FakeLine.create();
    const app = await line.borisSays('hello', { push: false });
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    const cases = [...line.items.map((i) => ({ kind: i.kind, payload: i.payload })), { kind: 'mls' as const, payload: b64(app) }];
    assert.equal(cases.length, 3);
    for (const c of cases) {
      const peeked = peekMessage(Buffer.from(c.payload, 'base64url'));
      assert.equal(isConversationItem(c), c.kind === 'mls' && peeked.kind === 'application', `${c.kind} ${peeked.kind}`);
    }
    assert.equal(isConversationItem({ kind: 'mls', payload: b64(app) }), true);
    // A long group id (two-byte length) still parses.
    const long = new Uint8Array([0, 1, 0, 2, 0x40, 70, ...new Uint8Array(70), ...new Uint8Array(8), 1]);
    assert.equal(isConversationItem({ kind: 'mls', payload: b64(long) }), true);
  });

  it('leaves a call’s voice signals out of what people said, by the header they carry in the clear', async () => {
    const { encrypt } = await import('@parley/e2ee');
    const line = await FakeLine.create();
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    const signal = await encrypt(line.borisState, encodeSignalContent({ kind: 'hangup', callId: 'call0000000000000001' }), {
      authenticatedData: SIGNAL_AAD,
    });
    assert.equal(isConversationItem({ kind: 'mls', payload: b64(signal.message) }), false);
    const other = await encrypt(signal.state, encodeContent('hello'), {
      authenticatedData: new TextEncoder().encode('parley/call-signaX'),
    });
    assert.equal(isConversationItem({ kind: 'mls', payload: b64(other.message) }), true, 'another tag is a message');
    const said = await encrypt(other.state, encodeContent('hello'));
    assert.equal(isConversationItem({ kind: 'mls', payload: b64(said.message) }), true);
  });

  it('refuses a message too large for the station before it is queued', async () => {
    const { encrypt } = await import('@parley/e2ee');
    const line = await FakeLine.create();
    const text = 'я'.repeat((63 * 1024 - 20) / 2);
    assert.ok(contentBytes(text) <= 63 * 1024);
    const out = await encrypt(line.borisState, encodeContent(text));
    assert.ok(out.message.length <= 64 * 1024, `an MLS message of ${out.message.length} bytes fits the station's 64 KiB`);
  });
});

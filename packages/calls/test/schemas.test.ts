// What the stations accept as call metadata, and how a client ties the encrypted body to it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CALL_ERROR_STATUS,
  type CallEvent,
  checkBodyMatchesEvent,
  checkCallBody,
  checkCallEvent,
  checkTestEvent,
  isCallErrorCode,
  newCallId,
} from '../src/index.js';
import { CALL, T0, TALK } from './helpers.js';

const request = {
  callId: CALL,
  talkId: TALK,
  action: 'request',
  by: { side: 'acceptor', handle: 'president' },
  at: T0,
  urgency: 'flash',
  to: 'premier',
};

test('call events: a closed schema per action', () => {
  assert.ok(checkCallEvent(request).ok);
  const { to: _to, ...noCounterpart } = request;
  assert.ok(checkCallEvent(noCounterpart).ok, 'the counterpart is optional');
  assert.ok(checkCallEvent({ callId: CALL, talkId: TALK, action: 'accept', by: request.by, at: T0, scheduledFor: T0 + 1 }).ok);
  assert.ok(
    checkCallEvent({ callId: CALL, talkId: TALK, action: 'escalate', level: 'deputy', by: { side: 'inviter', station: true }, at: T0 }).ok,
  );
  const bad: [string, unknown][] = [
    ['unknown field', { ...request, topic: 'the missiles' }],
    ['topic in the clear', { ...request, reason: 'x' }],
    ['unknown urgency', { ...request, urgency: 'whenever' }],
    ['short id', { ...request, callId: 'abc' }],
    ['id with a slash', { ...request, callId: 'abcdefgh/abcdefgh' }],
    ['bad handle', { ...request, by: { side: 'acceptor', handle: 'President' } }],
    ['no side', { ...request, by: { handle: 'president' } }],
    ['unknown side', { ...request, by: { side: 'observer', handle: 'president' } }],
    ['a member as a scheduler', { ...request, by: { side: 'acceptor', handle: 'president', station: true } }],
    ['a station requesting', { ...request, by: { side: 'inviter', station: true } }],
    ['a member expiring', { callId: CALL, talkId: TALK, action: 'expire', by: { side: 'inviter', handle: 'm_desk' }, at: T0 }],
    ['escalation without level', { callId: CALL, talkId: TALK, action: 'escalate', by: { side: 'inviter', station: true }, at: T0 }],
    [
      'escalation to the press',
      { callId: CALL, talkId: TALK, action: 'escalate', level: 'press_officer', by: { side: 'inviter', station: true }, at: T0 },
    ],
    ['negative time', { ...request, at: -1 }],
    ['string time', { ...request, at: String(T0) }],
    ['unknown action', { ...request, action: 'hold' }],
    ['not an object', 'request'],
  ];
  for (const [why, value] of bad) {
    const r = checkCallEvent(value);
    assert.ok(!r.ok, why);
    assert.equal(r.error.code, 'CALL_MALFORMED', why);
  }
  assert.ok(
    !checkTestEvent({ testId: 'test-i1', action: 'test_sent', by: { side: 'inviter', station: true }, at: T0 }).ok,
    'test id too short',
  );
  assert.ok(checkTestEvent({ testId: 'test-i-482484', action: 'test_sent', by: { side: 'inviter', station: true }, at: T0 }).ok);
});

test('new call ids: 22 base64url characters, valid for the schema, different every time', () => {
  const ids = new Set(Array.from({ length: 100 }, () => newCallId()));
  assert.equal(ids.size, 100);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(checkCallEvent({ ...request, callId: id, talkId: id }).ok);
  }
  assert.equal(
    newCallId((b) => b.fill(255)),
    '_____________________w',
  );
});

test('a client checks that the encrypted body belongs to the metadata beside it', () => {
  const body = { kind: 'request', callId: CALL, topics: ['Berlin', 'the blockade'], proposedFor: T0 + 3_600_000 };
  const parsed = checkCallBody(body);
  assert.ok(parsed.ok);
  const event = request as CallEvent;
  assert.equal(checkBodyMatchesEvent(event, parsed.value), null);
  assert.equal(checkBodyMatchesEvent({ ...event, callId: 'call0000000000000002' }, parsed.value)?.error.code, 'CALL_MALFORMED');
  const decline = { kind: 'decline', callId: CALL, reason: 'not today' } as const;
  assert.match(checkBodyMatchesEvent(event, decline)?.error.message ?? '', /decline/);
  const acceptEvent: CallEvent = {
    callId: CALL,
    talkId: TALK,
    action: 'accept',
    by: { side: 'inviter', handle: 'premier' },
    at: T0,
    scheduledFor: T0 + 60_000,
  };
  assert.equal(checkBodyMatchesEvent(acceptEvent, { kind: 'accept', callId: CALL, scheduledFor: T0 + 60_000 }), null);
  assert.equal(
    checkBodyMatchesEvent(acceptEvent, { kind: 'accept', callId: CALL, scheduledFor: T0 + 120_000 })?.error.code,
    'CALL_MALFORMED',
  );
  for (const bad of [
    { kind: 'request', callId: CALL, topics: [] },
    { kind: 'request', callId: CALL, topics: ['x'.repeat(201)] },
    { kind: 'decline', callId: CALL },
    { kind: 'decline', callId: CALL, reason: '' },
    { kind: 'request', callId: CALL, topics: ['x'], urgency: 'flash' },
  ]) {
    assert.ok(!checkCallBody(bad).ok, JSON.stringify(bad));
  }
});

test('every error code has an HTTP status a station can answer with', () => {
  for (const [code, status] of Object.entries(CALL_ERROR_STATUS)) {
    assert.ok(isCallErrorCode(code));
    assert.ok([400, 403, 404, 409, 410].includes(status), `${code}: ${status}`);
  }
  assert.equal(isCallErrorCode('toString'), false);
  assert.equal(CALL_ERROR_STATUS.CALL_EXPIRED, 410);
  assert.equal(CALL_ERROR_STATUS.NOT_SEATED, 403);
});

// The package runs in the browser too: its sources may import only each other, @parley/protocol,
// typebox and @noble/hashes, and may not touch Node globals.
test('src/ imports nothing Node-specific', () => {
  const srcDir = new URL('../../src/', import.meta.url);
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, `sources not found in ${srcDir.pathname}`);
  for (const file of files) {
    const source = readFileSync(new URL(file, srcDir), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    for (const s of specifiers) {
      assert.match(
        s ?? '',
        /^(\.\/[\w-]+\.js|@parley\/protocol(\/(bytes|roles|errors))?|typebox(\/compile)?|@noble\/hashes\/[\w/]+\.js)$/,
        `${file} imports ${s}`,
      );
    }
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const banned of [
      /\bBuffer\b/,
      /\bprocess\./,
      /\brequire\(/,
      /\b__dirname\b/,
      /\bsetImmediate\b/,
      /\bsetTimeout\b/,
      /\bDate\.now\b/,
      /\bnew Date\b/,
    ]) {
      assert.doesNotMatch(code, banned, `${file} uses ${banned.source}`);
    }
  }
});

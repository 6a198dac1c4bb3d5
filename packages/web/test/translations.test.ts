import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Call } from '@parley/calls';
import type { LineRecord } from '../src/e2ee/line-engine.js';
import {
  defaultWritingLang,
  flashAlerts,
  interpreterQueue,
  readingMark,
  refKey,
  refOf,
  splitTranslations,
  translationsByOriginal,
} from '../src/translations.js';
import { record } from './fixtures.js';

// Washington is the inviter here, with English; Moscow the acceptor, with Russian.
const T = 1_700_000_000_000;
const langs = { ours: ['en'], peer: ['ru'] };

function msg(pos: number, dir: 'in' | 'out', text: string, lang?: string): LineRecord {
  const station = dir === 'in' ? 'moscow' : 'washington';
  return record({
    pos,
    dir,
    body: {
      t: 'text',
      text,
      ...(lang ? { lang } : {}),
      from: { station, handle: 'chief', deviceId: 'd1' },
      verified: true,
      own: dir === 'out',
    },
  });
}

function tr(pos: number, dir: 'in' | 'out', of: { side: 'inviter' | 'acceptor'; seq: number }, lang: string, text: string): LineRecord {
  const station = dir === 'in' ? 'moscow' : 'washington';
  return record({
    pos,
    dir,
    envelope: { handle: 'interp', station },
    body: {
      t: 'translation',
      of,
      lang,
      secret: { ok: true, text, from: { station, handle: 'interp', deviceId: 'd2' }, own: false },
    },
  });
}

function call(urgency: Call['urgency'], at: number, endedAt?: number): Call {
  const by = { side: 'acceptor' as const, handle: 'chief' };
  return {
    callId: `call-${urgency}-${at}`,
    talkId: 'talk-1',
    urgency,
    requester: by,
    to: null,
    state: endedAt ? 'ended' : 'requested',
    reached: { requested: { at, by }, ...(endedAt ? { ended: { at: endedAt, by } } : {}) },
    answer: null,
    scheduledFor: null,
    escalated: {},
    unansweredAt: null,
    participants: [by],
    lastAt: endedAt ?? at,
  };
}

describe('translations beside their originals', () => {
  it('names a record by the side whose stream carries it', () => {
    assert.deepEqual(refOf({ dir: 'out', seq: 4 }, 'inviter'), { side: 'inviter', seq: 4 });
    assert.deepEqual(refOf({ dir: 'in', seq: 4 }, 'inviter'), { side: 'acceptor', seq: 4 });
    assert.deepEqual(refOf({ dir: 'in', seq: 4 }, 'acceptor'), { side: 'inviter', seq: 4 });
  });

  it('keeps revisions by the same side into the same language, shows the latest, and marks the other side\u2019s', () => {
    const of = { side: 'acceptor' as const, seq: 1 };
    const by = translationsByOriginal(
      [tr(5, 'out', of, 'en', 'first'), tr(9, 'in', of, 'en', 'theirs'), tr(7, 'out', of, 'en', 'second')],
      'inviter',
    );
    const list = by.get(refKey(of)) ?? [];
    assert.equal(list.length, 2, 'ours and theirs are two renderings');
    const ours = list.find((r) => !r.byOtherSide);
    assert.equal(ours?.latest.text, 'second');
    assert.deepEqual(
      ours?.earlier.map((v) => v.text),
      ['first'],
    );
    const theirs = list.find((r) => r.byOtherSide);
    assert.equal(theirs?.side, 'acceptor');
    assert.equal(theirs?.latest.text, 'theirs');
  });

  it('says a translation into our language is pending, done, or not needed', () => {
    const ru = msg(1, 'in', 'Привет', 'ru');
    assert.deepEqual(readingMark(ru, [], langs), { kind: 'pending', into: 'en' });
    const untagged = msg(2, 'in', 'Привет');
    assert.deepEqual(readingMark(untagged, [], langs), { kind: 'pending', into: 'en' }, 'untagged: the writer side\u2019s language');
    assert.deepEqual(readingMark(msg(3, 'in', 'Hello', 'en-GB'), [], langs), { kind: 'none' }, 'already in our language');
    assert.deepEqual(readingMark(ru, [], { ours: [], peer: ['ru'] }), { kind: 'none' }, 'no language of ours: nothing pending');
    const by = translationsByOriginal([tr(4, 'in', { side: 'acceptor', seq: 1 }, 'en', 'Hello')], 'inviter');
    const mark = readingMark(ru, by.get('acceptor:1') ?? [], langs);
    assert.equal(mark.kind, 'translated');
    assert.equal(mark.kind === 'translated' && mark.rendering.byOtherSide, true);
  });
});

describe('the interpreter queue', () => {
  it('holds readable messages in another language with no translation into ours; urgent first, then oldest', () => {
    const records = [
      msg(1, 'in', 'старое', 'ru'),
      msg(2, 'out', 'ours, in English', 'en'),
      msg(3, 'in', 'уже переведено', 'ru'),
      msg(4, 'in', 'срочно!', 'ru'),
      msg(5, 'in', 'новое', 'ru'),
      record({ pos: 6, dir: 'in', body: { t: 'before-join', epoch: 1 } }),
      msg(7, 'in', 'молния!', 'ru'),
      msg(8, 'out', 'en français', 'fr'),
    ];
    const translations = translationsByOriginal([tr(9, 'in', { side: 'acceptor', seq: 3 }, 'en', 'already translated')], 'inviter');
    // An immediate request open when message 4 was written, a flash one when 7 was; both closed after.
    const calls = [call('immediate', T + 3500, T + 4500), call('flash', T + 6500, T + 7500), call('routine', T)];
    const q = interpreterQueue(records, translations, { ourSide: 'inviter', langs, calls });
    assert.deepEqual(
      q.map((e) => [e.text, e.urgency]),
      [
        ['молния!', 'flash'],
        ['срочно!', 'immediate'],
        ['старое', null],
        ['новое', null],
        ['en français', null],
      ],
    );
    assert.deepEqual(q[0]?.ref, { side: 'acceptor', seq: 7 });
    assert.equal(q[0]?.into, 'en');
    assert.deepEqual(
      flashAlerts(q).map((e) => e.text),
      ['молния!'],
      'an untranslated flash message alerts',
    );
  });

  it('drops a message once anyone translated it into our language, and is empty without a language of ours', () => {
    const records = [msg(1, 'in', 'молния!', 'ru')];
    const calls = [call('flash', T)];
    assert.equal(interpreterQueue(records, new Map(), { ourSide: 'inviter', langs, calls }).length, 1);
    const done = translationsByOriginal([tr(2, 'out', { side: 'acceptor', seq: 1 }, 'en', 'Flash!')], 'inviter');
    const q = interpreterQueue(records, done, { ourSide: 'inviter', langs, calls });
    assert.deepEqual(q, []);
    assert.deepEqual(flashAlerts(q), [], 'the alarm stops once it is translated');
    assert.deepEqual(interpreterQueue(records, new Map(), { ourSide: 'inviter', langs: { ours: [], peer: ['ru'] }, calls }), []);
  });

  it('keeps translations out of the conversation\u2019s entries', () => {
    const { translations, others } = splitTranslations([msg(1, 'in', 'x', 'ru'), tr(2, 'out', { side: 'acceptor', seq: 1 }, 'en', 'y')]);
    assert.deepEqual(
      translations.map((r) => r.pos),
      [2],
    );
    assert.deepEqual(
      others.map((r) => r.pos),
      [1],
    );
  });

  it('starts a writer in our side\u2019s main language unless they chose one on this line', () => {
    assert.equal(defaultWritingLang(null, { ours: ['ru', 'uk'], peer: ['en'] }), 'ru');
    assert.equal(defaultWritingLang('en', { ours: ['ru'], peer: ['en'] }), 'en');
    assert.equal(defaultWritingLang('', { ours: ['ru'], peer: ['en'] }), '', 'an explicit "not stated" is kept');
    assert.equal(defaultWritingLang(null, undefined), '');
  });
});

// Working languages of a line (issue 9), with two real stations: each side's languages are set at
// the link ceremony and both stations hold both; an administrator changes our side's and the peer
// learns it at once, or, if it was away, when the line next syncs; bad tags are refused with
// LANG_INVALID and change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineSummary } from '@parley/protocol';
import { cliMember, cliOk, runCli, StationProcess } from '@parley/testkit';
import { signRequest } from '../src/federation/signing.js';
import { StationKey } from '../src/identity/station-key.js';
import { lineSummary, waitFor } from './support/line-client.js';

const LINE = 'hotline';

interface Status {
  name: string;
  languages: { ours: string[]; peer: string[] };
}

describe('working languages of a line', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let waToken: string;
  let moToken: string;

  const status = async (st: StationProcess): Promise<Status> =>
    JSON.parse(await cliOk(['line', 'status', '--data', st.dir, '--line', LINE, '--json'])) as Status;

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    waToken = await wa.addEnrolledMember('interp', 'interpreter');
    moToken = await mo.addEnrolledMember('chief', 'principal');
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  it('refuses a bad language tag at the ceremony, before anything is stored', async () => {
    for (const langs of ['english', 'xx', 'en,EN', '', 'e']) {
      const r = await runCli(['line', 'invite', '--data', wa.dir, '--line', LINE, '--seats', 'interp', '--langs', langs]);
      assert.notEqual(r.code, 0, `--langs "${langs}" is refused`);
      assert.match(r.stderr, /LANG_INVALID/);
    }
    // The name is still free: nothing was stored.
    const inv = await cliOk(['line', 'invite', '--data', wa.dir, '--line', LINE, '--seats', 'interp', '--langs', 'en']);
    const bad = await runCli([
      'line',
      'accept',
      '--data',
      mo.dir,
      '--seats',
      'chief',
      '--langs',
      'ru,xx-!',
      inv.trim().split('\n').pop() as string,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /LANG_INVALID/);
    assert.equal(JSON.parse(await cliOk(['line', 'list', '--data', mo.dir, '--json'])).length, 0, 'moscow stored no line');
    const out = await cliOk([
      'line',
      'accept',
      '--data',
      mo.dir,
      '--seats',
      'chief',
      '--langs',
      'ru',
      inv.trim().split('\n').pop() as string,
    ]);
    assert.match(out, /Working languages: ours ru, theirs en\./);
  });

  it('gives both stations both sides\u2019 languages from the ceremony: line status and the client API', async () => {
    assert.deepEqual((await status(wa)).languages, { ours: ['en'], peer: ['ru'] });
    assert.deepEqual((await status(mo)).languages, { ours: ['ru'], peer: ['en'] });
    const table = await cliOk(['line', 'status', '--data', wa.dir]);
    assert.match(table, /LANGS/);
    assert.match(table, /en \/ ru/);
    const waSummary = (await lineSummary(wa.url, waToken, LINE)) as unknown as LineSummary;
    assert.deepEqual(waSummary.languages, { ours: ['en'], peer: ['ru'] });
    const moSummary = (await lineSummary(mo.url, moToken, LINE)) as unknown as LineSummary;
    assert.deepEqual(moSummary.languages, { ours: ['ru'], peer: ['en'] });
  });

  it('lets an administrator change our side\u2019s languages; the peer station learns it at once', async () => {
    const out = await cliOk(['line', 'languages', '--data', mo.dir, '--line', LINE, '--langs', 'ru,uk']);
    assert.match(out, /ours ru,uk, theirs en/);
    assert.match(out, /The peer station holds the change/);
    assert.deepEqual((await status(wa)).languages, { ours: ['en'], peer: ['ru', 'uk'] }, 'washington holds it without waiting');
    const waSummary = (await lineSummary(wa.url, waToken, LINE)) as unknown as LineSummary;
    assert.deepEqual(waSummary.languages?.peer, ['ru', 'uk']);
  });

  it('refuses bad tags and unknown lines when changing, and changes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--line', LINE, '--langs', 'en,fr,en'], /LANG_INVALID/],
      [['--line', LINE, '--langs', 'not a tag'], /LANG_INVALID/],
      [['--line', LINE, '--langs', ','], /LANG_INVALID/],
      [['--line', LINE, '--langs', 'en,fr,de,es,it,pt,nl,sv,da'], /LANG_INVALID/],
      [['--line', 'no-such-line', '--langs', 'en'], /LINE_NOT_FOUND/],
    ];
    for (const [args, why] of cases) {
      const r = await runCli(['line', 'languages', '--data', wa.dir, ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, why);
    }
    assert.deepEqual((await status(wa)).languages, { ours: ['en'], peer: ['ru', 'uk'] });
    assert.deepEqual((await status(mo)).languages, { ours: ['ru', 'uk'], peer: ['en'] });
  });

  it('refuses a peer\u2019s languages that are ill-formed, unknown or not signed by the pinned key, storing nothing', async () => {
    const lineId = ((await lineSummary(wa.url, waToken, LINE)) as unknown as LineSummary).id;
    const moscowKey = StationKey.fromPem(readFileSync(join(mo.dir, 'station.key'), 'utf8'));
    const path = `/fed/v1/lines/${lineId}/languages`;
    const post = async (body: unknown, key: StationKey = moscowKey) => {
      const raw = Buffer.from(JSON.stringify(body));
      const res = await fetch(`${wa.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(key, 'POST', path, raw) },
        body: raw,
      });
      return { status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code };
    };
    const cases: [unknown, string, StationKey?][] = [
      [{ langs: ['not a tag'] }, 'VALIDATION_FAILED'],
      [{ langs: ['xx'] }, 'LANG_INVALID'],
      [{ langs: ['ru', 'RU'] }, 'LANG_INVALID'],
      [{ langs: [] }, 'LANG_INVALID'],
      [{ langs: ['ru'], also: 'fr' }, 'VALIDATION_FAILED'],
      [{ langs: ['de'] }, 'FED_BAD_SIGNATURE', StationKey.generate()],
    ];
    for (const [body, code, key] of cases) {
      const r = await post(body, key);
      assert.equal(r.code, code, JSON.stringify(body));
      assert.ok(r.status >= 400);
    }
    assert.deepEqual((await status(wa)).languages.peer, ['ru', 'uk'], 'washington still holds moscow\u2019s languages as they were');
  });

  it('tags a member\u2019s message with our side\u2019s main language when they name none', async () => {
    const profile = await cliMember(mo, 'deputy', 'deputy');
    await cliOk(['line', 'seat', 'add', '--data', mo.dir, '--line', LINE, '--handle', 'deputy']);
    await cliOk(['send', '--profile', profile, '--line', LINE, '--wait', '30', 'Без пометки языка']);
    const shown = (await cliOk(['read', '--profile', profile, '--line', LINE, '--json']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text?: string; lang?: string });
    assert.equal(shown.find((r) => r.text === 'Без пометки языка')?.lang, 'ru', 'moscow\u2019s main language is ru (of ru,uk)');
  });

  it('tells a peer that was away when the line is back (the hub\u2019s sync carries both lists)', async () => {
    await mo.stop();
    const out = await cliOk(['line', 'languages', '--data', wa.dir, '--line', LINE, '--langs', 'en,fr']);
    assert.match(out, /not told yet/);
    assert.deepEqual((await status(wa)).languages.ours, ['en', 'fr']);
    assert.deepEqual((await status(mo)).languages.peer, ['en'], 'moscow, stopped, still has the old list');
    await mo.start();
    await waitFor('moscow to learn washington\u2019s new languages', async () => {
      const s = await status(mo);
      return s.languages.peer.join(',') === 'en,fr' ? true : undefined;
    });
  });
});

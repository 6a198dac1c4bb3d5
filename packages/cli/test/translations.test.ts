// Two languages on a line (issue 9), through the real CLI against two real stations: a message
// in Russian from moscow is translated by washington's interpreter; both sides see original and
// translation, with who made it; a revision replaces the shown text and keeps the first; every
// refusal leaves both timelines as they were.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliMember, cliOk, eventually, linkStations, runCli, StationProcess, tempDir } from '@parley/testkit';

const LINE = 'hotline';

interface Shown {
  kind: 'message' | 'event';
  pos: number;
  text: string | null;
  lang?: string | null;
  event?: string;
  ref?: string | null;
  translationOf?: string;
  revised?: boolean;
  sender?: { handle: string; station: string };
  status?: string;
}

describe('translations on a line, through the CLI', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  const profiles: Record<string, string> = {};

  const login = cliMember;

  const read = async (who: string): Promise<Shown[]> =>
    (await cliOk(['read', '--profile', profiles[who] as string, '--line', LINE, '--json']))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Shown);
  const translate = (who: string, message: string, lang: string, text: string) =>
    runCli(['translate', '--profile', profiles[who] as string, '--line', LINE, '--message', message, '--lang', lang, text]);

  before(async () => {
    wa = await StationProcess.create({ name: 'washington', heartbeatMs: 500 });
    mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 500 });
    await Promise.all([wa.start(), mo.start()]);
    profiles.waChief = await login(wa, 'chief', 'principal');
    profiles.waInterp = await login(wa, 'interp', 'interpreter');
    profiles.moChief = await login(mo, 'chief', 'principal');
    await linkStations(wa, mo, LINE, ['chief', 'interp'], ['chief']);
  });
  after(async () => {
    await Promise.all([wa.stop(), mo.stop()]);
  });

  let original: Shown;

  it('shows an interpreter\u2019s translation under the original, on both sides, with who made it', async () => {
    // Both stations' recorders are in the line's group before the message is written, so both
    // archives hold it (a later test reads it from there).
    await eventually('both recorders to be in the line\u2019s group', async () => {
      // Refused (UNAVAILABLE) until the station's own recorder has joined.
      const out = await runCli(['roster', '--profile', profiles.moChief as string, '--line', LINE, '--json']);
      if (out.code !== 0) return undefined;
      const r = JSON.parse(out.stdout) as { devices: { handle: string; station: string }[] };
      const recorders = r.devices.filter((d) => d.handle === 'recorder').map((d) => d.station);
      return recorders.includes('washington') && recorders.includes('moscow') ? true : undefined;
    });
    await cliOk([
      'send',
      '--profile',
      profiles.moChief as string,
      '--line',
      LINE,
      '--wait',
      '30',
      '--lang',
      'ru',
      'Предлагаем созвониться в 14:00',
    ]);
    original = await eventually('washington\u2019s interpreter to read the message', async () =>
      (await read('waInterp')).find((r) => r.kind === 'message' && r.lang === 'ru' && r.status === 'ok'),
    );
    assert.match(original.ref ?? '', /^acceptor:\d+$/, 'moscow is the acceptor: its stream carries the original');
    const t = await translate('waInterp', original.ref as string, 'en', 'We propose a call at 14:00');
    assert.equal(t.code, 0, t.stderr);
    for (const who of ['waChief', 'moChief']) {
      const view = await eventually(`${who} to see the translation`, async () => {
        const v = await read(who);
        return v.some((r) => r.translationOf === original.ref && r.text === 'We propose a call at 14:00') ? v : undefined;
      });
      const i = view.findIndex((r) => r.ref === original.ref && !r.translationOf);
      assert.ok(i >= 0, 'the original is shown');
      assert.equal(view[i]?.text, 'Предлагаем созвониться в 14:00', 'the original is unchanged');
      const tr = view[i + 1] as Shown;
      assert.equal(tr.translationOf, original.ref, 'the translation comes right under its original');
      assert.equal(tr.lang, 'en');
      assert.deepEqual({ handle: tr.sender?.handle, station: tr.sender?.station }, { handle: 'interp', station: 'washington' });
    }
    const text = await cliOk(['read', '--profile', profiles.moChief as string, '--line', LINE]);
    assert.match(text, /↳ translation of acceptor:\d+ \[en\] by interp@washington: We propose a call at 14:00/);
  });

  it('keeps earlier revisions and shows the latest', async () => {
    const t = await translate('waInterp', original.ref as string, 'en', 'We suggest a call at 14:00');
    assert.equal(t.code, 0, t.stderr);
    const view = await eventually('moscow to see the revision', async () => {
      const v = await read('moChief');
      return v.some((r) => r.text === 'We suggest a call at 14:00') ? v : undefined;
    });
    const revisions = view.filter((r) => r.translationOf === original.ref);
    assert.deepEqual(
      revisions.map((r) => [r.text, r.revised ?? false]),
      [
        ['We propose a call at 14:00', true],
        ['We suggest a call at 14:00', false],
      ],
    );
  });

  it('a device that joins later reads the original and its translations from the recorder\u2019s archive, unverified', async () => {
    // Another device of each chief, logged in after the translations were made: it has no keys
    // for anything before it joined, so only its station's recorder can show them.
    const newDevice = async (st: StationProcess, handle: string): Promise<string> => {
      const pw = join(tempDir(), 'pw');
      writeFileSync(pw, `${st.name}-${handle}-pw`);
      const dir = join(tempDir(), `${st.name}-${handle}-late`);
      await cliOk(['login', '--station', st.url, '--handle', handle, '--profile', dir, '--password-file', pw]);
      return dir;
    };
    profiles.moLate = await newDevice(mo, 'chief');
    profiles.waLate = await newDevice(wa, 'chief');
    for (const who of ['moLate', 'waLate']) {
      const dir = profiles[who] as string;
      await eventually(`${who} to join the line\u2019s group`, async () =>
        (await read(who)).some((r) => r.event === 'joined') ? true : undefined,
      );
      const plain = await read(who);
      const unreadable = plain.filter((r) => r.translationOf === original.ref);
      assert.equal(unreadable.length, 2, 'both versions are there, placed under the original');
      assert.ok(
        unreadable.every((r) => r.text === null && r.status === 'before-join'),
        'without the archive the device cannot read them',
      );
      const view = await eventually(`${who} to read the translations from history`, async () => {
        const v = (await cliOk(['read', '--profile', dir, '--line', LINE, '--json', '--history']))
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Shown & { verified?: boolean });
        return v.filter((r) => r.translationOf === original.ref && r.text !== null).length === 2 ? v : undefined;
      });
      const i = view.findIndex((r) => r.ref === original.ref && !r.translationOf);
      assert.ok(i >= 0, 'the original is shown');
      assert.equal(view[i]?.text, 'Предлагаем созвониться в 14:00', `${who}: ${JSON.stringify(view)}`);
      assert.equal(view[i]?.status, 'archive');
      const under = view.slice(i + 1, i + 3);
      assert.deepEqual(
        under.map((r) => [r.translationOf, r.lang, r.text, r.revised ?? false, r.status, r.verified]),
        [
          [original.ref, 'en', 'We propose a call at 14:00', true, 'archive', false],
          [original.ref, 'en', 'We suggest a call at 14:00', false, 'archive', false],
        ],
        'both versions right under the original, the latest shown as such, marked as from the archive',
      );
      for (const r of under) {
        assert.deepEqual({ handle: r.sender?.handle, station: r.sender?.station }, { handle: 'interp', station: 'washington' });
      }
      const text = await cliOk(['read', '--profile', dir, '--line', LINE, '--history']);
      assert.match(
        text,
        /↳ translation of acceptor:\d+ \[en\] by interp@washington \(from the station archive, not verified by this device\): We suggest a call at 14:00/,
      );
    }
  });

  it('refuses a translation of nothing, by a non-interpreter, in no language, or empty; nothing is stored', async () => {
    const before = await read('moChief');
    const cases: [string, string, string, string, RegExp][] = [
      ['waInterp', 'acceptor:9999', 'en', 'ghost', /NOT_FOUND/],
      ['waChief', original.ref as string, 'en', 'not mine to translate', /NOT_INTERPRETER/],
      ['waInterp', original.ref as string, 'english please', 'x', /not a language tag/],
      ['waInterp', original.ref as string, 'en', '   ', /empty/],
    ];
    for (const [who, ref, lang, text, why] of cases) {
      const r = await translate(who, ref, lang, text);
      assert.notEqual(r.code, 0, `${who} ${ref} ${lang} is refused`);
      assert.match(r.stderr, why);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const afterView = await read('moChief');
    assert.deepEqual(
      afterView.filter((r) => r.kind === 'message').map((r) => [r.ref, r.text]),
      before.filter((r) => r.kind === 'message').map((r) => [r.ref, r.text]),
    );
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { cliOk, eventually, StationProcess } from '@parley/testkit';
import { enrolled, filesUnder, launchChromium, PASSWORD, shot } from './support/browser-kit.js';
import type { Browser, Page } from 'playwright-core';

// Two languages on a line (issue 9), in the web app between two real stations: washington works
// in English, moscow in Russian (set at the link ceremony). Moscow's chief writes in Russian (the
// composer starts there), during a flash call request too; washington's interpreter sees both in
// their queue, the flash one first and alarmed, translates them from the queue and revises one;
// moscow's chief, the reader on the far side, sees original and translation side by side, marked
// as the other side's rendering and as revised. Neither station ever holds the texts.
// Screenshots go to test-artifacts/screenshots, or to PARLEY_SCREENSHOTS_DIR.

const LINE = 'hotline';

const ROUTINE_RU = 'Предлагаем созвониться в 14:00 по Москве';
const FLASH_RU = 'Срочно: инцидент на КПП 7, просим связи';
const ROUTINE_EN = 'We propose a call at 14:00 Moscow time';
const ROUTINE_EN_REVISED = 'We suggest a call at 14:00 Moscow time';
const FLASH_EN = 'Urgent: incident at checkpoint 7, we ask for contact';

async function openLine(page: Page, st: StationProcess, handle: string): Promise<void> {
  await page.goto(st.url);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill(PASSWORD(st.name, handle));
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your lines' }).waitFor();
  await page.getByRole('link', { name: LINE, exact: true }).click();
  await page.getByRole('heading', { name: LINE }).waitFor();
  await page.locator('.connection[data-status="open"]').waitFor();
  await page.locator('.e2ee-status[data-membership="member"]').waitFor({ timeout: 40_000 });
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel(/^Message to /);
  await box.fill(text);
  await box.press('Enter');
  await page.waitForFunction(() => !(document.querySelector('.composer textarea') as HTMLTextAreaElement).value);
}

/** The message whose original text is this (its translations live inside the same item). */
const message = (page: Page, text: string) => page.locator('li.message').filter({ has: page.locator('.message-text', { hasText: text }) });

describe('translations in the web app', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let browser: Browser;
  let moChief = '';

  before(async () => {
    [wa, mo] = await Promise.all([
      StationProcess.create({ name: 'washington', heartbeatMs: 500 }),
      StationProcess.create({ name: 'moscow', heartbeatMs: 500 }),
    ]);
    await Promise.all([wa.start(), mo.start()]);
    await enrolled(wa, 'interp', 'Interpreter', 'interpreter');
    moChief = await enrolled(mo, 'chief', 'Chief of the General Staff', 'principal');
    const inv = (await cliOk(['line', 'invite', '--data', wa.dir, '--line', LINE, '--seats', 'interp', '--langs', 'en']))
      .trim()
      .split('\n')
      .pop();
    await cliOk(['line', 'accept', '--data', mo.dir, '--seats', 'chief', '--langs', 'ru', inv as string]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([wa?.stop(), mo?.stop()]);
  });

  it('has an interpreter translate from their queue; the reader on the far side sees original and translation side by side', async () => {
    const pageW = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    const pageM = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    for (const p of [pageW, pageM]) {
      p.setDefaultTimeout(30_000);
      p.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    }
    await Promise.all([openLine(pageW, wa, 'interp'), openLine(pageM, mo, 'chief')]);

    // Both recorders are in the line's group before anything is written, so both archives hold it all.
    await eventually('both recorders to be in the line\u2019s group', async () => {
      const r = await fetch(`${mo.url}/api/v1/lines/${LINE}/roster`, { headers: { authorization: `Bearer ${moChief}` } });
      if (r.status !== 200) return undefined;
      const { devices } = (await r.json()) as { devices: { handle: string; station: string }[] };
      const recorders = devices.filter((d) => d.handle === 'recorder').map((d) => d.station);
      return recorders.includes('washington') && recorders.includes('moscow') ? true : undefined;
    });

    // Moscow writes in Russian by default: its side's working language.
    assert.equal(await pageM.locator('.composer-lang select').inputValue(), 'ru');
    await send(pageM, ROUTINE_RU);

    // A flash call request from moscow; what its chief writes while it is open is urgent.
    const res = await fetch(`${mo.url}/api/v1/lines/${LINE}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${moChief}` },
      body: JSON.stringify({ action: 'request', urgency: 'flash', clientId: 'e2e-translation-flash' }),
    });
    assert.equal(res.status, 200, await res.text());
    await send(pageM, FLASH_RU);

    // Washington's interpreter: both await translation into English, the flash one first, alarmed.
    const queue = pageW.getByTestId('interpreter-queue');
    await queue.locator('li.queue-entry').nth(1).waitFor();
    const first = queue.locator('li.queue-entry').first();
    assert.equal(await first.getAttribute('data-urgency'), 'flash');
    assert.match((await first.locator('.queue-original').textContent()) ?? '', /Срочно/);
    assert.match((await queue.locator('li.queue-entry').nth(1).locator('.queue-original').textContent()) ?? '', /Предлагаем/);
    const alarm = pageW.getByTestId('translation-alerts');
    await alarm.waitFor();
    assert.equal(await alarm.getAttribute('role'), 'alert');
    assert.match((await alarm.textContent()) ?? '', /FLASH message from chief@moscow awaits translation into en/);
    await message(pageW, ROUTINE_RU).locator('.translation-pending').getByText('Translation into en pending').waitFor();
    await shot(pageW, 'translations-interpreter-queue');

    await first.getByLabel('Translation into en').fill(FLASH_EN);
    await first.getByRole('button', { name: 'Send translation' }).click();
    await alarm.waitFor({ state: 'detached' });
    const next = queue.locator('li.queue-entry').first();
    await queue.locator('li.queue-entry').nth(1).waitFor({ state: 'detached' });
    assert.match((await next.locator('.queue-original').textContent()) ?? '', /Предлагаем/);
    await next.getByLabel('Translation into en').fill(ROUTINE_EN);
    await next.getByRole('button', { name: 'Send translation' }).click();
    await queue.getByText('Nothing awaits translation into en.').waitFor();

    // The interpreter revises one; the first version is kept.
    const ownRendering = message(pageW, ROUTINE_RU).locator('.translation');
    await ownRendering.getByText(ROUTINE_EN, { exact: true }).waitFor();
    await ownRendering.getByRole('button', { name: 'Revise' }).click();
    await ownRendering.getByLabel('Revised translation').fill(ROUTINE_EN_REVISED);
    await ownRendering.getByRole('button', { name: 'Send translation' }).click();
    await ownRendering.locator('.translation-text', { hasText: ROUTINE_EN_REVISED }).first().waitFor();
    await shot(pageW, 'translations-interpreter-done');

    // Moscow's chief, the writer and the reader on the far side: original and translation side by side.
    const routine = message(pageM, ROUTINE_RU);
    const rendering = routine.locator('.translation[data-lang="en"]');
    await rendering.locator('.translation-text').filter({ hasText: ROUTINE_EN_REVISED }).waitFor();
    assert.equal(await rendering.getAttribute('data-by-other-side'), 'true');
    assert.equal(await rendering.getAttribute('data-revised'), 'true');
    assert.match((await rendering.locator('.translation-head').textContent()) ?? '', /How washington rendered it/);
    assert.match((await rendering.locator('.translation-head').textContent()) ?? '', /interp@washington \(washington’s interpreter\)/);
    assert.match((await rendering.locator('.translation-head').textContent()) ?? '', /revised \(1 earlier version\)/);
    await rendering.getByText('Earlier versions').click();
    await rendering.locator('.translation-history').getByText(ROUTINE_EN, { exact: true }).waitFor();
    const original = await routine.locator('.message-text').boundingBox();
    const translated = await routine.locator('.message-translations').boundingBox();
    assert.ok(original && translated, 'both are shown');
    assert.ok(translated.x >= original.x + original.width - 1, 'the translation is to the right of the original');
    assert.ok(translated.y < original.y + original.height && original.y < translated.y + translated.height, 'on the same row');
    const flash = message(pageM, FLASH_RU).locator('.translation[data-lang="en"] .translation-text');
    await flash.filter({ hasText: FLASH_EN }).waitFor();
    await shot(pageM, 'translations-reader-side-by-side');

    // A device that joins later (another browser of moscow's chief) has no keys for any of it; its
    // older history from moscow's recorder shows the originals with their translations beside
    // them, marked as from the archive.
    const pageL = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    pageL.setDefaultTimeout(30_000);
    pageL.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await openLine(pageL, mo, 'chief');
    const older = pageL.getByTestId('older-history');
    await older.getByText(/\(and 3 translations made\) before this device joined/).waitFor();
    await older.getByRole('button', { name: /Load older history/ }).click();
    const lateRoutine = message(pageL, ROUTINE_RU);
    const lateRendering = lateRoutine.locator('.translation[data-lang="en"]');
    await lateRendering.locator('.translation-text').filter({ hasText: ROUTINE_EN_REVISED }).waitFor();
    assert.equal(await lateRendering.getAttribute('data-revised'), 'true');
    assert.equal(await lateRendering.getAttribute('data-by-other-side'), 'true');
    assert.match((await lateRendering.locator('.translation-head').textContent()) ?? '', /interp@washington/);
    await lateRendering.locator('[data-mark="archived"]').first().waitFor();
    await lateRendering.getByText('Earlier versions').click();
    await lateRendering.locator('.translation-history').getByText(ROUTINE_EN, { exact: true }).waitFor();
    const lateFlash = message(pageL, FLASH_RU).locator('.translation[data-lang="en"] .translation-text');
    await lateFlash.filter({ hasText: FLASH_EN }).waitFor();
    await shot(pageL, 'translations-late-device-history');

    // Neither station holds the originals or translations in clear.
    await Promise.all([wa.stop(), mo.stop()]);
    for (const st of [wa, mo]) {
      for (const f of filesUnder(st.dir)) {
        const bytes = readFileSync(f);
        for (const t of [ROUTINE_RU, FLASH_RU, ROUTINE_EN, ROUTINE_EN_REVISED, FLASH_EN]) {
          assert.equal(bytes.includes(Buffer.from(t, 'utf8')), false, `"${t}" in plaintext at ${st.name}: ${f}`);
        }
      }
    }
  });
});

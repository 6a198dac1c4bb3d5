import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linkStations, StationProcess } from '@parley/testkit';
import { enrolled, launchChromium, login, shot } from './support/browser-kit.js';
import type { Browser, Page } from 'playwright-core';

// Readouts in the web app, between two real stations: a call is requested on the line; each
// station's press officer drafts a readout of it (washington's in two languages), cites the
// call's record entry and publishes it; the observer page, opened without a login, reads both
// stations' public feeds and shows the two readouts side by side under the same contact, each
// with its station's fingerprint and the recorded entry.
// Screenshots go to test-artifacts/screenshots, or to PARLEY_SCREENSHOTS_DIR.

const LINE = 'hotline';

async function recordHas(st: StationProcess, token: string, callId: string): Promise<boolean> {
  const res = await fetch(`${st.url}/api/v1/lines/${LINE}/record?entries=true`, { headers: { authorization: `Bearer ${token}` } });
  const json = (await res.json()) as { entries?: { type: string; callId?: string }[] };
  return (json.entries ?? []).some((e) => e.type === 'call_requested' && e.callId === callId);
}

async function publishReadout(
  page: Page,
  st: StationProcess,
  callId: string,
  r: { title: string; lang: string; text: string; langAlt?: string; textAlt?: string },
  opts: { shareFirst?: boolean } = {},
): Promise<void> {
  await page.goto(`${st.url}/lines/${LINE}/readouts`);
  await page.getByRole('heading', { name: `Readouts of ${LINE}` }).waitFor();
  await page.getByLabel('Title').fill(r.title);
  await page.getByLabel('Language (BCP 47, e.g. en, ru)').fill(r.lang);
  await page.getByLabel('Text', { exact: true }).fill(r.text);
  if (r.langAlt && r.textAlt) {
    await page.getByText('Second language (optional)').click();
    await page.getByLabel('Second language', { exact: true }).fill(r.langAlt);
    await page.getByLabel('Text in the second language').fill(r.textAlt);
  }
  await page.getByLabel(new RegExp(`call ${callId} requested`)).check();
  await page.getByRole('button', { name: 'Save draft' }).click();
  const draft = page.locator('[data-testid="readout"][data-status="draft"]', { hasText: r.title });
  await draft.waitFor();
  if (opts.shareFirst) {
    await draft.getByRole('button', { name: `Show “${r.title}” to the other side in advance` }).click();
    await page.getByRole('status').filter({ hasText: 'it is not published' }).waitFor();
  }
  const unpublished = page.locator('[data-testid="readout"]:not([data-status="published"])', { hasText: r.title });
  await unpublished.getByRole('button', { name: `Publish “${r.title}”` }).click();
  await page.locator('[data-testid="readout"][data-status="published"]', { hasText: r.title }).waitFor();
  await page.getByRole('status').filter({ hasText: 'is published' }).waitFor();
}

describe('readouts and the observer page', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let browser: Browser;
  let callId = '';
  let moPress = '';

  before(async () => {
    [wa, mo] = await Promise.all([
      StationProcess.create({ name: 'washington', heartbeatMs: 500 }),
      StationProcess.create({ name: 'moscow', heartbeatMs: 500 }),
    ]);
    await Promise.all([wa.start(), mo.start()]);
    const chief = await enrolled(wa, 'chief', 'Chairman of the Joint Chiefs', 'principal');
    const moChief = await enrolled(mo, 'chief', 'Chief of the General Staff', 'principal');
    await enrolled(wa, 'press', 'Press Secretary', 'press_officer');
    moPress = await enrolled(mo, 'press', 'Press Attaché', 'press_officer');
    await linkStations(wa, mo, LINE, ['chief', 'press'], ['chief', 'press']);
    const res = await fetch(`${wa.url}/api/v1/lines/${LINE}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${chief}` },
      body: JSON.stringify({ action: 'request', urgency: 'priority', clientId: 'e2e-readout-call' }),
    });
    const json = (await res.json()) as { event: { callId: string } };
    assert.equal(res.status, 200, JSON.stringify(json));
    callId = json.event.callId;
    const deadline = Date.now() + 30_000;
    while (!((await recordHas(wa, chief, callId)) && (await recordHas(mo, moChief, callId)))) {
      if (Date.now() > deadline) throw new Error('the call request never reached both records');
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([wa?.stop(), mo?.stop()]);
  });

  it('has a press officer on each side publish a readout of the same call, shown side by side on the observer page', async () => {
    const ctxW = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const ctxM = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const pageW = await ctxW.newPage();
    const pageM = await ctxM.newPage();
    for (const p of [pageW, pageM]) {
      p.setDefaultTimeout(20_000);
      p.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    }
    await login(pageW, wa, 'press');
    await login(pageM, mo, 'press');
    await publishReadout(pageW, wa, callId, {
      title: 'Readout of the call with Moscow',
      lang: 'en',
      text: 'The Chairman discussed the incident at checkpoint 7 and agreed to keep the line open.',
      langAlt: 'ru',
      textAlt: 'Председатель обсудил инцидент на КПП 7 и согласился держать линию открытой.',
    });
    await shot(pageW, 'readouts-washington-published');
    await publishReadout(
      pageM,
      mo,
      callId,
      {
        title: 'Сообщение о разговоре с Вашингтоном',
        lang: 'ru',
        text: 'Начальник Генерального штаба обсудил инцидент и подтвердил работу линии.',
      },
      { shareFirst: true },
    );
    // Shown in advance: an encrypted message from moscow's press officer, never the text in clear.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${mo.url}/api/v1/lines/${LINE}/items?limit=1000`, { headers: { authorization: `Bearer ${moPress}` } });
      const items = ((await res.json()) as { items: { kind: string; sender: { handle: string }; payload: string }[] }).items;
      const sent = items.filter((i) => i.kind === 'mls' && i.sender.handle === 'press');
      if (sent.length > 0) {
        for (const i of sent)
          assert.ok(!Buffer.from(i.payload, 'base64url').toString('utf8').includes('Генерального'), 'no readout text in clear');
        break;
      }
      assert.ok(Date.now() < deadline, 'the draft was never sent as an encrypted message');
      await new Promise((r) => setTimeout(r, 300));
    }
    await shot(pageM, 'readouts-moscow-published');

    // The observer: no login, another browser context, both stations' public feeds.
    const ctxO = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const pageO = await ctxO.newPage();
    pageO.setDefaultTimeout(20_000);
    pageO.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await pageO.goto(`${wa.url}/observer?a=${encodeURIComponent(wa.url)}&b=${encodeURIComponent(mo.url)}`);
    await pageO.getByRole('heading', { name: 'Readouts side by side' }).waitFor();
    const contact = pageO.getByTestId('observer-contact');
    await contact.first().waitFor();
    assert.equal(await contact.count(), 1, 'one contact: the call both readouts cite');
    const columns = contact.getByTestId('observer-column');
    assert.equal(await columns.count(), 2);
    const w = contact.locator('[data-testid="observer-column"][data-station="washington"]');
    const m = contact.locator('[data-testid="observer-column"][data-station="moscow"]');
    assert.match((await w.textContent()) ?? '', /Readout of the call with Moscow/);
    assert.match((await w.textContent()) ?? '', /Председатель обсудил инцидент/);
    assert.match((await m.textContent()) ?? '', /Сообщение о разговоре с Вашингтоном/);
    for (const col of [w, m]) {
      const text = (await col.textContent()) ?? '';
      assert.match(text, new RegExp(`call ${callId} requested`), 'the recorded entry is shown as the proof');
      assert.match(text, /fingerprint ([0-9a-f]{4} ){9}[0-9a-f]{4}/);
    }
    // Side by side: the two columns sit next to each other.
    const bw = await w.boundingBox();
    const bm = await m.boundingBox();
    assert.ok(bw && bm && Math.abs(bw.y - bm.y) < 5 && bm.x > bw.x + bw.width - 5, 'the columns are side by side');
    await shot(pageO, 'readouts-observer-side-by-side');
    await Promise.all([ctxW.close(), ctxM.close(), ctxO.close()]);
  });
});

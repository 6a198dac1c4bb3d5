import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SELF_UPDATE_SCHEDULE } from '@parley/e2ee';
import { linkStations, StationProcess } from '@parley/testkit';
import { enrolled, filesUnder, launchChromium, PASSWORD, shot } from './support/browser-kit.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';

// The officers' web app as they meet it: two real station processes on loopback, Debian's
// Chromium driven by playwright-core, one browser context (one officer's browser) per station.
// Each browser is an MLS device: messages are encrypted in the page and neither station (nor the
// browser's own storage) ever holds their text; the last test scans both stations' data.
// Screenshots go to test-artifacts/screenshots, or to PARLEY_SCREENSHOTS_DIR
// (`PARLEY_SCREENSHOTS_DIR=docs/screenshots npm run test:e2e` refreshes the README's).

const LINE = 'chiefs-of-staff';
const OTHER_LINE = 'defence-ministers';

/** Add a member with a real name and enroll them over the client API, as their first device would. */
const card = (page: Page, line = LINE) => page.locator(`li.line-card[data-line="${line}"]`);

async function waitUnread(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    ([line, want]) => document.querySelector(`li.line-card[data-line="${line}"] [data-testid="unread"]`)?.textContent === want,
    [LINE, String(n)] as const,
    { timeout: 20_000 },
  );
}

async function login(page: Page, url: string, handle: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your lines' }).waitFor();
}

async function openLine(page: Page): Promise<void> {
  await page.getByRole('link', { name: LINE, exact: true }).click();
  await page.getByRole('heading', { name: LINE }).waitFor();
  await page.locator('.connection[data-status="open"]').waitFor();
}

/** This browser's device is in the line's encrypted group (the hub adds it within seconds). */
async function waitMember(page: Page, timeout = 30_000): Promise<void> {
  await page.locator('.e2ee-status[data-membership="member"]').waitFor({ timeout });
}

/** Every text this test sends: none may ever be found at a station. */
const SENT: string[] = [];

async function send(page: Page, text: string): Promise<void> {
  SENT.push(text);
  const box = page.getByLabel(/^Message to /);
  await box.fill(text);
  await box.press('Enter');
  // The composer empties only once the message is safely in this device's queue.
  await page.waitForFunction((t) => !(document.querySelector('.composer textarea') as HTMLTextAreaElement).value && t, text);
}

/** The message with this exact text, whatever its state. */
const message = (page: Page, text: string) => page.locator('li.message').filter({ has: page.getByText(text, { exact: true }) });

async function stateOf(page: Page, text: string): Promise<string | null> {
  return message(page, text).getAttribute('data-state');
}

async function waitState(page: Page, text: string, state: string, timeout = 30_000): Promise<void> {
  // Read implies delivered: the other side's app may have sent its receipt already.
  const sel =
    state === 'delivered' ? 'li.message[data-state="delivered"], li.message[data-state="read"]' : `li.message[data-state="${state}"]`;
  await page
    .locator(sel)
    .filter({ has: page.getByText(text, { exact: true }) })
    .waitFor({ timeout });
}

async function texts(page: Page): Promise<string[]> {
  return page.locator('li.message .message-text').allTextContents();
}

async function call<T>(st: StationProcess, token: string, path: string): Promise<T> {
  const res = await fetch(`${st.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as T;
}

/**
 * What the station's items carry: ciphertext only. Returns the items' kinds; fails if any item
 * is unencrypted or any payload contains a text this test sent.
 */
async function stationItems(st: StationProcess, token: string): Promise<{ kind: string; clientId: string | null }[]> {
  const { items } = await call<{ items: { kind: string; payload: string; clientId: string | null }[] }>(
    st,
    token,
    `/api/v1/lines/${LINE}/items?limit=1000`,
  );
  for (const i of items) {
    assert.notEqual(i.kind, 'message', 'the web app sends no unencrypted items');
    const bytes = Buffer.from(i.payload, 'base64url');
    for (const t of SENT) assert.equal(bytes.includes(Buffer.from(t, 'utf8')), false, `"${t}" in plaintext at ${st.name}`);
  }
  return items;
}

/** What the station's recorder decrypted for its own side's archive, in timeline order. */
async function recorderTexts(st: StationProcess, token: string): Promise<string[]> {
  const out: string[] = [];
  let after = 0;
  for (;;) {
    const res = await call<{ entries: { pos: number; text: string | null }[]; nextCursor: number }>(
      st,
      token,
      `/api/v1/lines/${LINE}/history?after=${after}&limit=200`,
    );
    if (res.entries.length === 0) return out;
    for (const e of res.entries) {
      const c = e.text ? (JSON.parse(Buffer.from(e.text, 'base64url').toString('utf8')) as { text?: string }) : null;
      if (typeof c?.text === 'string') out.push(c.text); // read receipts have none
    }
    after = res.nextCursor;
  }
}

async function waitRecorder(st: StationProcess, token: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await recorderTexts(st, token)).includes(text)) {
    assert.ok(Date.now() < deadline, `${st.name}'s recorder archived "${text}"`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Everything this origin's page keeps in IndexedDB and localStorage, as text to search in. */
async function browserStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('parley');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const all = await new Promise<unknown[]>((resolve, reject) => {
      const r = db.transaction('entries').objectStore('entries').getAll();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    db.close();
    const parts = all.map((v) => {
      const ct = new Uint8Array((v as { ct: ArrayBuffer }).ct);
      let s = '';
      for (const b of ct) s += String.fromCharCode(b);
      return s;
    });
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i) as string;
      parts.push(`${k}=${localStorage.getItem(k)}`);
    }
    return parts.join('\n');
  });
}

function assertOnce(all: string[], expected: string[], where: string): void {
  for (const t of expected)
    assert.equal(all.filter((x) => x === t).length, 1, `${where}: "${t}" appears ${all.filter((x) => x === t).length} times`);
}

describe('the web app between two stations', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let moToken: string;
  let safety: string;
  let browser: Browser;
  let ctxW: BrowserContext;
  let ctxM: BrowserContext;
  let pageW: Page;
  let pageM: Page;

  before(async () => {
    [wa, mo] = await Promise.all([
      StationProcess.create({ name: 'washington', heartbeatMs: 500 }),
      StationProcess.create({ name: 'moscow', heartbeatMs: 500 }),
    ]);
    await Promise.all([wa.start(), mo.start()]);
    await enrolled(wa, 'chief', 'Chairman of the Joint Chiefs', 'principal', PASSWORD('washington', 'chief'));
    await enrolled(wa, 'duty', 'Duty Officer, NMCC', 'duty_officer', PASSWORD('washington', 'duty'));
    await enrolled(wa, 'admin', 'Station Administrator', 'admin', PASSWORD('washington', 'admin'));
    moToken = await enrolled(mo, 'chief', 'Chief of the General Staff', 'principal', PASSWORD('moscow', 'chief'));
    await enrolled(mo, 'duty', 'Duty Officer, NTsUO', 'duty_officer', PASSWORD('moscow', 'duty'));
    safety = await linkStations(wa, mo, LINE, ['chief', 'duty'], ['chief', 'duty']);
    await linkStations(mo, wa, OTHER_LINE, ['chief'], ['chief']);
    browser = await launchChromium();
    ctxW = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    ctxM = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    pageW = await ctxW.newPage();
    pageM = await ctxM.newPage();
    for (const p of [pageW, pageM]) {
      p.setDefaultTimeout(20_000);
      p.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    }
  });

  after(async () => {
    await browser?.close();
    await Promise.all([wa?.stop(), mo?.stop()]);
  });

  it('logs each officer in and shows the line with a lamp that says up in words, not colour alone', async () => {
    await login(pageW, wa.url, 'chief', PASSWORD('washington', 'chief'));
    await login(pageM, mo.url, 'chief', PASSWORD('moscow', 'chief'));
    for (const page of [pageW, pageM]) {
      await card(page).locator('.lamp[data-health="up"]').waitFor();
      assert.match((await card(page).locator('.lamp').textContent()) ?? '', /Up/);
      await card(page, OTHER_LINE).waitFor();
      await waitUnread(page, 0);
    }
    // A non-admin sees no admin link, and the admin page refuses them.
    assert.equal(await pageW.getByRole('link', { name: 'Admin', exact: true }).count(), 0);
  });

  it('makes each browser a device in the line’s encrypted group, shown with both recorders in the roster', async () => {
    await openLine(pageW);
    await openLine(pageM);
    await waitMember(pageW);
    await waitMember(pageM);
    for (const page of [pageW, pageM]) {
      const group = page.getByTestId('group-roster');
      // Both stations' recorders and both chiefs' devices, as the station and this device see them.
      await group.locator('.roster-status[data-status="match"]').waitFor({ timeout: 30_000 });
      for (const station of ['washington', 'moscow']) {
        await group.locator(`li.device-row[data-handle="recorder"][data-station="${station}"]`).waitFor();
        await group.locator(`li.device-row[data-handle="chief"][data-station="${station}"]`).waitFor();
      }
      assert.match((await group.locator('li.device-row', { hasText: 'this device' }).textContent()) ?? '', /chief/);
      assert.match((await group.locator('.fingerprint').first().textContent()) ?? '', /^[0-9a-f]{4}( [0-9a-f]{4}){9}$/);
    }
  });

  it('shows the roster and the same safety number on both sides', async () => {
    for (const page of [pageW, pageM]) {
      const digits = (await page.getByTestId('safety-number').textContent())?.replace(/\D/g, '');
      assert.equal(digits, safety.replace(/\D/g, ''));
      const roster = (await page.getByRole('region', { name: 'Roster' }).textContent()) ?? '';
      for (const who of ['Chairman of the Joint Chiefs', 'Chief of the General Staff', 'Duty Officer, NMCC', 'Duty Officer, NTsUO']) {
        assert.ok(roster.includes(who), `${who} in the roster`);
      }
      assert.match(roster, /Our seats/);
      assert.match(roster, /Their seats/);
    }
  });

  it('exchanges messages both ways; an outgoing message is accepted by our station, then delivered to the peer', async () => {
    // With the peer station down, a message can only be accepted: delivery waits for it.
    await mo.stop();
    await send(pageW, 'Request a call at 14:00Z');
    await waitState(pageW, 'Request a call at 14:00Z', 'accepted');
    await pageW.locator('.conversation-head .lamp[data-health="down"]').waitFor({ timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await stateOf(pageW, 'Request a call at 14:00Z'), 'accepted');

    await mo.start();
    await waitState(pageW, 'Request a call at 14:00Z', 'delivered');
    await pageW.locator('.conversation-head .lamp[data-health="up"]').waitFor({ timeout: 30_000 });

    // Moscow's page lost its station and reconnects by itself.
    await waitState(pageM, 'Request a call at 14:00Z', 'received', 40_000);
    const meta = (await message(pageM, 'Request a call at 14:00Z').locator('.message-meta').textContent()) ?? '';
    assert.match(meta, /chief\s*@washington/);
    assert.match(meta, /device [A-Za-z0-9_-]{8}/);
    assert.match(meta, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    assert.match((await message(pageM, 'Request a call at 14:00Z').locator('.message-note').textContent()) ?? '', /Verified/);

    await send(pageM, 'Agreed. 14:00Z. ORCHID-TANGO-5521');
    await waitState(pageM, 'Agreed. 14:00Z. ORCHID-TANGO-5521', 'delivered');
    await waitState(pageW, 'Agreed. 14:00Z. ORCHID-TANGO-5521', 'received');
    // Moscow's chief has the conversation open: washington sees its message read, and by whom
    // (an end-to-end encrypted receipt from moscow's browser; never shown as a message).
    await waitState(pageW, 'Request a call at 14:00Z', 'read');
    assert.match((await message(pageW, 'Request a call at 14:00Z').locator('.delivery').textContent()) ?? '', /Read by chief@moscow/);
    // Each message keeps its language.
    await pageM.getByLabel('Language').selectOption('ru');
    await send(pageM, 'Подтверждаю. ВОЛГА-КРЕМЕНЬ-9034');
    await waitState(pageW, 'Подтверждаю. ВОЛГА-КРЕМЕНЬ-9034', 'received');
    assert.equal(await message(pageW, 'Подтверждаю. ВОЛГА-КРЕМЕНЬ-9034').locator('.message-text').getAttribute('lang'), 'ru');
    await pageM.getByLabel('Language').selectOption('');
    // What the stations carried: MLS ciphertext, never the text.
    const items = await stationItems(mo, moToken);
    assert.ok(items.some((i) => i.kind === 'mls'));
  });

  it('loses and regains the network while sending, and nothing is lost or duplicated', async () => {
    // Offline: messages are queued on the device, shown as such, and sent on reconnect.
    await ctxM.setOffline(true);
    await pageM.locator('.connection[data-status="offline"]').waitFor();
    const queued = ['Offline note 1', 'Offline note 2', 'Offline note 3'];
    for (const t of queued) await send(pageM, t);
    for (const t of queued) assert.equal(await stateOf(pageM, t), 'queued');
    await ctxM.setOffline(false);
    for (const t of queued) await waitState(pageM, t, 'delivered');

    // Cut the network right as a message leaves: it may or may not have reached the station.
    await send(pageM, 'Racing the cut 1');
    await ctxM.setOffline(true);
    await send(pageM, 'Racing the cut 2');
    await new Promise((r) => setTimeout(r, 500));
    await ctxM.setOffline(false);
    await waitState(pageM, 'Racing the cut 1', 'delivered');
    await waitState(pageM, 'Racing the cut 2', 'delivered');

    // The reader's side drops too, and resumes after the last position it saw.
    await ctxW.setOffline(true);
    await pageW.locator('.connection[data-status="offline"]').waitFor();
    await send(pageM, 'While washington was offline');
    await waitState(pageM, 'While washington was offline', 'delivered');
    await ctxW.setOffline(false);

    const all = [...queued, 'Racing the cut 1', 'Racing the cut 2', 'While washington was offline'];
    for (const t of all) await waitState(pageW, t, 'received');
    assertOnce(await texts(pageW), all, 'washington page');
    assertOnce(await texts(pageM), all, 'moscow page');
    // The station stored each once (its recorder's archive has one entry per item) and only as ciphertext.
    await waitRecorder(mo, moToken, 'While washington was offline');
    assertOnce(await recorderTexts(mo, moToken), all, 'moscow station');
    await stationItems(mo, moToken);
    // Order is the order they were sent in, on both sides.
    const seen = (await texts(pageW)).filter((t) => all.includes(t));
    assert.deepEqual(seen, all);

    await pageW.reload();
    await pageW.locator('.connection[data-status="open"]').waitFor();
    await waitState(pageW, 'While washington was offline', 'received');
    assertOnce(await texts(pageW), all, 'washington page after a reload');
  });

  it('keeps a message written offline through a closed tab, and a draft through a reload', async () => {
    await ctxM.setOffline(true);
    await pageM.locator('.connection[data-status="offline"]').waitFor();
    await send(pageM, 'Written offline, then the tab was closed');
    await pageM.close();
    await ctxM.setOffline(false);
    // A new tab on the dashboard: the queued message goes out without opening the line.
    pageM = await ctxM.newPage();
    pageM.setDefaultTimeout(20_000);
    pageM.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await pageM.goto(mo.url);
    await pageM.getByRole('heading', { name: 'Your lines' }).waitFor();
    // The background sender catches the device up with the group, encrypts, and sends.
    await waitRecorder(mo, moToken, 'Written offline, then the tab was closed');
    assertOnce(await recorderTexts(mo, moToken), ['Written offline, then the tab was closed'], 'moscow station');

    await openLine(pageM);
    await waitState(pageM, 'Written offline, then the tab was closed', 'delivered');
    await pageM.getByLabel(/^Message to /).fill('A draft, not yet sent');
    await pageM.locator('.composer [data-draft="saved"]').waitFor();
    await pageM.reload();
    await pageM.locator('.connection[data-status="open"]').waitFor();
    assert.equal(await pageM.getByLabel(/^Message to /).inputValue(), 'A draft, not yet sent');
    await pageM.getByLabel(/^Message to /).fill('');
    await pageM.locator('.composer [data-draft="saved"]').waitFor();
    await waitState(pageW, 'Written offline, then the tab was closed', 'received');
  });

  it('keeps what the officer wrote and read sealed in the browser: no text in IndexedDB or localStorage', async () => {
    await pageM.getByLabel(/^Message to /).fill('Draft SAPPHIRE-LEDGER-7788');
    await pageM.locator('.composer [data-draft="saved"]').waitFor();
    for (const page of [pageW, pageM]) {
      const stored = await browserStorage(page);
      assert.ok(stored.length > 1000, 'the device keeps its state in IndexedDB');
      for (const t of [...SENT, 'Draft SAPPHIRE-LEDGER-7788']) {
        assert.equal(stored.includes(t), false, `"${t}" readable in the browser's storage`);
      }
    }
    await pageM.getByLabel(/^Message to /).fill('');
    await pageM.locator('.composer [data-draft="saved"]').waitFor();
  });

  it('lets two tabs of one browser share the device without ever reusing a key', async () => {
    const tab2 = await ctxW.newPage();
    try {
      tab2.setDefaultTimeout(20_000);
      await tab2.goto(`${wa.url}/lines/${LINE}`);
      await tab2.locator('.connection[data-status="open"]').waitFor();
      await waitMember(tab2);
      const burst = ['Tab one, first', 'Tab two, first', 'Tab one, second', 'Tab two, second'];
      await Promise.all([send(pageW, burst[0] as string), send(tab2, burst[1] as string)]);
      await Promise.all([send(pageW, burst[2] as string), send(tab2, burst[3] as string)]);
      for (const t of burst) await waitState(pageM, t, 'received');
      for (const t of burst) await waitState(tab2, t, 'delivered');
      assertOnce(await texts(pageM), burst, 'moscow page');
      assert.equal(await pageM.locator('li.message[data-body="refused"]').count(), 0, 'moscow read every one');
    } finally {
      await tab2.close();
    }
  });

  it('shows a message replayed by a station as refused, with the reason, never as text', async () => {
    const { items } = await call<{ items: { kind: string; dir: string; payload: string; pos: number }[] }>(
      mo,
      moToken,
      `/api/v1/lines/${LINE}/items?limit=1000`,
    );
    const original = items.filter((i) => i.kind === 'mls' && i.dir === 'out').pop();
    assert.ok(original, 'moscow has sent messages');
    const res = await fetch(`${mo.url}/api/v1/lines/${LINE}/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${moToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'mls', payload: original.payload, clientId: 'replayed-0001' }),
    });
    assert.equal(res.status, 200);
    const refused = pageW.locator('li.message[data-body="refused"]').last();
    await refused.waitFor({ timeout: 30_000 });
    assert.match((await refused.locator('.message-note').getAttribute('data-code')) ?? '', /^(REPLAYED_MESSAGE|DECRYPT_FAILED)$/);
    assert.match((await refused.textContent()) ?? '', /cannot read this message/);
  });

  it('counts unread messages on the dashboard until the line is read', async () => {
    await pageW.getByRole('link', { name: 'Lines' }).click();
    await pageW.getByRole('heading', { name: 'Your lines' }).waitFor();
    await send(pageM, 'Standing by on the line.');
    await send(pageM, 'Interpreter will join.');
    await waitUnread(pageW, 2);
    await shot(pageW, 'dashboard');
    await openLine(pageW);
    await waitState(pageW, 'Interpreter will join.', 'received');
    // Opening the line read them: moscow's officer sees both read by washington's chief.
    await waitState(pageM, 'Standing by on the line.', 'read');
    await waitState(pageM, 'Interpreter will join.', 'read');
    await send(pageW, 'Copy. Our interpreter is on the line too.');
    await waitState(pageW, 'Copy. Our interpreter is on the line too.', 'delivered');
    await shot(pageW, 'conversation');
    await pageW.getByRole('link', { name: 'Lines' }).click();
    await waitUnread(pageW, 0);
  });

  it('refreshes the browser device’s keys after so many messages, as the CLI does, and the line reads on', async () => {
    await openLine(pageW);
    // The count started at the device's join: 50 more messages pass the CLI's threshold of 50.
    const many = Array.from({ length: SELF_UPDATE_SCHEDULE.every }, (_, i) => `Status report ${i + 1}`);
    for (const t of many) await send(pageW, t);
    const own = pageW.locator('li.group-event[data-event="keys"]', { hasText: 'This device refreshed its keys' });
    await own.first().waitFor({ timeout: 60_000 });
    // The hub ordered it: the other side's device processed it too.
    await pageM
      .locator('li.group-event[data-event="keys"]', { hasText: /chief@washington .* refreshed its keys/ })
      .first()
      .waitFor();
    await send(pageW, 'Under fresh keys');
    await waitState(pageM, 'Under fresh keys', 'received');
    await waitRecorder(mo, moToken, 'Under fresh keys');
    for (const page of [pageW, pageM]) assert.equal(await page.locator('li.group-event[data-event="error"]').count(), 0);
    assert.equal(await pageM.locator('li.message[data-body="refused"]').count(), 1, 'only the replayed message');
    await pageW.getByRole('link', { name: 'Lines' }).click();
    await pageW.getByRole('heading', { name: 'Your lines' }).waitFor();
  });

  it('fits a phone screen', async () => {
    await pageM.setViewportSize({ width: 390, height: 844 });
    await pageM.locator('.composer textarea').waitFor();
    const overflow = await pageM.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await shot(pageM, 'conversation-phone');
    await pageM.setViewportSize({ width: 1280, height: 860 });
  });

  it('shows a new device what was said before it joined, and loads it from the station’s recorder on request', async () => {
    await openLine(pageW);
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await ctx2.newPage();
      page.setDefaultTimeout(20_000);
      await login(page, wa.url, 'chief', PASSWORD('washington', 'chief'));
      await openLine(page);
      await waitMember(page);
      const older = page.getByTestId('older-history');
      await older.waitFor();
      assert.match((await older.textContent()) ?? '', /sent before this device joined/);
      assert.ok((await page.locator('li.message[data-body="before-join"]').count()) >= 10);
      await older.getByRole('button', { name: /Load older history/ }).click();
      await older.waitFor({ state: 'detached' });
      await waitState(page, 'Agreed. 14:00Z. ORCHID-TANGO-5521', 'received');
      await message(page, 'Request a call at 14:00Z').waitFor();
      assert.match((await message(page, 'Agreed. 14:00Z. ORCHID-TANGO-5521').locator('.message-note').textContent()) ?? '', /recorder/);
      // The new device is in the group: the old one sees it added, and reads what it sends.
      await send(page, 'From the second device');
      await waitState(pageM, 'From the second device', 'received');
      await pageW.getByTestId('group-roster').locator('li.device-new').waitFor({ timeout: 30_000 });
      await message(pageW, 'From the second device').waitFor();
      assert.match((await message(pageW, 'From the second device').locator('.message-note').textContent()) ?? '', /Verified/);
    } finally {
      await ctx2.close();
    }
  });

  it('lets an admin add a member, who then enrolls in the browser with the one-time secret', async () => {
    const ctxA = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const ctxN = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const admin = await ctxA.newPage();
      await login(admin, wa.url, 'admin', PASSWORD('washington', 'admin'));
      await admin.getByText('You hold no seat on any line yet.').waitFor();
      await admin.getByRole('link', { name: 'Admin', exact: true }).click();
      await admin.getByRole('heading', { name: 'Station administration' }).waitFor();
      await admin.locator('tr[data-handle="chief"]').waitFor();
      await admin.getByLabel('Handle').fill('Press Office');
      await admin.getByRole('button', { name: 'Add member' }).click();
      await admin
        .getByText(/A handle is 2–32 characters/)
        .first()
        .waitFor();
      await admin.getByLabel('Handle').fill('press');
      await admin.getByLabel('Name and title').fill('Press Secretary');
      await admin.getByLabel('Role').selectOption('press_officer');
      await admin.getByRole('button', { name: 'Add member' }).click();
      const secret = ((await admin.getByTestId('enrollment-secret').textContent()) ?? '').trim();
      assert.match(secret, /^[A-Za-z0-9_-]{20,}$/);
      await admin.locator('tr[data-handle="press"]').waitFor();
      await admin.getByRole('cell', { name: 'not yet' }).waitFor();
      await admin
        .getByRole('row', { name: /chiefs-of-staff/ })
        .locator('.lamp')
        .waitFor();
      await shot(admin, 'admin');

      // A second try with the same handle is refused, and the form keeps what was typed.
      await admin.getByRole('button', { name: 'I have passed it on' }).click();
      await admin.getByLabel('Handle').fill('press');
      await admin.getByLabel('Name and title').fill('Press Secretary');
      await admin.getByRole('button', { name: 'Add member' }).click();
      await admin.getByText(/HANDLE_TAKEN/).waitFor();
      assert.equal(await admin.getByLabel('Name and title').inputValue(), 'Press Secretary');

      const newcomer = await ctxN.newPage();
      await newcomer.goto(`${wa.url}/enroll`);
      await newcomer.getByLabel('Handle').fill('press');
      await newcomer.getByLabel('Enrollment secret').fill(secret);
      await newcomer.getByLabel('New password', { exact: true }).fill('press-password-1');
      await newcomer.getByLabel('New password, again').fill('press-password-1');
      await newcomer.getByRole('button', { name: 'Enroll and log in' }).click();
      await newcomer.getByRole('heading', { name: 'Your lines' }).waitFor();
      await newcomer.getByText('Press Secretary').waitFor();

      // The secret was one-time.
      await newcomer.getByRole('button', { name: 'Log out' }).click();
      await newcomer.getByRole('button', { name: 'Log in' }).waitFor();
      await newcomer.goto(`${wa.url}/enroll`);
      await newcomer.getByLabel('Handle').fill('press');
      await newcomer.getByLabel('Enrollment secret').fill(secret);
      await newcomer.getByLabel('New password', { exact: true }).fill('press-password-2');
      await newcomer.getByLabel('New password, again').fill('press-password-2');
      await newcomer.getByRole('button', { name: 'Enroll and log in' }).click();
      await newcomer.getByText(/ENROLLMENT_INVALID/).waitFor();
      assert.equal(await newcomer.getByLabel('Enrollment secret').inputValue(), secret);

      // A principal is not an admin.
      await pageW.goto(`${wa.url}/admin`);
      await pageW.getByText('The admin pages are for station administrators.').waitFor();
    } finally {
      await ctxA.close();
      await ctxN.close();
    }
  });

  it('links a line from the admin pages of two stations in one browser, both logins kept, the same safety number shown', async () => {
    await enrolled(mo, 'admin', 'Station Administrator', 'admin', PASSWORD('moscow', 'admin'));
    // One browser, both stations on 127.0.0.1: cookies ignore ports, so each station names its own.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const adminW = await ctx.newPage();
      const adminM = await ctx.newPage();
      for (const p of [adminW, adminM]) p.setDefaultTimeout(20_000);
      await login(adminW, wa.url, 'admin', PASSWORD('washington', 'admin'));
      await login(adminM, mo.url, 'admin', PASSWORD('moscow', 'admin'));
      const cookies = (await ctx.cookies()).map((c) => c.name).sort();
      assert.equal(cookies.length, 2, `one cookie per station: ${cookies.join(', ')}`);
      await adminW.goto(`${wa.url}/admin`);
      await adminW.getByRole('heading', { name: 'Station administration' }).waitFor();

      const invite = adminW.getByRole('region', { name: 'Invite another station to a line' });
      await invite.getByLabel('Line name').fill('Press Line');
      await invite.getByText(/A line name is 1–64 characters/).waitFor();
      await invite.getByLabel('Line name').fill('press-line');
      await invite.getByRole('button', { name: 'Create invitation' }).click();
      await invite.getByText('Choose at least one member to hold a seat on our side.').waitFor();
      assert.equal(await invite.getByLabel('Line name').inputValue(), 'press-line', 'what was typed stays');
      await invite.getByRole('checkbox', { name: /^duty/ }).check();
      await invite.getByRole('button', { name: 'Create invitation' }).click();
      const invitation = await invite.getByTestId('invitation-text').inputValue();
      assert.match(invitation, /^parley1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

      await adminM.goto(`${mo.url}/admin`);
      const accept = adminM.getByRole('region', { name: 'Accept an invitation' });
      // A damaged invitation is refused with its code; what was pasted stays for another try.
      await accept.getByLabel('Invitation from the other station').fill(`${invitation.slice(0, -4)}AAAA`);
      await accept.getByRole('checkbox', { name: /^duty/ }).check();
      await accept.getByRole('button', { name: 'Accept invitation' }).click();
      await accept.getByText(/INVITATION_TAMPERED/).waitFor();
      await accept.getByLabel('Invitation from the other station').fill(invitation);
      await accept.getByRole('button', { name: 'Accept invitation' }).click();
      const shown = ((await accept.getByTestId('accepted-safety-number').textContent()) ?? '').replace(/\D/g, '');
      assert.equal(shown.length, 60);
      await adminM.getByRole('row', { name: /press-line/ }).waitFor();
      await shot(adminM, 'admin-invitations');

      // Washington's admin page lists the line with the same safety number, still logged in.
      await adminW.reload();
      const row = adminW.getByRole('row', { name: /press-line/ });
      await row.waitFor({ timeout: 20_000 });
      assert.equal(((await row.getByTestId('line-safety-number').textContent()) ?? '').replace(/\D/g, ''), shown);
      await adminM.reload();
      await adminM.getByRole('heading', { name: 'Station administration' }).waitFor();
    } finally {
      await ctx.close();
    }
  });

  it('leaves no plaintext anywhere in either station’s data directory', async () => {
    await Promise.all([wa.stop(), mo.stop()]);
    assert.ok(SENT.length >= 12);
    for (const st of [wa, mo]) {
      for (const file of filesUnder(st.dir)) {
        const bytes = readFileSync(file);
        for (const t of SENT) {
          assert.equal(bytes.includes(Buffer.from(t, 'utf8')), false, `"${t}" found in ${file}`);
          assert.equal(bytes.includes(Buffer.from(Buffer.from(t).toString('base64url'))), false, `"${t}" (base64url) found in ${file}`);
        }
      }
    }
    await Promise.all([wa.start(), mo.start()]);
  });
});

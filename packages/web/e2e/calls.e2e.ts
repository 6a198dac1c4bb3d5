import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linkStations, StationProcess } from '@parley/testkit';
import { enrolled, FAKE_MEDIA, launchChromium, login, shot } from './support/browser-kit.js';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { isCallSignalHeader } from '../src/message-codec.js';

// Calls in the officers' web app, between two real stations: moscow's chief asks washington for
// a flash call with topics; washington's duty officer sees the request with the topics
// decrypted in the page, acknowledges and accepts it; both pages follow the states live over the
// line's stream. Then a request nobody acknowledges: with short deadlines (PARLEY_CALL_POLICY on
// both stations: the hub schedules, the other station checks the deadlines) the hub marks it
// unanswered and alerts washington's duty officers, and the app sounds the alarm.
// Screenshots go to test-artifacts/screenshots, or to PARLEY_SCREENSHOTS_DIR.

const LINE = 'hotline';
/** Immediate requests: duty officers alerted after 3 s, deputies 2 s later. Flash keeps its minute. */
const POLICY = JSON.stringify({ ackDeadlineMs: { immediate: 3000 }, deputyAfterMs: { immediate: 2000 } });
const TOPICS = 'Border incident at checkpoint 7; confirm the hotline test for 14:00Z';
const TOPICS_2 = 'Unscheduled launch notification NOTAM-4471';

async function openLine(page: Page): Promise<void> {
  await page.getByRole('link', { name: LINE, exact: true }).click();
  await page.getByRole('heading', { name: LINE }).waitFor();
  await page.locator('.connection[data-status="open"]').waitFor();
  await page.locator('.e2ee-status[data-membership="member"]').waitFor({ timeout: 30_000 });
}

const panel = (page: Page) => page.getByTestId('calls-panel');
const callItem = (page: Page, callId: string): Locator => panel(page).locator(`li.call-item[data-call-id="${callId}"]`);

async function waitCallState(page: Page, callId: string, state: string, timeout = 20_000): Promise<void> {
  // Closed calls are listed folded away (attached, not visible).
  await panel(page).locator(`li.call-item[data-call-id="${callId}"][data-state="${state}"]`).waitFor({ timeout, state: 'attached' });
}

async function requestCall(page: Page, urgency: string, to: string, topics: string): Promise<string> {
  const before = new Set(
    await panel(page)
      .locator('li.call-item')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-call-id'))),
  );
  const form = panel(page).locator('details.call-request');
  if ((await form.getAttribute('open')) === null) await form.locator('summary').click();
  await page.getByLabel('Urgency').selectOption(urgency);
  await page.getByLabel(/^Counterpart at /).selectOption(to);
  await page.getByLabel('Topics').fill(topics);
  await page.getByRole('button', { name: 'Request call' }).click();
  await form.getByRole('status').waitFor();
  assert.equal(await page.getByLabel('Topics').inputValue(), '', 'the topics box empties once the station took the request');
  const handle = await page.waitForFunction(
    (known) => {
      for (const el of document.querySelectorAll('[data-testid="calls-panel"] li.call-item')) {
        const id = el.getAttribute('data-call-id');
        if (id && !known.includes(id)) return id;
      }
      return null;
    },
    [...before].filter((x): x is string => x !== null),
  );
  return (await handle.jsonValue()) as string;
}

async function expectMore(count: () => Promise<number>, atLeast: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await count()) >= atLeast) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`expected at least ${atLeast}, have ${await count()}`);
}

async function itemsAt(st: StationProcess, token: string): Promise<{ kind: string; payload: string }[]> {
  const res = await fetch(`${st.url}/api/v1/lines/${LINE}/items?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { items: { kind: string; payload: string }[] }).items;
}

/** The live figures the voice panel shows (from RTCPeerConnection.getStats()). */
async function voiceFigures(page: Page, callId: string): Promise<{ packets: number; energy: number; connected: number }> {
  const el = callItem(page, callId).getByTestId('voice-stats');
  return {
    packets: Number(await el.getAttribute('data-packets-received')),
    energy: Number(await el.getAttribute('data-audio-energy')),
    connected: Number(await el.getAttribute('data-connected')),
  };
}

/**
 * Audio arrives on this page: packets received and audio energy both above zero, then both
 * higher again at a later reading (they keep rising while the other side's microphone plays).
 */
async function audioFlowing(page: Page, callId: string, peers = 1): Promise<void> {
  const sel = `li.call-item[data-call-id="${callId}"] [data-testid="voice-stats"]`;
  const above = async (packets: number, energy: number) =>
    page.waitForFunction(
      ([s, p, e, n]) => {
        const el = document.querySelector(s as string);
        if (!el) return false;
        return (
          Number(el.getAttribute('data-packets-received')) > (p as number) &&
          Number(el.getAttribute('data-audio-energy')) > (e as number) &&
          Number(el.getAttribute('data-connected')) >= (n as number)
        );
      },
      [sel, packets, energy, peers] as const,
      { timeout: 40_000 },
    );
  await above(0, 0);
  const first = await voiceFigures(page, callId);
  await above(first.packets, first.energy);
}

/** How many items of the line are voice signals (told by their MLS header; the content is encrypted). */
async function signalItems(st: StationProcess, token: string): Promise<number> {
  return (await itemsAt(st, token)).filter((i) => i.kind === 'mls' && isCallSignalHeader(Buffer.from(i.payload, 'base64url'))).length;
}

describe('calls in the web app between two stations', () => {
  let wa: StationProcess;
  let mo: StationProcess;
  let waToken: string;
  let moToken: string;
  let browser: Browser;
  let ctxW: BrowserContext;
  let ctxM: BrowserContext;
  /** Washington's duty officer. */
  let pageW: Page;
  /** Moscow's chief. */
  let pageM: Page;
  let firstCall: string;

  before(async () => {
    [wa, mo] = await Promise.all([
      StationProcess.create({ name: 'washington', heartbeatMs: 500 }),
      StationProcess.create({ name: 'moscow', heartbeatMs: 500 }),
    ]);
    await Promise.all([wa.start({ env: { PARLEY_CALL_POLICY: POLICY } }), mo.start({ env: { PARLEY_CALL_POLICY: POLICY } })]);
    await enrolled(wa, 'chief', 'Chairman of the Joint Chiefs', 'principal');
    waToken = await enrolled(wa, 'duty', 'Duty Officer, NMCC', 'duty_officer');
    moToken = await enrolled(mo, 'chief', 'Chief of the General Staff', 'principal');
    await enrolled(mo, 'duty', 'Duty Officer, NTsUO', 'duty_officer');
    await linkStations(wa, mo, LINE, ['chief', 'duty'], ['chief', 'duty']);
    browser = await launchChromium(FAKE_MEDIA);
    ctxW = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ctxM = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    pageW = await ctxW.newPage();
    pageM = await ctxM.newPage();
    for (const p of [pageW, pageM]) {
      p.setDefaultTimeout(20_000);
      p.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    }
    await login(pageW, wa, 'duty');
    await login(pageM, mo, 'chief');
    await openLine(pageW);
    await openLine(pageM);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([wa?.stop(), mo?.stop()]);
  });

  it('has washington’s duty officer acknowledge moscow’s test message from the calls panel', async () => {
    const banner = pageW.getByTestId('test-alerts');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /Test message test-a-\S+ from moscow awaits a duty officer’s acknowledgement/);
    assert.equal(await pageM.getByTestId('test-alerts').count(), 0, 'only duty officers are asked');
    await panel(pageW).getByRole('button', { name: 'Acknowledge test message' }).click();
    await banner.waitFor({ state: 'detached' });
    await pageW
      .locator('li.call-event[data-action="test_acknowledged"]', { hasText: 'washington/duty acknowledged test message' })
      .waitFor();
  });

  it('lets moscow’s chief request a flash call with topics; washington’s duty officer sees it with the topics decrypted', async () => {
    firstCall = await requestCall(pageM, 'flash', 'chief', TOPICS);
    await waitCallState(pageM, firstCall, 'requested');
    // Washington's duty officer: the request in the calls panel, in the conversation, and a banner.
    await waitCallState(pageW, firstCall, 'requested');
    const item = callItem(pageW, firstCall);
    assert.match((await item.textContent()) ?? '', /Flash/);
    assert.match((await item.locator('.call-parties').textContent()) ?? '', /moscow\/chief\s+calls\s+washington\/chief/);
    await item.locator('.call-secret', { hasText: TOPICS }).waitFor();
    const event = pageW.locator(`li.call-event[data-action="request"][data-call-id="${firstCall}"]`);
    assert.match((await event.textContent()) ?? '', /moscow\/chief requests a flash call \S+ with washington\/chief/);
    await event.getByText(TOPICS).waitFor();
    const banner = pageW.getByTestId('call-alerts').locator(`li[data-call-id="${firstCall}"]`);
    assert.equal(await banner.getAttribute('data-level'), 'notice');
    assert.match((await banner.textContent()) ?? '', /Incoming flash call request from moscow\/chief/);
    // The requester's own page shows the topics from its own copy, and offers only to cancel.
    await callItem(pageM, firstCall).locator('.call-secret', { hasText: TOPICS }).waitFor();
    assert.deepEqual(await callItem(pageM, firstCall).locator('.call-actions button').allTextContents(), ['Cancel request…']);
    await shot(pageW, 'calls-incoming-request');
  });

  it('has washington acknowledge and accept; both pages follow each state with who and when', async () => {
    const item = callItem(pageW, firstCall);
    await item.getByRole('button', { name: 'Acknowledge' }).click();
    await waitCallState(pageW, firstCall, 'acknowledged');
    await waitCallState(pageM, firstCall, 'acknowledged');
    assert.equal(await pageW.getByTestId('call-alerts').count(), 0, 'nothing waits for this officer any more');
    await item.getByRole('button', { name: 'Accept now' }).click();
    await waitCallState(pageW, firstCall, 'accepted');
    await waitCallState(pageM, firstCall, 'accepted');
    const history = await callItem(pageM, firstCall).locator('.call-history li').allTextContents();
    assert.equal(history.length, 3);
    assert.match(history[0] ?? '', /^Requested by moscow\/chief \d{2}:\d{2}:\d{2}Z$/);
    assert.match(history[1] ?? '', /^Acknowledged by washington\/duty \d{2}:\d{2}:\d{2}Z$/);
    assert.match(history[2] ?? '', /^Accepted by washington\/duty \d{2}:\d{2}:\d{2}Z$/);
    await pageM
      .locator(`li.call-event[data-action="accept"][data-call-id="${firstCall}"]`, { hasText: 'washington/duty accepted' })
      .waitFor();
    await shot(pageM, 'calls-accepted');

    // The participants ring, connect and end it.
    await callItem(pageM, firstCall).getByRole('button', { name: 'Ring' }).click();
    await waitCallState(pageW, firstCall, 'ringing');
    await item.getByRole('button', { name: 'Connected' }).click();
    await waitCallState(pageM, firstCall, 'connected');

    // Voice: moscow offers, washington answers; offer and answer travel inside the MLS group, and
    // both pages show the same short code to read out.
    await callItem(pageM, firstCall).getByRole('button', { name: 'Start voice' }).click();
    await callItem(pageW, firstCall).getByRole('button', { name: 'Answer voice' }).click();
    for (const page of [pageM, pageW]) await callItem(page, firstCall).getByTestId('voice-code').waitFor();
    const codeM = await callItem(pageM, firstCall).getByTestId('voice-code').textContent();
    const codeW = await callItem(pageW, firstCall).getByTestId('voice-code').textContent();
    assert.match(codeM ?? '', /^\d{3} \d{3}$/);
    assert.equal(codeW, codeM, 'both sides read the same short code');
    for (const page of [pageM, pageW])
      await callItem(page, firstCall).locator('.voice[data-voice-state="connected"]').waitFor({ timeout: 30_000 });
    // Audio flows both ways: each page receives packets and audio energy, rising.
    await Promise.all([audioFlowing(pageM, firstCall), audioFlowing(pageW, firstCall)]);
    assert.match((await callItem(pageW, firstCall).getByTestId('voice-timer').textContent()) ?? '', /^\d+:\d{2}$/);
    await shot(pageW, 'calls-voice-connected');
  });

  it('mutes, holds and reconnects the voice (an ICE restart sealed in the group), with a third participant joining', async () => {
    const peerOnW = callItem(pageW, firstCall).locator('.voice-peers li[data-peer="moscow/chief"]');
    await callItem(pageM, firstCall).getByRole('button', { name: 'Mute' }).click();
    await peerOnW.locator('.voice-flag', { hasText: 'muted' }).waitFor();
    await callItem(pageM, firstCall).getByRole('button', { name: 'Unmute' }).click();
    await peerOnW.locator('.voice-flag', { hasText: 'muted' }).waitFor({ state: 'detached' });
    await callItem(pageM, firstCall).getByRole('button', { name: 'Hold' }).click();
    await peerOnW.locator('.voice-flag', { hasText: 'on hold' }).waitFor();
    await callItem(pageM, firstCall).getByRole('button', { name: 'Resume' }).click();
    await peerOnW.locator('.voice-flag', { hasText: 'on hold' }).waitFor({ state: 'detached' });

    // Reconnect: a new offer and answer with fresh ICE credentials, as after a network blip.
    const before = await signalItems(wa, waToken);
    await callItem(pageM, firstCall).getByRole('button', { name: 'Reconnect' }).click();
    await expectMore(() => signalItems(wa, waToken), before + 2);
    for (const page of [pageM, pageW])
      await callItem(page, firstCall).locator('.voice[data-voice-state="connected"]').waitFor({ timeout: 30_000 });
    await Promise.all([audioFlowing(pageM, firstCall), audioFlowing(pageW, firstCall)]);

    // Washington's page is reloaded mid-call: moscow's browser loses it, offers again (an ICE
    // restart) and washington answers from its new session, with a new code on both sides.
    const codeBefore = await callItem(pageM, firstCall).getByTestId('voice-code').textContent();
    await pageW.reload();
    await pageW.locator('.e2ee-status[data-membership="member"]').waitFor({ timeout: 30_000 });
    await callItem(pageW, firstCall).getByRole('button', { name: 'Answer voice' }).click({ timeout: 60_000 });
    await Promise.all([audioFlowing(pageM, firstCall), audioFlowing(pageW, firstCall)]);
    const [codeM, codeW] = await Promise.all(
      [pageM, pageW].map((p) => callItem(p, firstCall).getByTestId('voice-code').textContent({ timeout: 30_000 })),
    );
    assert.equal(codeM, codeW, 'both read the same new code');
    assert.notEqual(codeM, codeBefore, 'a new session, a new code');

    // Washington's chief joins the call and its voice: a mesh of three, audio from both others.
    const ctxC = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const pageC = await ctxC.newPage();
      pageC.setDefaultTimeout(20_000);
      await login(pageC, wa, 'chief');
      await openLine(pageC);
      await callItem(pageC, firstCall).getByRole('button', { name: 'Join' }).click();
      await callItem(pageC, firstCall).getByRole('button', { name: 'Start voice' }).click();
      await audioFlowing(pageC, firstCall, 2);
      await audioFlowing(pageM, firstCall, 2);
      assert.equal(await callItem(pageC, firstCall).getByTestId('voice-code').count(), 2, 'a short code per pair');
      await shot(pageC, 'calls-voice-three');
      // Leaving the call leaves the voice: the others keep theirs.
      await callItem(pageC, firstCall).getByRole('button', { name: 'Leave' }).click();
      await callItem(pageM, firstCall).locator('.voice-peers li[data-peer="washington/chief"]').waitFor({ state: 'detached' });
      assert.equal((await voiceFigures(pageM, firstCall)).connected, 1);
    } finally {
      await ctxC.close();
    }
  });

  it('hangs up the voice and ends the call; both histories show it', async () => {
    await callItem(pageM, firstCall).getByRole('button', { name: 'Hang up voice' }).click();
    for (const page of [pageM, pageW]) await callItem(page, firstCall).locator('.voice[data-voice-state="ended"]').waitFor();
    await callItem(pageM, firstCall).getByRole('button', { name: 'End call' }).click();
    await waitCallState(pageW, firstCall, 'ended');
    await waitCallState(pageM, firstCall, 'ended');
    for (const page of [pageM, pageW]) {
      const history = await callItem(page, firstCall).locator('.call-history li').allTextContents();
      assert.deepEqual(
        history.map((h) => h.replace(/ by .*/, '')),
        ['Requested', 'Acknowledged', 'Accepted', 'Ringing', 'Connected', 'Ended'],
      );
      assert.match(history[5] ?? '', /^Ended by moscow\/chief \d{2}:\d{2}:\d{2}Z$/);
      // The line's contact history counts the request and the call that connected, beside messages.
      await page
        .getByTestId('contact-totals')
        .filter({ hasText: /\b1 call request, 1 call\b/ })
        .waitFor();
    }
  });

  it('keeps what the officer typed when a call action is refused, and says why in plain words', async () => {
    // Moscow's station goes away: the hub cannot hear its member's request.
    await mo.stop();
    const form = panel(pageM).locator('details.call-request');
    if ((await form.getAttribute('open')) === null) await form.locator('summary').click();
    await pageM.getByLabel('Topics').fill('Kept through an error');
    await pageM.getByRole('button', { name: 'Request call' }).click();
    await form.getByRole('alert').waitFor();
    assert.match((await form.getByRole('alert').textContent()) ?? '', /cannot reach the station/);
    assert.equal(await pageM.getByLabel('Topics').inputValue(), 'Kept through an error');
    await mo.start({ env: { PARLEY_CALL_POLICY: POLICY } });
    await pageM.locator('.connection[data-status="open"]').waitFor({ timeout: 40_000 });
    await pageM.locator('.conversation-head .lamp[data-health="up"]').waitFor({ timeout: 30_000 });
    await pageM.getByLabel('Topics').fill('');
  });

  it('sounds the alarm at washington when a request is not acknowledged in time, on the conversation and the dashboard', async () => {
    const callId = await requestCall(pageM, 'immediate', '', TOPICS_2);
    await waitCallState(pageW, callId, 'requested');
    // 3 s later the hub marks it unanswered and alerts washington's duty officers.
    const alarm = pageW.getByTestId('call-alerts').locator(`li[data-call-id="${callId}"][data-level="alarm"]`);
    await alarm.waitFor({ timeout: 20_000 });
    assert.match((await alarm.textContent()) ?? '', /UNANSWERED immediate call request from moscow\/chief — duty officers alerted/);
    assert.equal(await pageW.getByTestId('call-alerts').getAttribute('role'), 'alert');
    await callItem(pageW, callId).locator('.call-secret', { hasText: TOPICS_2 }).waitFor();
    await callItem(pageW, callId).locator('.call-mark-unanswered').waitFor();
    assert.match((await callItem(pageW, callId).locator('.call-marks').textContent()) ?? '', /duty officers of washington alerted/);
    await pageW.locator(`li.call-event-alarm[data-action="escalate"][data-call-id="${callId}"]`).waitFor();
    // The requester's side sees the mark too.
    await callItem(pageM, callId).locator('.call-mark-unanswered').waitFor();
    await shot(pageW, 'calls-escalated-conversation');

    // The dashboards: the line is unanswered on both sides; washington's duty officer is alerted.
    for (const page of [pageW, pageM]) {
      await page.getByRole('link', { name: 'Lines', exact: true }).click();
      await page.locator(`li.line-card[data-line="${LINE}"] [data-testid="unanswered"]`).waitFor();
    }
    await pageW.getByTestId('call-alerts').locator(`li[data-call-id="${callId}"][data-level="alarm"]`).waitFor();
    assert.equal(await pageM.getByTestId('call-alerts').count(), 0, 'the side that asked is not alerted');
    await shot(pageW, 'calls-escalated-dashboard');

    // From the banner to the call; a late acknowledgement is still taken and the alarm stops.
    await pageW.getByTestId('call-alerts').getByRole('button', { name: 'Show the call' }).click();
    await pageW.getByRole('heading', { name: LINE }).waitFor();
    await callItem(pageW, callId).getByRole('button', { name: 'Acknowledge' }).click();
    await waitCallState(pageW, callId, 'acknowledged');
    assert.match((await callItem(pageW, callId).locator('.call-marks').textContent()) ?? '', /answered late/);
    await pageW.getByRole('link', { name: 'Lines', exact: true }).click();
    await pageW.locator(`li.line-card[data-line="${LINE}"] [data-testid="open-calls"]`, { hasText: '1' }).waitFor();
    assert.equal(await pageW.locator(`li.line-card[data-line="${LINE}"] [data-testid="unanswered"]`).count(), 0);
    assert.equal(await pageW.getByTestId('call-alerts').count(), 0);
  });

  it('never lets the topics reach either station in clear', async () => {
    for (const [st, token] of [
      [wa, waToken],
      [mo, moToken],
    ] as const) {
      const items = await itemsAt(st, token);
      assert.ok(items.some((i) => i.kind === 'call'));
      for (const i of items) {
        const bytes = Buffer.from(i.payload, 'base64url');
        const inner = i.kind === 'call' ? Buffer.from(JSON.parse(bytes.toString('utf8')).body ?? '', 'base64url') : Buffer.alloc(0);
        for (const t of [TOPICS, TOPICS_2, 'checkpoint 7', 'NOTAM-4471']) {
          assert.equal(bytes.includes(Buffer.from(t)), false, `"${t}" in clear at ${st.name}`);
          assert.equal(inner.includes(Buffer.from(t)), false, `"${t}" in clear in a call body at ${st.name}`);
        }
      }
    }
  });
});

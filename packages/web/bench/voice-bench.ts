/**
 * Time from "accept" to audio flowing, on loopback: two real station processes, two Chromium
 * pages (Debian's /usr/bin/chromium, a fake microphone each) in the officers' web app. For each
 * sample, moscow's chief requests a call (client API), and the clock starts when washington's
 * duty officer accepts it; then the participants ring and connect (client API, as the buttons
 * do), moscow's page starts the voice and washington's answers it (the buttons, as soon as they
 * show), the offer, answer and ICE candidates go through the line's MLS group and both stations,
 * and the clock stops when BOTH pages receive audio packets (inbound-rtp packetsReceived > 0 in
 * the voice panel's live figures, read every 250 ms: the figures carry that resolution).
 *
 * The first call (--warmup, default 1) loads the voice code and the fake microphone in both
 * pages and is not counted.
 *
 *   node packages/web/dist/bench/voice-bench.js [--samples 5] [--warmup 1]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchArg, linkStations, StationProcess } from '@parley/testkit';
import { FAKE_MEDIA, launchChromium } from '../e2e/support/browser-kit.js';
import type { Page } from 'playwright-core';

const SAMPLES = Number(benchArg('samples', '5'));
const WARMUP = Number(benchArg('warmup', '1'));
const LINE = 'bench';
const PASSWORD = 'bench-password-123';

async function act(st: StationProcess, token: string, body: Record<string, unknown>): Promise<{ call: { callId: string } | null }> {
  const res = await fetch(`${st.url}/api/v1/lines/${LINE}/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: `bench-${Math.random().toString(36).slice(2)}`, ...body }),
  });
  const json = (await res.json()) as { call: { callId: string } | null; error?: { code: string } };
  if (!res.ok) throw new Error(`${body.action}: ${JSON.stringify(json)}`);
  return json;
}

/** Until this station's book has the call in `state` (the other station's action travels through the hub first). */
async function reached(st: StationProcess, token: string, callId: string, state: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const res = await fetch(`${st.url}/api/v1/lines/${LINE}/calls`, { headers: { authorization: `Bearer ${token}` } });
    const { calls } = (await res.json()) as { calls: { callId: string; state: string }[] };
    if (calls.some((c) => c.callId === callId && c.state === state)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`call ${callId} never reached ${state} at ${st.name}`);
}

async function login(page: Page, st: StationProcess, handle: string): Promise<void> {
  await page.goto(st.url);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: LINE, exact: true }).click();
  await page.locator('.e2ee-status[data-membership="member"]').waitFor({ timeout: 60_000 });
}

const item = (page: Page, callId: string) => page.locator(`[data-testid="calls-panel"] li.call-item[data-call-id="${callId}"]`);

async function audioArrives(page: Page, callId: string): Promise<number> {
  await page.waitForFunction(
    (id) =>
      Number(
        document.querySelector(`li.call-item[data-call-id="${id}"] [data-testid="voice-stats"]`)?.getAttribute('data-packets-received') ??
          0,
      ) > 0,
    callId,
    { timeout: 60_000, polling: 'raf' },
  );
  return performance.now();
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
  return `median ${med.toFixed(0)} ms, min ${s[0]?.toFixed(0)} ms, max ${s[s.length - 1]?.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  const wa = await StationProcess.create({ name: 'washington', heartbeatMs: 1000 });
  const mo = await StationProcess.create({ name: 'moscow', heartbeatMs: 1000 });
  await Promise.all([wa.start(), mo.start()]);
  const browser = await launchChromium(FAKE_MEDIA);
  try {
    const waToken = await wa.addEnrolledMember('duty', 'duty_officer', PASSWORD);
    const moToken = await mo.addEnrolledMember('chief', 'principal', PASSWORD);
    await linkStations(wa, mo, LINE, ['duty'], ['chief']);
    const pageW = await (await browser.newContext()).newPage();
    const pageM = await (await browser.newContext()).newPage();
    await login(pageW, wa, 'duty');
    await login(pageM, mo, 'chief');

    const toAudio: number[] = [];
    const toVoiceButton: number[] = [];
    const voiceOnly: number[] = [];
    for (let i = -WARMUP; i < SAMPLES; i++) {
      const req = await act(mo, moToken, { action: 'request', urgency: 'flash' });
      const callId = req.call?.callId;
      if (!callId) throw new Error('no call id');
      await item(pageW, callId).waitFor({ state: 'attached' });
      const t0 = performance.now();
      await act(wa, waToken, { action: 'accept', callId });
      await reached(mo, moToken, callId, 'accepted');
      await act(mo, moToken, { action: 'ring', callId });
      await reached(wa, waToken, callId, 'ringing');
      await act(wa, waToken, { action: 'connect', callId });
      await item(pageM, callId).getByRole('button', { name: 'Start voice' }).click({ timeout: 30_000 });
      const tv = performance.now();
      await item(pageW, callId).getByRole('button', { name: 'Answer voice' }).click({ timeout: 30_000 });
      const [tm, tw] = await Promise.all([audioArrives(pageM, callId), audioArrives(pageW, callId)]);
      const ms = Math.max(tm, tw) - t0;
      if (i >= 0) {
        toVoiceButton.push(tv - t0);
        toAudio.push(ms);
        voiceOnly.push(Math.max(tm, tw) - tv);
      }
      process.stdout.write(`${i < 0 ? 'warm-up' : `sample ${i + 1}`}: accept → audio both ways ${ms.toFixed(0)} ms\n`);
      await item(pageM, callId).getByRole('button', { name: 'Hang up voice' }).click();
      await act(mo, moToken, { action: 'end', callId });
    }
    process.stdout.write(
      [
        '',
        `Voice benchmark: accept → audio flowing both ways, loopback, ${SAMPLES} calls after ${WARMUP} warm-up`,
        `  machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average at start ${load?.toFixed(2)}`,
        `  accept → ringing → connected → "Start voice" shown at moscow: ${summary(toVoiceButton)}`,
        `  "Start voice" clicked → audio both ways (microphone, offer/answer/ICE sealed in MLS through both stations, DTLS): ${summary(voiceOnly)}`,
        `  accept → first audio packets received on both pages: ${summary(toAudio)} (figures read every 250 ms)`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await Promise.all([wa.stop(), mo.stop()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

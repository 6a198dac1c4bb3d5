import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StationProcess } from '@parley/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';

// What every browser test does the same way: people enrolled on real stations, logging in
// through the page, screenshots, and a look at what landed on disk.

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Where screenshots go: test-artifacts/screenshots, or PARLEY_SCREENSHOTS_DIR (docs/screenshots refreshes the README's). */
export const SHOTS = process.env.PARLEY_SCREENSHOTS_DIR
  ? join(process.cwd(), process.env.PARLEY_SCREENSHOTS_DIR)
  : join(ROOT, 'test-artifacts', 'screenshots');

export const PASSWORD = (station: string, handle: string) => `${station}-${handle}-password`;

/** A member added and enrolled over the client API; returns a bearer token for API calls beside the browser. */
export async function enrolled(
  st: StationProcess,
  handle: string,
  name: string,
  role: string,
  password = PASSWORD(st.name, handle),
): Promise<string> {
  const secret = await st.addMember(handle, name, role);
  const res = await fetch(`${st.url}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle, secret, password, session: 'bearer' }),
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`enroll ${handle}: ${JSON.stringify(body)}`);
  return body.token;
}

/** Log in through the page, as a person does, and wait for the lines dashboard. */
export async function login(page: Page, st: StationProcess, handle: string, password = PASSWORD(st.name, handle)): Promise<void> {
  await page.goto(st.url);
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your lines' }).waitFor();
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Every file under a directory (for scans of what a station or the browser wrote). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** A fake microphone, allowed without asking: voice between two pages. */
export const FAKE_MEDIA = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

/** Debian's Chromium (`apt-get install chromium`), headless, quiet: never a downloaded browser. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

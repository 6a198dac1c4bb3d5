import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk } from './cli.js';
import type { StationProcess } from './station-process.js';
import { tempDir } from './temp.js';

/** Until `fn` returns something other than undefined; fails the test after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A member enrolled on `st` and logged in with the real CLI: returns the profile directory (the
 * CLI's MLS device, vouched for by the station, key packages published).
 */
export async function cliMember(st: StationProcess, handle: string, role: string): Promise<string> {
  const password = `${st.name}-${handle}-pw`;
  await st.addEnrolledMember(handle, role, password);
  const pw = join(tempDir(), 'pw');
  writeFileSync(pw, password);
  const dir = join(tempDir(), `${st.name}-${handle}`);
  await cliOk(['login', '--station', st.url, '--handle', handle, '--profile', dir, '--password-file', pw]);
  return dir;
}

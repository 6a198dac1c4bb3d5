import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env.PARLEY_KEEP_TEMP) return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory removed when the test process exits (kept if PARLEY_KEEP_TEMP is set). */
export function tempDir(prefix = 'parley-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

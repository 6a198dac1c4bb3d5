import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

// The root of @parley/protocol builds every TypeBox schema when it loads, which would put the
// whole schema library in the browser bundle for nothing: the app takes types from the root
// (erased at build time) and run-time code only from the light subpaths (bytes, errors, roles).

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

it('the app imports only types from the root of @parley/protocol', () => {
  const offenders: string[] = [];
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'@parley\/protocol'/gms)) {
      if (!m[1]) offenders.push(`${f.slice(SRC.length)}: ${m[0].split('\n')[0]}`);
    }
  }
  assert.deepEqual(offenders, []);
});

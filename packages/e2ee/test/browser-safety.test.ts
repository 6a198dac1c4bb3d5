// The package runs in the browser too: its sources may import only ts-mls, @noble/* and each
// other, and may not touch Node globals. (tsconfig.json also compiles src/ without Node types.)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const srcDir = new URL('../../src/', import.meta.url);

test('src/ imports nothing Node-specific', () => {
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 5, `sources not found in ${srcDir.pathname}`);
  let mlsImports = 0;
  for (const file of files) {
    const source = readFileSync(new URL(file, srcDir), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    mlsImports += specifiers.filter((s) => s?.startsWith('ts-mls')).length;
    for (const s of specifiers) {
      assert.match(s ?? '', /^(\.\/[\w-]+\.js|ts-mls(\/[\w/]+\.js)?|@noble\/(curves|hashes)\/[\w/]+\.js)$/, `${file} imports ${s}`);
    }
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const banned of [/\bBuffer\b/, /\bprocess\./, /\brequire\(/, /\b__dirname\b/, /\bsetImmediate\b/]) {
      assert.doesNotMatch(code, banned, `${file} uses ${banned.source}`);
    }
  }
  assert.ok(mlsImports > 0, 'the import scan found nothing: is the pattern still right?');
});

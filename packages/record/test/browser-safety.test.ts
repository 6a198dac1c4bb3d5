// The record's core runs in the browser too (the web app verifies exports): its sources may
// import only each other, @noble/*, typebox and @parley/protocol, and touch no Node global.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const srcDir = new URL('../../src/', import.meta.url);

test('src/ imports nothing Node-specific', () => {
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `sources not found in ${srcDir.pathname}`);
  let imports = 0;
  for (const file of files) {
    const source = readFileSync(new URL(file, srcDir), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    imports += specifiers.length;
    for (const s of specifiers) {
      assert.match(
        s ?? '',
        /^(\.\/[\w-]+\.js|@noble\/(curves|hashes)\/[\w/]+\.js|typebox(\/compile)?|@parley\/protocol(\/bytes)?)$/,
        `${file} imports ${s}`,
      );
    }
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const banned of [/\bBuffer\b/, /\bprocess\./, /\brequire\(/, /\b__dirname\b/, /\bsetImmediate\b/, /\bnode:/]) {
      assert.doesNotMatch(code, banned, `${file} uses ${banned.source}`);
    }
  }
  assert.ok(imports > 20, 'the import scan found almost nothing: is the pattern still right?');
});

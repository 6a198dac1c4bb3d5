import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StationProcess, tempDir } from '@parley/testkit';

// The station serves the web app from PARLEY_WEB_DIR (default: packages/web/dist/app). These
// tests give it a small stand-in bundle, so they do not depend on the real one being built.

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, text: await res.text() };
}

async function startWith(webDir: string): Promise<StationProcess> {
  const st = await StationProcess.create({ name: 'washington' });
  const saved = process.env.PARLEY_WEB_DIR;
  process.env.PARLEY_WEB_DIR = webDir;
  try {
    await st.start();
  } finally {
    if (saved === undefined) delete process.env.PARLEY_WEB_DIR;
    else process.env.PARLEY_WEB_DIR = saved;
  }
  return st;
}

describe('web app serving', () => {
  let st: StationProcess;
  let bare: StationProcess;
  const INDEX = '<!doctype html><title>Parley</title><div id="root"></div>';

  before(async () => {
    const web = tempDir('parley-web-');
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), INDEX);
    writeFileSync(join(web, 'assets', 'index-abc123.js'), 'console.log("app")');
    writeFileSync(join(web, '.secret'), 'dotfiles are never served');
    writeFileSync(join(tempDir('parley-outside-'), 'outside.txt'), 'outside');
    [st, bare] = await Promise.all([startWith(web), startWith(join(tempDir('parley-noweb-'), 'missing'))]);
  });
  after(async () => {
    await Promise.all([st.stop(), bare.stop()]);
  });

  it('serves index.html at / and, for the single-page app, at any other page path', async () => {
    for (const path of ['/', '/lines/chiefs-of-staff', '/admin', '/login?next=%2F']) {
      const r = await get(`${st.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.type, /text\/html/);
      assert.equal(r.text, INDEX);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
    }
  });

  it('serves hashed assets as immutable', async () => {
    const r = await get(`${st.url}/assets/index-abc123.js`);
    assert.equal(r.status, 200);
    assert.match(r.type, /javascript/);
    assert.match(r.headers.get('cache-control') ?? '', /immutable/);
  });

  it('never shadows the APIs: unknown API paths keep their JSON 404, real ones still answer', async () => {
    for (const path of ['/api/v1/nothing', '/api', '/api/', '/fed/v1/nothing', '/healthz/x', '/metrics/x']) {
      const r = await get(`${st.url}${path}`);
      assert.equal(r.status, 404, path);
      assert.match(r.type, /application\/json/, path);
      assert.equal(JSON.parse(r.text).error.code, 'NOT_FOUND');
    }
    assert.equal((await get(`${st.url}/healthz`)).status, 200);
    assert.equal(JSON.parse((await get(`${st.url}/api/v1/me`)).text).error.code, 'UNAUTHENTICATED');
  });

  it('serves nothing outside the bundle and no dotfiles', async () => {
    for (const path of ['/../outside.txt', '/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fetc/passwd', '/.secret']) {
      const r = await get(`${st.url}${path}`);
      assert.doesNotMatch(r.text, /outside|dotfiles are never served|"name"|root:/, path);
    }
  });

  it('a station whose web app is not built still runs its APIs, says why the app is missing, and logs a warning', async () => {
    const r = await get(`${bare.url}/`);
    assert.equal(r.status, 503);
    assert.match(r.text, /not built/);
    assert.equal((await get(`${bare.url}/healthz`)).status, 200);
    assert.equal((await get(`${bare.url}/api/v1/nothing`)).status, 404);
    assert.match(readFileSync(join(bare.dir, 'station.out'), 'utf8'), /web app is not built/);
  });
});

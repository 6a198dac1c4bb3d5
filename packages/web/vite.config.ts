import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The station serves dist/app (packages/station/src/http/web-plugin.ts). tsc writes the
// compiled state modules and tests beside it in dist/src and dist/test, so the app's bundle
// has a folder of its own that Vite may empty on every build.
export default defineConfig({
  plugins: [react()],
  // @parley/e2ee's HPKE libraries fall back to Node's crypto where WebCrypto is missing; in the
  // browser it never is, so the fallback resolves to WebCrypto itself rather than an empty stub.
  resolve: { alias: { crypto: fileURLToPath(new URL('./src/e2ee/webcrypto-shim.ts', import.meta.url)) } },
  build: { outDir: 'dist/app', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    // `npm run dev -w @parley/web` with a station on :7301 (e.g. the demo's washington).
    proxy: { '/api': { target: 'http://127.0.0.1:7301', ws: true } },
  },
});

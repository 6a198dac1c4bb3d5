import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The station serves dist/app (packages/station/src/http/web-plugin.ts). tsc writes the
// compiled state modules and tests beside it in dist/src and dist/test, so the app's bundle
// has a folder of its own that Vite may empty on every build.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist/app', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    // `npm run dev -w @parley/web` with a station on :7301 (e.g. the demo's washington).
    proxy: { '/api': { target: 'http://127.0.0.1:7301', ws: true } },
  },
});

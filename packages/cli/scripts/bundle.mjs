// Bundles the compiled CLI (dist/src) into dist/bundle: Node's ESM loader spends most of a
// short command's time resolving and reading hundreds of small module files (typebox alone
// has ~700). One bundle with lazily loaded chunks starts in a fraction of that time.
// Native and optional native modules stay outside and load from node_modules as usual.
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
// Old chunks are left in place: a station started from the previous bundle may still load them.
await build({
  cwd: root,
  // The recorders' decryption thread is a second entry: a worker loads a file of its own
  // (found beside the bundle by station/src/e2ee/recorder-decryptor.ts).
  input: { parley: 'dist/src/bin.js', 'recorder-worker': '../station/dist/src/e2ee/recorder-worker.js' },
  platform: 'node',
  external: ['better-sqlite3', 'pg-native', 'bufferutil', 'utf-8-validate'],
  logLevel: 'warn',
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    sourcemap: true,
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
});

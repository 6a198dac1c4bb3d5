import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** How often the checkpointer copies the WAL into the database file. */
const EVERY_MS = 500;

// The worker is a small script rather than a module file so it runs the same whether the
// station runs from dist/src or from the CLI's bundle; better-sqlite3 is found by its path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Copies the WAL into the database file from a worker thread with its own connection, so the
 * station's event loop never does it. SQLite otherwise checkpoints inside whichever commit
 * crosses 1,000 WAL pages: that commit (an item on its way to a client) also waits for the
 * database file's fsync, which is the slowest thing on the line's path. A PASSIVE checkpoint
 * neither blocks nor waits for the station's own reads and writes. If the worker fails, the
 * caller turns SQLite's own checkpointing back on, so the WAL never grows without bound.
 */
export function startWalCheckpointer(file: string, log: Logger | undefined, onFailure: () => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver, everyMs: EVERY_MS } });
  worker.unref();
  let failed = false;
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    log?.warn({ why }, 'background WAL checkpoints stopped; SQLite checkpoints on commit again');
    onFailure();
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error && !/SQLITE_BUSY|database is locked/i.test(m.error)) fail(m.error);
  });
  worker.on('error', (err) => fail(err.message));
  let stopping = false;
  worker.on('exit', (code) => {
    if (!stopping) fail(`worker exited with ${code}`);
  });
  return {
    async stop() {
      stopping = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate().catch(() => {});
    },
  };
}

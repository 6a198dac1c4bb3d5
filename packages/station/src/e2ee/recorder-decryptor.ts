import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LinePolicy } from '@parley/e2ee';
import type { Logger } from 'pino';
import { bytesOf, type Decrypted, decryptRun, type StateRef, stateOf } from './recorder-batch.js';
import type { DecryptAnswer, DecryptRequest } from './recorder-worker.js';

export interface DecryptedRun {
  /** The state after the run; null when no message moved it. */
  next: StateRef | null;
  epoch: number;
  results: Decrypted[];
}

/**
 * Where the recorders decrypt. With real traffic a message costs the recorder about a
 * millisecond of CPU at each station; on the station's own thread that millisecond stands in
 * front of the next item's delivery. So the recorders of a station process share one worker
 * thread at the lowest CPU priority (recorder-worker.ts), and hand it runs of messages with the
 * state they start from. If the thread cannot start or fails, they decrypt here as before,
 * yielding to waiting deliveries between messages; nothing else changes.
 */
export class RecorderDecryptor {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (a: DecryptAnswer) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly log: Logger,
    /** False: always on this thread (tests that compare the two). */
    private readonly useWorker = process.env.PARLEY_RECORDER_THREAD !== 'off',
  ) {}

  async run(from: StateRef, payloads: readonly Uint8Array[], policy: LinePolicy): Promise<DecryptedRun> {
    const worker = this.useWorker && !this.failed ? this.start() : null;
    if (worker) {
      try {
        const answer = await this.ask(worker, { id: this.nextId++, state: bytesOf(from), payloads: [...payloads], policy });
        if (answer.ok) return { next: answer.state ? { bytes: answer.state } : null, epoch: answer.epoch, results: answer.results };
        this.log.warn({ err: answer.error }, 'recorder thread could not process a run; decrypting on the station thread');
      } catch (e) {
        this.fail((e as Error).message);
      }
    }
    const yieldToDeliveries = () => new Promise<void>((resolve) => setImmediate(resolve));
    const out = await decryptRun(stateOf(from), payloads, policy, yieldToDeliveries);
    return { next: out.changed ? { state: out.state } : null, epoch: out.state.epoch, results: out.results };
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private start(): Worker | null {
    if (this.worker) return this.worker;
    const file = workerFile();
    if (!file) {
      this.fail('recorder-worker.js not found next to the station code');
      return null;
    }
    const worker = new Worker(file);
    worker.unref();
    worker.on('message', (a: DecryptAnswer) => {
      const w = this.waiting.get(a.id);
      this.waiting.delete(a.id);
      w?.resolve(a);
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(`exited with code ${code}`);
    });
    this.worker = worker;
    return worker;
  }

  private ask(worker: Worker, req: DecryptRequest): Promise<DecryptAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  private fail(why: string): void {
    if (!this.failed) this.log.warn({ why }, 'recorder thread unavailable; recorders decrypt on the station thread');
    this.failed = true;
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
    for (const [, p] of this.waiting) p.reject(new Error(`recorder thread: ${why}`));
    this.waiting.clear();
  }
}

/**
 * The worker's file: beside this module when the station runs from its compiled sources, one
 * level up when it runs from the CLI's bundle (this code then lives in `chunks/`).
 */
function workerFile(): string | null {
  const name = 'recorder-worker.js';
  for (const rel of [`./${name}`, `../${name}`]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

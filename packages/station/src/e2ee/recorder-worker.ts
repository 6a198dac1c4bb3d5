// The recorder's decryption thread (see recorder-decryptor.ts): receives runs of a line's
// messages with the group state they start from, answers with what they say and the state after.
import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { deserializeGroup, type GroupState, type LinePolicy, serializeGroup } from '@parley/e2ee';
import { decryptRun } from './recorder-batch.js';

export interface DecryptRequest {
  id: number;
  state: Uint8Array;
  payloads: Uint8Array[];
  policy: LinePolicy;
}

export type DecryptAnswer =
  | { id: number; ok: true; state: Uint8Array | null; epoch: number; results: Awaited<ReturnType<typeof decryptRun>>['results'] }
  | { id: number; ok: false; error: string };

// The archive is history: this thread runs at the lowest CPU priority, so it takes only what
// the station's delivering thread leaves. Linux gives each thread its own nice value; elsewhere
// it keeps the process's.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {
  // not Linux, or not allowed: same priority as the station
}

/** The states this thread produced last, by the hash of their serialization: no decoding them again. */
const recent = new Map<string, GroupState>();
const hashOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64url');

parentPort?.on('message', (req: DecryptRequest) => {
  void (async (): Promise<DecryptAnswer> => {
    const key = hashOf(req.state);
    const from = recent.get(key) ?? deserializeGroup(req.state);
    const out = await decryptRun(from, req.payloads, req.policy);
    let bytes: Uint8Array | null = null;
    if (!out.changed) recent.set(key, from);
    else {
      bytes = serializeGroup(out.state);
      recent.delete(key);
      if (recent.size >= 16) recent.delete(recent.keys().next().value as string);
      recent.set(hashOf(bytes), out.state);
    }
    return { id: req.id, ok: true, state: bytes, epoch: out.state.epoch, results: out.results };
  })().then(
    (answer) => parentPort?.postMessage(answer),
    (err: unknown) => parentPort?.postMessage({ id: req.id, ok: false, error: String((err as Error)?.message ?? err) }),
  );
});

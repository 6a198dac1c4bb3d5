import type { LineSummary, SendResponse } from '@parley/protocol';
import { ParleyError } from '@parley/protocol/errors';
import { api, NetworkError } from './api.js';
import type { E2eeService } from './e2ee/service.js';
import { connectedLines } from './line-connection.js';
import type { OfflineQueue } from './offline-queue.js';

const RETRIABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'UNAUTHENTICATED']);

/**
 * Sends queued messages of lines that no open conversation is connected to (the officer typed
 * offline, then went to the dashboard), over plain HTTP with the same clientId: it first brings
 * the line's group up to date from the timeline, then encrypts with the current epoch. Runs while
 * the officer is logged in: on start, whenever the browser comes online, and every few seconds.
 */
export function startBackgroundSender(queue: OfflineQueue, e2ee: E2eeService, everyMs = 5000): () => void {
  let running = false;
  const run = async () => {
    if (running || globalThis.navigator?.onLine === false) return;
    running = true;
    try {
      await queue.ready;
      const skip = new Set<string>();
      for (const p of queue.list()) {
        if (p.status !== 'queued' || connectedLines.has(p.line) || skip.has(p.line)) continue;
        const path = `/api/v1/lines/${encodeURIComponent(p.line)}`;
        try {
          const summary = await api<LineSummary>('GET', path);
          const engine = await e2ee.engine(p.line, summary);
          await engine.catchUp();
          if (connectedLines.has(p.line)) continue; // a conversation opened meanwhile: it sends
          await engine.refreshKeysIfDue().catch((e: unknown) => console.warn('could not refresh this device’s keys; sending anyway', e));
          const sealed = await engine.seal(p);
          if ('membership' in sealed) {
            skip.add(p.line); // not in the group yet: the line's messages wait, in order
            continue;
          }
          await api<SendResponse>('POST', `${path}/items`, { kind: 'mls', payload: sealed.payload, clientId: p.clientId });
          await queue.remove(p.clientId);
        } catch (e) {
          if (e instanceof NetworkError) break;
          if (e instanceof ParleyError && !RETRIABLE.has(e.code)) {
            await queue.markFailed(p.clientId, { code: e.code, message: e.message });
          } else if (!(e instanceof ParleyError)) {
            skip.add(p.line); // this device cannot use the line's keys now; shown when the line is opened
          }
        }
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  const onOnline = () => void run();
  globalThis.addEventListener('online', onOnline);
  void run();
  return () => {
    clearInterval(timer);
    globalThis.removeEventListener('online', onOnline);
  };
}

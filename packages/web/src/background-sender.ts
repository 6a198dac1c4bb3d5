import type { SendResponse } from '@parley/protocol';
import { ParleyError } from '@parley/protocol/errors';
import { api, NetworkError } from './api.js';
import { connectedLines } from './line-connection.js';
import { encodeMessage } from './message-codec.js';
import type { OfflineQueue } from './offline-queue.js';

const RETRIABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'UNAUTHENTICATED']);

/**
 * Sends queued messages of lines that no open conversation is connected to (the officer typed
 * offline, then went to the dashboard), over plain HTTP with the same clientId. Runs while the
 * officer is logged in: on start, whenever the browser comes online, and every few seconds.
 */
export function startBackgroundSender(queue: OfflineQueue, everyMs = 5000): () => void {
  let running = false;
  const run = async () => {
    if (running || globalThis.navigator?.onLine === false) return;
    running = true;
    try {
      for (const p of queue.list()) {
        if (p.status !== 'queued' || connectedLines.has(p.line)) continue;
        try {
          await api<SendResponse>('POST', `/api/v1/lines/${encodeURIComponent(p.line)}/items`, {
            payload: encodeMessage(p.text),
            clientId: p.clientId,
          });
          queue.remove(p.clientId);
        } catch (e) {
          if (e instanceof NetworkError) break;
          if (e instanceof ParleyError && !RETRIABLE.has(e.code)) queue.markFailed(p.clientId, { code: e.code, message: e.message });
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

import type { SendResponse } from '@parley/protocol';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from './api.js';
import { ReceiptMarks, receiptToSend, type Side } from './receipts.js';
import { useSession } from './session.js';
import type { ConversationState } from './use-conversation.js';

/** Receipts wait this long after the newest message was shown, so a burst of messages makes one receipt. */
export const RECEIPT_DEBOUNCE_MS = 1500;
/** While messages keep coming, a receipt still goes out at most this long after the first one shown. */
export const RECEIPT_MAX_WAIT_MS = 5000;
/** After a failed send, the next try waits at least this long. */
const RETRY_MS = 10_000;

const newClientId = () => crypto.randomUUID().replaceAll('-', '');

/**
 * While the conversation is on screen (the tab visible), tell the line how far this member has
 * read the other side's messages: one end-to-end encrypted receipt, debounced, and only when the
 * newest message shown advances past what this device last said (kept per line on the device).
 */
export function useReadReceipts(line: string, conv: ConversationState): void {
  const { store, scope } = useSession();
  const marks = useMemo(() => new ReceiptMarks(store, scope), [store, scope]);
  const [visible, setVisible] = useState(() => typeof document === 'undefined' || document.visibilityState === 'visible');
  const sending = useRef(false);
  const failedAt = useRef(0);
  const due = useRef<number | null>(null);
  const [retryTick, setRetryTick] = useState(0);

  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);

  const { engine, membership, summary } = conv;
  const records = conv.timeline.records;
  const lineId = summary?.id;
  const ourSide = summary?.side;

  // biome-ignore lint/correctness/useExhaustiveDependencies: retryTick re-runs the effect after a send or a failure on purpose
  useEffect(() => {
    if (!engine || membership !== 'member' || !lineId || !ourSide || !visible) return;
    const peerSide: Side = ourSide === 'inviter' ? 'acceptor' : 'inviter';
    if (!receiptToSend(records, peerSide, marks.get(lineId))) {
      due.current = null;
      return;
    }
    due.current ??= Date.now() + RECEIPT_MAX_WAIT_MS;
    const wait = Math.max(Math.min(RECEIPT_DEBOUNCE_MS, due.current - Date.now()), failedAt.current + RETRY_MS - Date.now(), 0);
    const timer = setTimeout(() => {
      if (sending.current || document.visibilityState !== 'visible') return;
      // Taken again now: what was shown meanwhile goes in this receipt.
      const upTo = receiptToSend(records, peerSide, marks.get(lineId));
      if (!upTo) return;
      sending.current = true;
      void (async () => {
        try {
          const clientId = newClientId();
          const sealed = await engine.sealReceipt(clientId, upTo);
          if ('membership' in sealed) return;
          await api<SendResponse>('POST', `/api/v1/lines/${encodeURIComponent(line)}/items`, {
            kind: 'mls',
            payload: sealed.payload,
            clientId,
          });
          marks.set(lineId, upTo.seq);
          failedAt.current = 0;
          due.current = null;
          setRetryTick((n) => n + 1); // what was shown while this one was on its way goes in the next
        } catch (e) {
          // Not worth troubling the officer: the next message read, or the retry, sends a newer one.
          console.warn('could not send a read receipt', e);
          failedAt.current = Date.now();
          setTimeout(() => setRetryTick((n) => n + 1), RETRY_MS);
        } finally {
          sending.current = false;
        }
      })();
    }, wait);
    return () => clearTimeout(timer);
  }, [engine, membership, lineId, ourSide, visible, records, marks, line, retryTick]);
}

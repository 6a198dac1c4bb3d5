import type { LineSummary } from '@parley/protocol';
import { ParleyError } from '@parley/protocol/errors';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, isUnauthenticated, NetworkError } from './api.js';
import type { Call, CallAction, CallsResponse, Me, PolicySummary, TestRecord, Urgency } from './calls.js';
import { callErrorText } from './calls.js';
import type { LineEngine } from './e2ee/line-engine.js';
import { useSession } from './session.js';

/** A call action as the officer asked for it; `secret` is encrypted end to end (topics, a reason). */
export type CallRequest =
  | { action: 'request'; urgency: Urgency; to?: string; secret?: string }
  | { action: CallAction; callId: string; secret?: string }
  | { action: 'acknowledge_test'; testId: string; secret?: undefined };

export interface CallsState {
  calls: Call[] | null;
  tests: TestRecord[];
  /** The line's deadlines and test schedule, once loaded (null before, or from an older station). */
  policy: PolicySummary | null;
  error: string | null;
  refresh(): void;
  /**
   * Act on a call. `clientId` is the form's: a retry after an error reuses it, so an action the
   * station did order but whose answer was lost is not ordered twice, and an encrypted part
   * sealed before is sent as the same bytes.
   */
  act(req: CallRequest, clientId: string): Promise<Call | null>;
}

/** A fresh client id for one call form (a retry of the same form keeps it). */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The signed-in officer as a party to this line's calls. */
export function meOn(summary: LineSummary | null, session: { member: { handle: string; role: Me['role'] } }): Me | null {
  if (!summary?.side) return null;
  const seat = summary.seats.find((s) => s.handle === session.member.handle);
  return { side: summary.side, handle: session.member.handle, role: seat?.role ?? session.member.role };
}

/** An action refused (or not sent): a sentence for the officer. */
export class CallActionError extends Error {
  override readonly name = 'CallActionError';
}

/**
 * A line's calls as its station's book has them. Fetched once, then again whenever `version`
 * changes (the conversation passes the position of the latest 'call' item it received over the
 * stream, so the list follows the line live without polling) and after each action.
 */
export function useCalls(line: string, engine: LineEngine | null, version: number): CallsState {
  const { sessionEnded } = useSession();
  const [calls, setCalls] = useState<Call[] | null>(null);
  const [tests, setTests] = useState<TestRecord[]>([]);
  const [policy, setPolicy] = useState<PolicySummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const res = await api<CallsResponse>('GET', `/api/v1/lines/${encodeURIComponent(line)}/calls`);
      if (mine !== seq.current) return;
      setCalls(res.calls);
      setTests(res.tests ?? []);
      setPolicy(res.policy ?? null);
      setError(null);
    } catch (e) {
      if (isUnauthenticated(e)) return sessionEnded();
      if (mine === seq.current) setError(`The calls of this line could not be loaded: ${describeError(e)}`);
    }
  }, [line, sessionEnded]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` and `tick` are what trigger a reload
  useEffect(() => {
    void load();
  }, [load, version, tick]);

  const act = useCallback(
    async (req: CallRequest, clientId: string): Promise<Call | null> => {
      let body: string | undefined;
      if (req.secret && req.secret.trim() !== '') {
        if (!engine)
          throw new CallActionError('This device’s encryption is not ready yet. Wait a moment and try again; what you wrote is kept.');
        const sealed = await engine.seal({ clientId, text: req.secret.trim(), call: true });
        if ('membership' in sealed) {
          throw new CallActionError(
            sealed.membership === 'waiting'
              ? 'This device is not yet in the line’s encrypted group, so the topics cannot be encrypted. Wait until the banner says “End-to-end encrypted”, then try again; what you wrote is kept.'
              : 'This device was removed from the line’s encrypted group and cannot encrypt the topics. Log out and in again.',
          );
        }
        body = sealed.payload;
      }
      const payload =
        req.action === 'request'
          ? { action: 'request', urgency: req.urgency, ...(req.to ? { to: req.to } : {}), clientId, ...(body ? { body } : {}) }
          : req.action === 'acknowledge_test'
            ? { action: req.action, testId: req.testId, clientId }
            : { action: req.action, callId: req.callId, clientId, ...(body ? { body } : {}) };
      try {
        const res = await api<{ call: Call | null }>('POST', `/api/v1/lines/${encodeURIComponent(line)}/calls`, payload);
        void load();
        return res.call;
      } catch (e) {
        if (isUnauthenticated(e)) sessionEnded();
        // Whatever was refused, the list may be out of date (someone acted first).
        void load();
        if (e instanceof NetworkError) throw new CallActionError(`${e.message}. Nothing is lost: try again when it is back.`);
        if (e instanceof ParleyError) throw new CallActionError(callErrorText(e.code, e.message));
        throw new CallActionError(describeError(e));
      }
    },
    [engine, line, load, sessionEnded],
  );

  return { calls, tests, policy, error, refresh: () => setTick((t) => t + 1), act };
}

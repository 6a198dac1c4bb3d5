import { type CallEvent, checkCallEvent } from './call-event.js';
import { applyCallEvent, type CallActor, type CallBook, emptyCallBook } from './call-state.js';
import { DEFAULT_CALL_POLICY } from './escalation.js';
import type { Refusal } from './errors.js';
import { applyPolicySet, checkPolicySetEvent, type LinePolicies, type PolicySetEvent } from './line-policy.js';
import { applyTestEvent, checkTestEvent, DEFAULT_TEST_POLICY, emptyTestBook, type TestBook, type TestEvent } from './test-messages.js';

// Everything the hub orders in a line's 'call' items: call events, duty-officer test events and
// changes of the line's policy. One fold over them gives a line's calls, tests and deadlines,
// the same at both stations.

export type LineEvent = CallEvent | TestEvent | PolicySetEvent;

export function isTestEvent(ev: LineEvent): ev is TestEvent {
  return ev.action.startsWith('test_');
}

export function isPolicyEvent(ev: LineEvent): ev is PolicySetEvent {
  return ev.action === 'policy_set';
}

export function checkLineEvent(value: unknown): { ok: true; value: LineEvent } | Refusal {
  const action = value && typeof value === 'object' ? (value as { action?: unknown }).action : undefined;
  if (action === 'policy_set') return checkPolicySetEvent(value);
  return typeof action === 'string' && action.startsWith('test_') ? checkTestEvent(value) : checkCallEvent(value);
}

export interface LineBooks {
  readonly calls: CallBook;
  readonly tests: TestBook;
  /** The line's deadlines and test schedule now: the base policy, as changed by the `policy_set` events folded so far. */
  readonly policy: LinePolicies;
}

export const DEFAULT_LINE_POLICIES: LinePolicies = Object.freeze({ calls: DEFAULT_CALL_POLICY, tests: DEFAULT_TEST_POLICY });

/** A line before any event: `base` is the station's policy for lines that set none (the defaults unless given). */
export function emptyLineBooks(base: LinePolicies = DEFAULT_LINE_POLICIES): LineBooks {
  return { calls: emptyCallBook(), tests: emptyTestBook(), policy: base };
}

/**
 * Apply one line event to the books, with the deadlines the books hold (a `policy_set` changes
 * them for everything after it); on refusal the books are unchanged (returned as they were).
 */
export function applyLineEvent(
  books: LineBooks,
  ev: LineEvent,
  ctx: { actor: CallActor; now: number },
): { ok: true; books: LineBooks } | Refusal {
  if (isPolicyEvent(ev)) {
    const r = applyPolicySet(books.policy, ev, ctx);
    return r.ok ? { ok: true, books: { ...books, policy: r.policy } } : r;
  }
  if (isTestEvent(ev)) {
    const r = applyTestEvent(books.tests, ev, { actor: ctx.actor, now: ctx.now, policy: books.policy.tests });
    return r.ok ? { ok: true, books: { ...books, tests: r.tests } } : r;
  }
  const r = applyCallEvent(books.calls, ev, { actor: ctx.actor, now: ctx.now, policy: books.policy.calls });
  return r.ok ? { ok: true, books: { ...books, calls: r.calls } } : r;
}

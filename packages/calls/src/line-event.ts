import { type CallEvent, checkCallEvent } from './call-event.js';
import { applyCallEvent, type CallActor, type CallBook, emptyCallBook } from './call-state.js';
import type { CallPolicy } from './escalation.js';
import type { Refusal } from './errors.js';
import { applyTestEvent, checkTestEvent, emptyTestBook, type TestBook, type TestEvent, type TestPolicy } from './test-messages.js';

// Everything the hub orders in a line's 'call' items: call events and duty-officer test events.
// One fold over them gives a line's calls and tests, the same at both stations.

export type LineEvent = CallEvent | TestEvent;

export function isTestEvent(ev: LineEvent): ev is TestEvent {
  return ev.action.startsWith('test_');
}

export function checkLineEvent(value: unknown): { ok: true; value: LineEvent } | Refusal {
  const action = value && typeof value === 'object' ? (value as { action?: unknown }).action : undefined;
  return typeof action === 'string' && action.startsWith('test_') ? checkTestEvent(value) : checkCallEvent(value);
}

export interface LineBooks {
  readonly calls: CallBook;
  readonly tests: TestBook;
}

export function emptyLineBooks(): LineBooks {
  return { calls: emptyCallBook(), tests: emptyTestBook() };
}

export interface LinePolicies {
  readonly calls: CallPolicy;
  readonly tests: TestPolicy;
}

/** Apply one line event to the books; on refusal the books are unchanged (returned as they were). */
export function applyLineEvent(
  books: LineBooks,
  ev: LineEvent,
  ctx: { actor: CallActor; now: number; policy: LinePolicies },
): { ok: true; books: LineBooks } | Refusal {
  if (isTestEvent(ev)) {
    const r = applyTestEvent(books.tests, ev, { actor: ctx.actor, now: ctx.now, policy: ctx.policy.tests });
    return r.ok ? { ok: true, books: { ...books, tests: r.tests } } : r;
  }
  const r = applyCallEvent(books.calls, ev, { actor: ctx.actor, now: ctx.now, policy: ctx.policy.calls });
  return r.ok ? { ok: true, books: { ...books, calls: r.calls } } : r;
}

import { Timestamp } from '@parley/protocol';
import Type, { type Static } from 'typebox';
import { SeatBy, type URGENCIES } from './call-event.js';
import type { CallActor } from './call-state.js';
import { type Refusal, refuse } from './errors.js';
import { type CallPolicy, CallPolicyConfig, resolveCallPolicy } from './escalation.js';
import { checkWith } from './schema-check.js';
import { resolveTestPolicy, type TestPolicy, TestPolicyConfig } from './test-messages.js';

// A line's own deadlines and test schedule (issue 6: "configurable per line"). A principal or
// administrator of either side sets them with a `policy_set` event, which the hub orders on its
// stream like every call event; both stations fold it into the line's books, so both run and
// check the same deadlines from the same point in the stream on. Before any `policy_set` a line
// has the station's base policy: the built-in defaults, or PARLEY_CALL_POLICY/PARLEY_TEST_POLICY.

const closed = { additionalProperties: false } as const;

export interface LinePolicies {
  readonly calls: CallPolicy;
  readonly tests: TestPolicy;
}

/** What a `policy_set` changes: any of the call policy's and the test policy's settings; the rest stay as they were. */
export const LinePolicyConfig = Type.Object(
  { calls: Type.Optional(CallPolicyConfig), tests: Type.Optional(TestPolicyConfig) },
  { ...closed, minProperties: 1 },
);
export type LinePolicyConfig = Static<typeof LinePolicyConfig>;

export const PolicySetEvent = Type.Object(
  { action: Type.Literal('policy_set'), by: SeatBy, at: Timestamp, policy: LinePolicyConfig },
  closed,
);
export type PolicySetEvent = Static<typeof PolicySetEvent>;

/** Who may change a line's policy: deadlines bind both sides' officers, so a principal or administrator of either side. */
export const POLICY_SETTER_ROLES = ['principal', 'admin'] as const;

// The event's frame (CALL_MALFORMED), apart from its settings (CALL_POLICY_INVALID): a bad
// value is a bad policy, refused with the same code as a bad PARLEY_CALL_POLICY.
const PolicySetFrame = Type.Object(
  { action: Type.Literal('policy_set'), by: SeatBy, at: Timestamp, policy: Type.Record(Type.String(), Type.Unknown()) },
  closed,
);

export function checkPolicySetEvent(value: unknown): { ok: true; value: PolicySetEvent } | Refusal {
  const frame = checkWith(PolicySetFrame, value, 'policy change');
  if (!frame.ok) return frame;
  const settings = checkLinePolicyConfig(frame.value.policy);
  if (!settings.ok) return settings;
  return { ok: true, value: { ...frame.value, policy: settings.value } };
}

/** A policy change's settings checked on their own: the schema (CALL_POLICY_INVALID), nothing empty. */
export function checkLinePolicyConfig(value: unknown): { ok: true; value: LinePolicyConfig } | Refusal {
  const checked = checkWith(LinePolicyConfig, value, 'line policy', 'CALL_POLICY_INVALID');
  if (!checked.ok) return checked;
  const c = checked.value;
  const empty = (o: object | undefined) => o === undefined || Object.keys(o).length === 0;
  if (empty(c.calls) && empty(c.tests)) return refuse('CALL_POLICY_INVALID', 'a policy change must change something');
  return checked;
}

/**
 * The line's policies after a change: `current` with the settings given replaced (a call
 * deadline per urgency; the others as they were). Refused, with nothing changed, when the
 * result contradicts itself (a test deadline not shorter than its interval, deputies alerted
 * after the request expires).
 */
export function applyPolicyConfig(current: LinePolicies, value: unknown): { ok: true; policy: LinePolicies } | Refusal {
  const checked = checkLinePolicyConfig(value);
  if (!checked.ok) return checked;
  const c = checked.value;
  const calls = resolveCallPolicy(c.calls ?? {}, current.calls);
  if (!calls.ok) return calls;
  const tests = resolveTestPolicy(c.tests ?? {}, current.tests);
  if (!tests.ok) return tests;
  return { ok: true, policy: { calls: calls.policy, tests: tests.policy } };
}

/** Apply a `policy_set` by `actor` to the line's policies. */
export function applyPolicySet(
  current: LinePolicies,
  event: PolicySetEvent,
  ctx: { actor: CallActor; now: number },
): { ok: true; policy: LinePolicies } | Refusal {
  const shape = checkPolicySetEvent(event);
  if (!shape.ok) return shape;
  const { actor } = ctx;
  if (actor.kind !== 'seat') return refuse('CALL_ACTOR_MISMATCH', "a line's policy is set by a person, not a station's scheduler");
  if (!actor.seated) return refuse('NOT_SEATED', `${actor.handle} holds no seat on this line`);
  if (actor.side !== event.by.side || actor.handle !== event.by.handle) {
    return refuse('CALL_ACTOR_MISMATCH', `the event says it is by ${event.by.handle} (${event.by.side}) but comes from ${actor.handle}`);
  }
  if (!(POLICY_SETTER_ROLES as readonly string[]).includes(actor.role)) {
    return refuse(
      'CALL_POLICY_FORBIDDEN',
      `only a principal or an administrator sets the line's deadlines; ${actor.handle} is ${actor.role}`,
    );
  }
  if (event.at > ctx.now + current.calls.clockSkewMs) {
    return refuse('CALL_BAD_TIME', `the event is dated ${event.at - ctx.now} ms in the future`);
  }
  return applyPolicyConfig(current, event.policy);
}

/** The policy as people read and write it: acknowledgement deadlines per urgency, the test interval and deadline, in ms. */
export interface PolicySummary {
  readonly ackDeadlineMs: Readonly<Record<(typeof URGENCIES)[number], number>>;
  readonly deputyAfterMs: Readonly<Record<(typeof URGENCIES)[number], number>>;
  readonly requestTtlMs: number;
  readonly testIntervalMs: number;
  readonly testAckDeadlineMs: number;
  readonly testSenders: readonly string[];
}

export function summarizePolicy(p: LinePolicies): PolicySummary {
  return {
    ackDeadlineMs: { ...p.calls.ackDeadlineMs },
    deputyAfterMs: { ...p.calls.deputyAfterMs },
    requestTtlMs: p.calls.requestTtlMs,
    testIntervalMs: p.tests.intervalMs,
    testAckDeadlineMs: p.tests.ackDeadlineMs,
    testSenders: [...p.tests.senders],
  };
}

/** A duration for people: 90000 → "1m30s", 3600000 → "1h", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/**
 * A duration as people type it: "90s", "5m", "1h30m", "1.5h", "2d", or plain milliseconds
 * ("1500ms"). Undefined when it is not one: the caller refuses it.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (units[m[2] as string] as number);
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

import Type, { type Static } from 'typebox';
import { type CallEvent, type StationBy, URGENCIES, type Urgency } from './call-event.js';
import type { Call, CallBook } from './call-state.js';
import { type Refusal, refuse } from './errors.js';
import { checkWith } from './schema-check.js';

// When a request that nobody answers alerts whom, and when it lapses. Pure: the hub's scheduler
// asks `nextWakeAt` when to wake, then emits what `dueActions` returns, stamped by the hub. The
// acceptor station checks every such event against the same policy (CALL_NOT_DUE), so a hub
// cannot mark a request unanswered early.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface CallPolicy {
  /** After the request, the far side has this long to acknowledge before its duty officers are alerted and the request is marked unanswered. */
  readonly ackDeadlineMs: Readonly<Record<Urgency, number>>;
  /** After the acknowledgement deadline, this much longer before the far side's deputies are alerted. */
  readonly deputyAfterMs: Readonly<Record<Urgency, number>>;
  /**
   * A request not accepted or declined this long after it was made expires. Counted from the
   * request, not from the proposed time: that time is in the encrypted body and the stations
   * cannot see it. A call proposed for later is accepted with `scheduledFor` well before this.
   */
  readonly requestTtlMs: number;
  /** How far in the future an event's `at` may be, for clocks of two stations that drift. */
  readonly clockSkewMs: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = Object.freeze({
  ackDeadlineMs: Object.freeze({ flash: 1 * MINUTE, immediate: 5 * MINUTE, priority: 30 * MINUTE, routine: 4 * HOUR }),
  deputyAfterMs: Object.freeze({ flash: 1 * MINUTE, immediate: 5 * MINUTE, priority: 30 * MINUTE, routine: 4 * HOUR }),
  requestTtlMs: 24 * HOUR,
  clockSkewMs: 5 * MINUTE,
});

const closed = { additionalProperties: false } as const;
const Duration = Type.Integer({ minimum: 1000, maximum: 30 * 24 * HOUR, description: 'milliseconds' });
const PerUrgency = Type.Object(
  {
    routine: Type.Optional(Duration),
    priority: Type.Optional(Duration),
    immediate: Type.Optional(Duration),
    flash: Type.Optional(Duration),
  },
  closed,
);
/** A line's overrides of the call policy, as the station keeps them in the line's settings. */
export const CallPolicyConfig = Type.Object(
  {
    ackDeadlineMs: Type.Optional(PerUrgency),
    deputyAfterMs: Type.Optional(PerUrgency),
    requestTtlMs: Type.Optional(Duration),
    clockSkewMs: Type.Optional(Type.Integer({ minimum: 0, maximum: HOUR })),
  },
  closed,
);
export type CallPolicyConfig = Static<typeof CallPolicyConfig>;

/**
 * `base` (the defaults unless given) with a line's overrides. Refused (CALL_POLICY_INVALID) when a step would come
 * after the request has expired: an alert nobody can act on is worse than none.
 */
export function resolveCallPolicy(
  config: unknown = {},
  base: CallPolicy = DEFAULT_CALL_POLICY,
): { ok: true; policy: CallPolicy } | Refusal {
  const checked = checkWith(CallPolicyConfig, config, 'call policy', 'CALL_POLICY_INVALID');
  if (!checked.ok) return checked;
  const c = checked.value;
  const policy: CallPolicy = {
    ackDeadlineMs: { ...base.ackDeadlineMs, ...c.ackDeadlineMs },
    deputyAfterMs: { ...base.deputyAfterMs, ...c.deputyAfterMs },
    requestTtlMs: c.requestTtlMs ?? base.requestTtlMs,
    clockSkewMs: c.clockSkewMs ?? base.clockSkewMs,
  };
  for (const u of URGENCIES) {
    const deputyAt = policy.ackDeadlineMs[u] + policy.deputyAfterMs[u];
    if (deputyAt >= policy.requestTtlMs) {
      return refuse(
        'CALL_POLICY_INVALID',
        `${u}: deputies would be alerted ${deputyAt} ms after the request, not before it expires at ${policy.requestTtlMs} ms`,
      );
    }
  }
  return { ok: true, policy };
}

export interface CallDeadlines {
  /** Acknowledgement deadline: duty officers alerted, request marked unanswered. */
  ackBy: number;
  /** Deputies alerted. */
  deputyBy: number;
  /** Not accepted or declined by then: expired. */
  expiresAt: number;
}

export function callDeadlines(call: Call, policy: CallPolicy): CallDeadlines {
  const requestedAt = call.reached.requested.at;
  const ackBy = requestedAt + policy.ackDeadlineMs[call.urgency];
  return { ackBy, deputyBy: ackBy + policy.deputyAfterMs[call.urgency], expiresAt: requestedAt + policy.requestTtlMs };
}

/** The hub's scheduler signs its events as the inviting station. */
export const HUB: StationBy = Object.freeze({ side: 'inviter', station: true });

/**
 * The events the hub's scheduler must emit now, in this order. Idempotent: a step already
 * applied to `calls` is not returned again, so the scheduler may call this as often as it likes.
 * A request whose expiry has come is marked unanswered (if it was) and expired, without
 * alerting anyone any more: an alert about a request that has just lapsed helps nobody.
 */
export function dueActions(calls: CallBook, policy: CallPolicy, now: number): CallEvent[] {
  const out: CallEvent[] = [];
  for (const call of calls.calls.values()) {
    if (call.state !== 'requested' && call.state !== 'acknowledged') continue;
    // A clock that stepped back behind the call's last event waits until it catches up:
    // an event dated earlier would be refused (CALL_BAD_TIME), one dated later than `now`
    // might be refused by the acceptor as from the future.
    if (call.lastAt > now) continue;
    const d = callDeadlines(call, policy);
    const base = { callId: call.callId, talkId: call.talkId, by: HUB, at: now };
    const unanswered = call.state === 'requested' && call.unansweredAt === null;
    if (now >= d.expiresAt) {
      if (unanswered) out.push({ ...base, action: 'unanswered' });
      out.push({ ...base, action: 'expire' });
      continue;
    }
    if (call.state !== 'requested' || now < d.ackBy) continue;
    if (call.escalated.duty_officer === undefined) out.push({ ...base, action: 'escalate', level: 'duty_officer' });
    if (unanswered) out.push({ ...base, action: 'unanswered' });
    if (now >= d.deputyBy && call.escalated.deputy === undefined) out.push({ ...base, action: 'escalate', level: 'deputy' });
  }
  return out;
}

/**
 * When the scheduler must next call `dueActions`: the earliest deadline with a step still to
 * take, `now` if one is already due, or null when no request is waiting for an answer.
 */
export function nextWakeAt(calls: CallBook, policy: CallPolicy, now: number): number | null {
  let next: number | null = null;
  const consider = (t: number) => {
    if (next === null || t < next) next = t;
  };
  for (const call of calls.calls.values()) {
    if (call.state !== 'requested' && call.state !== 'acknowledged') continue;
    const d = callDeadlines(call, policy);
    const at = (deadline: number) => consider(Math.max(deadline, call.lastAt));
    at(d.expiresAt);
    if (call.state === 'requested') {
      if (call.escalated.duty_officer === undefined || call.unansweredAt === null) at(d.ackBy);
      if (call.escalated.deputy === undefined) at(d.deputyBy);
    }
  }
  return next === null ? null : Math.max(next, now);
}

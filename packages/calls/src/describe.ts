import type { CallEvent } from './call-event.js';
import { isPolicyEvent, isTestEvent, type LineEvent } from './line-event.js';
import { formatDuration, type PolicySetEvent } from './line-policy.js';

/** Short, readable form of a call id for people: its first 6 characters. */
export function shortCallId(callId: string): string {
  return callId.slice(0, 6);
}

/**
 * One line of text for a call event, as officers read it in a timeline: who did what to which
 * call. `station` is the station of the side that acted, `farStation` the other one.
 */
export function describeCallEvent(ev: LineEvent, station: string, farStation: string, calledStation?: string): string {
  if (isPolicyEvent(ev)) return `${station}/${ev.by.handle} set the line's deadlines: ${describePolicyChange(ev.policy)}`;
  if (isTestEvent(ev)) {
    if (ev.action === 'test_sent') return `${station} sent test message ${ev.testId}: ${farStation}'s duty officer, please acknowledge`;
    if (ev.action === 'test_acknowledged') return `${station}/${ev.by.handle} acknowledged test message ${ev.testId}`;
    return `test message ${ev.testId} was not acknowledged in time: the line is UNANSWERED`;
  }
  return describeCall(ev, station, farStation, calledStation);
}

function describeCall(ev: CallEvent, station: string, farStation: string, calledStation: string | undefined): string {
  const call = `call ${shortCallId(ev.callId)}`;
  const who = 'handle' in ev.by ? `${station}/${ev.by.handle}` : `${station}'s scheduler`;
  switch (ev.action) {
    case 'request':
      return `${who} requests a ${ev.urgency} ${call}${ev.to ? ` with ${farStation}/${ev.to}` : ` with ${farStation}`}`;
    case 'acknowledge':
      return `${who} acknowledged ${call}`;
    case 'accept':
      return `${who} accepted ${call}${ev.scheduledFor !== undefined ? ' for an agreed time' : ' now'}`;
    case 'decline':
      return `${who} declined ${call}`;
    case 'cancel':
      return `${who} cancelled ${call}`;
    case 'expire':
      return `${call} expired unanswered`;
    case 'unanswered':
      return `${call} is UNANSWERED: not acknowledged in time`;
    case 'escalate':
      // The scheduler acts for the hub; the officers alerted are the called side's, which the
      // event alone does not say (a reader that holds the call's request can name the station).
      return `${call} not acknowledged: ${ev.level === 'deputy' ? 'deputies' : 'duty officers'} of ${calledStation ?? 'the called side'} alerted`;
    case 'ring':
      return `${who} is ringing ${call}`;
    case 'connect':
      return `${who} connected ${call}`;
    case 'end':
      return `${who} ended ${call}`;
    case 'join':
      return `${who} joined ${call}`;
    case 'leave':
      return `${who} left ${call}`;
  }
}

/** What a policy change sets, for people: "flash 30s, immediate 2m; test every 30m, answer within 5m". */
export function describePolicyChange(policy: PolicySetEvent['policy']): string {
  const parts: string[] = [];
  const calls = policy.calls ?? {};
  for (const [u, ms] of Object.entries(calls.ackDeadlineMs ?? {})) parts.push(`${u} ${formatDuration(ms)}`);
  for (const [u, ms] of Object.entries(calls.deputyAfterMs ?? {})) parts.push(`${u} deputies after ${formatDuration(ms)} more`);
  if (calls.requestTtlMs !== undefined) parts.push(`requests expire after ${formatDuration(calls.requestTtlMs)}`);
  if (calls.clockSkewMs !== undefined) parts.push(`clock skew ${formatDuration(calls.clockSkewMs)}`);
  const tests = policy.tests ?? {};
  if (tests.intervalMs !== undefined) parts.push(`test every ${formatDuration(tests.intervalMs)}`);
  if (tests.ackDeadlineMs !== undefined) parts.push(`tests answered within ${formatDuration(tests.ackDeadlineMs)}`);
  if (tests.senders !== undefined)
    parts.push(tests.senders.length === 0 ? 'no test messages' : `tests sent by ${tests.senders.join(' and ')}`);
  if (tests.clockSkewMs !== undefined) parts.push(`test clock skew ${formatDuration(tests.clockSkewMs)}`);
  return parts.join(', ');
}

import { randomBytes } from 'node:crypto';
import {
  type Call,
  formatDuration,
  type LineStats,
  parseDuration,
  type PolicySummary,
  shortCallId,
  type Talk,
  type TestRecord,
} from '@parley/calls';
import { type CallActionRequest, type CallMemberAction, ParleyError } from '@parley/protocol';
import type { Command } from 'commander';
import { apiCall } from '../api-client.js';
import { sealCallBody, syncLine } from '../e2ee/line.js';
import { withLine } from '../e2ee/session.js';
import { ago, printJson, printTable } from '../output.js';
import { loadProfile } from '../profile.js';

const URGENCIES = ['routine', 'priority', 'immediate', 'flash'] as const;

interface CallAnswer {
  event: { callId?: string; testId?: string; action: string; at: number };
  seq: number;
  duplicate: boolean;
  call: Call | null;
}

/** Resolve a call id given in full or by the short form `call list` shows. */
async function fullCallId(station: string, token: string, line: string, given: string): Promise<string> {
  if (given.length >= 16) return given;
  const { calls } = await apiCall<{ calls: Call[] }>(station, 'GET', `api/v1/lines/${encodeURIComponent(line)}/calls`, { token });
  const found = calls.filter((c) => c.callId.startsWith(given));
  if (found.length === 1) return (found[0] as Call).callId;
  throw new ParleyError(
    'CALL_NOT_FOUND',
    found.length === 0 ? `no call ${given} on line ${line}` : `${given} names ${found.length} calls`,
    'give more of the call id (see `parley call list`)',
  );
}

async function act(
  profileDir: string,
  line: string,
  action: CallMemberAction,
  fields: Omit<CallActionRequest, 'action' | 'clientId' | 'body'>,
  secretText: string | undefined,
): Promise<CallAnswer> {
  const p = loadProfile(profileDir);
  const clientId = randomBytes(12).toString('base64url');
  const callId = fields.callId ? await fullCallId(p.station, p.token, line, fields.callId) : undefined;
  let body: string | undefined;
  if (secretText !== undefined && secretText.length > 0) {
    // Topics and reasons travel end to end encrypted beside the public call event.
    body = await withLine(profileDir, p, line, async (s) => {
      await syncLine(s);
      return sealCallBody(s, secretText, clientId);
    });
  }
  const req: CallActionRequest = { ...fields, ...(callId ? { callId } : {}), action, clientId, ...(body ? { body } : {}) };
  return apiCall<CallAnswer>(p.station, 'POST', `api/v1/lines/${encodeURIComponent(line)}/calls`, { token: p.token, body: req });
}

function reached(c: Call): string {
  return Object.entries(c.reached)
    .filter(([, v]) => v !== undefined)
    .sort(([, a], [, b]) => (a as { at: number }).at - (b as { at: number }).at)
    .map(([state, v]) => {
      const by = (v as { by: { side: string; handle?: string } }).by;
      return `${state} ${new Date((v as { at: number }).at).toISOString().slice(11, 19)} (${by.side}${by.handle ? `/${by.handle}` : ''})`;
    })
    .join(', ');
}

function print(res: CallAnswer, json: boolean | undefined, what: string): void {
  if (json) {
    printJson(res);
    return;
  }
  process.stdout.write(
    `${what} ${res.event.callId ? `call ${res.event.callId}` : `test message ${res.event.testId}`}${res.duplicate ? ' (already done)' : ''}: ${res.call?.state ?? res.event.action}.\n`,
  );
}

export function registerCallCommands(program: Command): void {
  const call = program.command('call').description('request and answer calls on a line (for scripting; officers use the web app)');
  const common = (c: Command) =>
    c.requiredOption('--profile <dir>', 'profile directory').requiredOption('--line <name>', 'line name').option('--json', 'print JSON');

  common(call.command('request'))
    .description('request a call; prints its id')
    .requiredOption('--urgency <level>', `one of ${URGENCIES.join(', ')}`)
    .option('--to <handle>', 'the counterpart seat wanted on the far side')
    .option('--talk <id>', 'continue these talks (a series of calls on one topic)')
    .option('--topic <text...>', 'topics (end-to-end encrypted)')
    .action(async (o: { profile: string; line: string; urgency: string; to?: string; talk?: string; topic?: string[]; json?: boolean }) => {
      if (!(URGENCIES as readonly string[]).includes(o.urgency)) {
        throw new ParleyError('VALIDATION_FAILED', `--urgency must be one of ${URGENCIES.join(', ')}`);
      }
      const res = await act(
        o.profile,
        o.line,
        'request',
        { urgency: o.urgency as (typeof URGENCIES)[number], ...(o.to ? { to: o.to } : {}), ...(o.talk ? { talkId: o.talk } : {}) },
        o.topic?.length ? `Topics: ${o.topic.join('; ')}` : undefined,
      );
      if (o.json) return printJson(res);
      process.stdout.write(`Requested ${o.urgency} call ${res.event.callId} on ${o.line}.\n${res.event.callId}\n`);
    });

  for (const [name, action, what] of [
    ['ack', 'acknowledge', 'Acknowledged'],
    ['cancel', 'cancel', 'Cancelled'],
    ['ring', 'ring', 'Ringing'],
    ['connect', 'connect', 'Connected'],
    ['end', 'end', 'Ended'],
    ['join', 'join', 'Joined'],
    ['leave', 'leave', 'Left'],
  ] as const) {
    common(call.command(name))
      .description(`${action} a call`)
      .requiredOption('--call <id>', 'the call id (or its first characters)')
      .action(async (o: { profile: string; line: string; call: string; json?: boolean }) =>
        print(await act(o.profile, o.line, action, { callId: o.call }, undefined), o.json, what),
      );
  }

  common(call.command('accept'))
    .description('accept a call, now or for a time')
    .requiredOption('--call <id>', 'the call id (or its first characters)')
    .option('--at <time>', 'the time agreed (ISO 8601)')
    .action(async (o: { profile: string; line: string; call: string; at?: string; json?: boolean }) => {
      const at = o.at === undefined ? undefined : Date.parse(o.at);
      if (at !== undefined && !Number.isFinite(at)) throw new ParleyError('VALIDATION_FAILED', `--at ${o.at} is not a time`);
      print(
        await act(o.profile, o.line, 'accept', { callId: o.call, ...(at !== undefined ? { scheduledFor: at } : {}) }, undefined),
        o.json,
        'Accepted',
      );
    });

  common(call.command('decline'))
    .description('decline a call, with a reason (end-to-end encrypted)')
    .requiredOption('--call <id>', 'the call id (or its first characters)')
    .option('--reason <text>', 'why')
    .action(async (o: { profile: string; line: string; call: string; reason?: string; json?: boolean }) =>
      print(
        await act(o.profile, o.line, 'decline', { callId: o.call }, o.reason ? `Declined: ${o.reason}` : undefined),
        o.json,
        'Declined',
      ),
    );

  common(call.command('test-ack'))
    .description('acknowledge a duty-officer test message from the far side (duty officers only)')
    .requiredOption('--test <id>', 'the test message id (see `parley call list`)')
    .action(async (o: { profile: string; line: string; test: string; json?: boolean }) =>
      print(await act(o.profile, o.line, 'acknowledge_test', { testId: o.test }, undefined), o.json, 'Acknowledged'),
    );

  common(call.command('policy'))
    .description(
      "show the line's acknowledgement deadlines and test schedule, or change them (a principal or administrator of either side; both stations apply the change from the same point on)",
    )
    .option('--flash <duration>', 'acknowledge a flash request within this long (e.g. 30s, 1m)')
    .option('--immediate <duration>', 'acknowledge an immediate request within this long')
    .option('--priority <duration>', 'acknowledge a priority request within this long')
    .option('--routine <duration>', 'acknowledge a routine request within this long')
    .option('--test-every <duration>', 'send a duty-officer test message this often (e.g. 1h)')
    .option('--test-deadline <duration>', "the far side's duty officer acknowledges a test within this long")
    .action(async (o: PolicyOptions) => {
      const p = loadProfile(o.profile);
      const path = `api/v1/lines/${encodeURIComponent(o.line)}/calls`;
      const policy = policyChange(o);
      if (policy === undefined) {
        const res = await apiCall<{ policy: PolicySummary }>(p.station, 'GET', path, { token: p.token });
        if (o.json) return printJson(res.policy);
        process.stdout.write(policyText(o.line, res.policy));
        return;
      }
      const req: CallActionRequest = { action: 'set_policy', policy, clientId: randomBytes(12).toString('base64url') };
      const res = await apiCall<{ policy: PolicySummary; seq: number }>(p.station, 'POST', path, { token: p.token, body: req });
      if (o.json) return printJson(res);
      process.stdout.write(`Set the deadlines of ${o.line}; both stations apply them from now on.\n${policyText(o.line, res.policy)}`);
    });

  common(call.command('list'))
    .description('the calls and talks on a line, with when each state was reached and by whom')
    .action(async (o: { profile: string; line: string; json?: boolean }) => {
      const p = loadProfile(o.profile);
      const res = await apiCall<{ calls: Call[]; talks: Talk[]; tests: TestRecord[]; stats: LineStats; policy?: PolicySummary }>(
        p.station,
        'GET',
        `api/v1/lines/${encodeURIComponent(o.line)}/calls`,
        {
          token: p.token,
        },
      );
      if (o.json) return printJson(res);
      const st = res.stats;
      process.stdout.write(
        `${o.line}: ${st.unanswered ? `UNANSWERED since ${new Date(st.unansweredSince ?? 0).toISOString()}` : 'answered'}; ` +
          `availability ${st.availability === null ? '-' : `${Math.round(st.availability * 100)} %`} over 7 days; ` +
          `tests acknowledged in time ${st.tests.inTime}/${st.tests.due}, p50 ${st.tests.ackP50Ms === null ? '-' : `${Math.round(st.tests.ackP50Ms / 1000)} s`}; ` +
          `unanswered ${st.unansweredCount}\n`,
      );
      if (res.policy) process.stdout.write(policyText(o.line, res.policy));
      const open = res.tests.filter((t) => !t.acknowledged && t.unansweredAt === null);
      for (const t of open)
        process.stdout.write(`Test message ${t.testId} from the ${t.from} side awaits acknowledgement (sent ${ago(t.sentAt)}).\n`);
      if (res.calls.length === 0) {
        process.stdout.write(`No calls on ${o.line} yet. Request one with \`parley call request --urgency routine\`.\n`);
        return;
      }
      printTable([
        ['CALL', 'URGENCY', 'STATE', 'REQUESTED BY', 'TO', 'MARKS', 'LAST', 'HISTORY'],
        ...res.calls.map((c) => [
          shortCallId(c.callId),
          c.urgency,
          c.state,
          `${c.requester.side}/${c.requester.handle}`,
          c.to ?? '-',
          [c.unansweredAt !== null ? 'UNANSWERED' : '', ...Object.keys(c.escalated).map((l) => `alerted:${l}`)].filter(Boolean).join(' ') ||
            '-',
          ago(c.lastAt),
          reached(c),
        ]),
      ]);
    });
}

interface PolicyOptions {
  profile: string;
  line: string;
  json?: boolean;
  flash?: string;
  immediate?: string;
  priority?: string;
  routine?: string;
  testEvery?: string;
  testDeadline?: string;
}

/** The settings the options change, in the call core's terms; undefined when none is given (show the policy). */
function policyChange(o: PolicyOptions): Record<string, unknown> | undefined {
  const ms = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const v = parseDuration(text);
    if (v === undefined) {
      throw new ParleyError('CALL_POLICY_INVALID', `--${flag} ${text} is not a duration`, 'write it like 30s, 5m, 1h30m or 1500ms');
    }
    return v;
  };
  const ack: Record<string, number> = {};
  for (const u of URGENCIES) {
    const v = ms(u, o[u]);
    if (v !== undefined) ack[u] = v;
  }
  const tests: Record<string, number> = {};
  const every = ms('test-every', o.testEvery);
  if (every !== undefined) tests.intervalMs = every;
  const deadline = ms('test-deadline', o.testDeadline);
  if (deadline !== undefined) tests.ackDeadlineMs = deadline;
  const change: Record<string, unknown> = {};
  if (Object.keys(ack).length > 0) change.calls = { ackDeadlineMs: ack };
  if (Object.keys(tests).length > 0) change.tests = tests;
  return Object.keys(change).length > 0 ? change : undefined;
}

function policyText(line: string, p: PolicySummary): string {
  const ack = URGENCIES.slice()
    .reverse()
    .map((u) => `${u} ${formatDuration(p.ackDeadlineMs[u])}`)
    .join(', ');
  const tests =
    p.testSenders.length === 0
      ? 'no test messages'
      : `a test message every ${formatDuration(p.testIntervalMs)}, acknowledged within ${formatDuration(p.testAckDeadlineMs)}`;
  return `${line}: acknowledge ${ack}; requests expire after ${formatDuration(p.requestTtlMs)}; ${tests}.\n`;
}

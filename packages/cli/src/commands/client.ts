import { randomBytes } from 'node:crypto';
import {
  type Item,
  type ItemsPage,
  type LineSummary,
  ParleyError,
  type SendResponse,
  type ServerFrame,
  type SessionResponse,
} from '@parley/protocol';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { apiCall } from '../api-client.js';
import { ago, printJson, printTable } from '../output.js';
import { readPassword } from '../password-input.js';
import { loadProfile, saveProfile } from '../profile.js';

function storeSession(profileDir: string, station: string, handle: string, s: SessionResponse): void {
  if (!s.token) throw new ParleyError('INTERNAL', 'the station did not issue a bearer token');
  saveProfile(profileDir, {
    version: 1,
    station,
    stationName: s.station.name,
    stationFingerprint: s.station.fingerprint,
    handle,
    deviceId: s.deviceId,
    token: s.token,
    expiresAt: s.expiresAt,
  });
}

// Until end-to-end encryption lands, a message payload is its UTF-8 text. The station treats
// it as opaque bytes either way.
function encodeText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
function decodeText(payload: string): string {
  return Buffer.from(payload, 'base64url').toString('utf8');
}

function printItem(item: Item, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...item, text: decodeText(item.payload) })}\n`);
    return;
  }
  const at = new Date(item.sentAt).toISOString().replace('T', ' ').slice(0, 19);
  process.stdout.write(`#${item.pos} ${at} ${item.sender.handle}@${item.sender.station}: ${decodeText(item.payload)}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerClientCommands(program: Command): void {
  program
    .command('enroll')
    .description('enroll this device with the one-time secret from your administrator and set your password')
    .requiredOption('--station <url>', 'station URL')
    .requiredOption('--handle <handle>', 'your handle')
    .requiredOption('--secret <secret>', 'the enrollment secret')
    .requiredOption('--profile <dir>', 'directory to keep this device\u2019s profile in')
    .option('--password-file <file>', 'read the new password from a file instead of prompting')
    .action(async (o: { station: string; handle: string; secret: string; profile: string; passwordFile?: string }) => {
      const password = await readPassword(o.passwordFile, 'New password (10+ characters): ');
      const s = await apiCall<SessionResponse>(o.station, 'POST', 'api/v1/enroll', {
        body: { handle: o.handle, secret: o.secret, password, device: 'cli', session: 'bearer' },
      });
      storeSession(o.profile, o.station, o.handle, s);
      process.stdout.write(`Enrolled ${s.member.handle} at station ${s.station.name} (${s.station.fingerprint}).\n`);
    });

  program
    .command('login')
    .description('log in and keep a session in a profile directory')
    .requiredOption('--station <url>', 'station URL')
    .requiredOption('--handle <handle>', 'your handle')
    .requiredOption('--profile <dir>', 'directory to keep this device\u2019s profile in')
    .option('--password-file <file>', 'read the password from a file instead of prompting')
    .action(async (o: { station: string; handle: string; profile: string; passwordFile?: string }) => {
      const password = await readPassword(o.passwordFile);
      const s = await apiCall<SessionResponse>(o.station, 'POST', 'api/v1/login', {
        body: { handle: o.handle, password, device: 'cli', session: 'bearer' },
      });
      storeSession(o.profile, o.station, o.handle, s);
      process.stdout.write(`Logged in as ${s.member.handle} at station ${s.station.name} (${s.station.fingerprint}).\n`);
    });

  program
    .command('lines')
    .description('the lines you hold a seat on')
    .requiredOption('--profile <dir>', 'profile directory')
    .option('--json', 'print as JSON')
    .action(async (o: { profile: string; json?: boolean }) => {
      const p = loadProfile(o.profile);
      const { lines } = await apiCall<{ lines: LineSummary[] }>(p.station, 'GET', 'api/v1/lines', { token: p.token });
      if (o.json) return printJson(lines);
      if (lines.length === 0) return void process.stdout.write('You hold no seat on any line yet.\n');
      printTable([['LINE', 'PEER', 'HEALTH', 'LAST CONTACT'], ...lines.map((l) => [l.name, l.peer.name, l.health, ago(l.lastContactAt)])]);
    });

  program
    .command('send')
    .description('send a message on a line; returns once your station has stored it durably')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .option('--json', 'print the stored item as JSON')
    .argument('<text>', 'message text')
    .action(async (text: string, o: { profile: string; line: string; json?: boolean }) => {
      const p = loadProfile(o.profile);
      if (text.length === 0) throw new ParleyError('VALIDATION_FAILED', 'the message is empty');
      // One client id for every attempt: if an answer is lost and we retry, the station
      // returns the stored item instead of storing a second copy.
      const clientId = randomBytes(12).toString('base64url');
      let res: SendResponse | undefined;
      for (let attempt = 0; ; attempt++) {
        try {
          res = await apiCall<SendResponse>(p.station, 'POST', `api/v1/lines/${encodeURIComponent(o.line)}/items`, {
            token: p.token,
            body: { payload: encodeText(text), clientId },
          });
          break;
        } catch (e) {
          const retriable = e instanceof ParleyError && (e.code === 'PEER_UNREACHABLE' || e.code === 'UNAVAILABLE');
          if (!retriable || attempt >= 4) throw e;
          await sleep(200 * 2 ** attempt);
        }
      }
      if (o.json) return printJson(res.item);
      process.stdout.write(`Accepted #${res.item.pos} (seq ${res.item.seq}) on ${o.line}.\n`);
    });

  program
    .command('read')
    .description('read a line\u2019s messages; --follow keeps printing new ones')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .option('--after <pos>', 'start after this position', '0')
    .option('--follow', 'keep the connection open and print new messages as they arrive')
    .option('--json', 'one JSON object per line')
    .action(async (o: { profile: string; line: string; after: string; follow?: boolean; json?: boolean }) => {
      const p = loadProfile(o.profile);
      let cursor = Number(o.after);
      if (!Number.isInteger(cursor) || cursor < 0) throw new ParleyError('VALIDATION_FAILED', '--after must be a whole number');
      const path = `api/v1/lines/${encodeURIComponent(o.line)}`;
      if (!o.follow) {
        for (;;) {
          const page = await apiCall<ItemsPage>(p.station, 'GET', `${path}/items?after=${cursor}&limit=1000`, { token: p.token });
          for (const item of page.items) printItem(item, !!o.json);
          if (page.items.length === 0) break;
          cursor = page.nextCursor;
        }
        return;
      }
      // Follow: resume from the last printed position after every disconnect.
      for (;;) {
        await new Promise<void>((resolve) => {
          const url = new URL(`${path}/stream?after=${cursor}`, p.station.endsWith('/') ? p.station : `${p.station}/`);
          url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
          const ws = new WebSocket(url, { headers: { authorization: `Bearer ${p.token}` } });
          ws.on('message', (raw) => {
            const frame = JSON.parse(String(raw)) as ServerFrame;
            if (frame.type === 'item' && frame.item.pos > cursor) {
              printItem(frame.item, !!o.json);
              cursor = frame.item.pos;
            }
          });
          ws.on('unexpected-response', (_req, res) => {
            if (res.statusCode === 401 || res.statusCode === 404) {
              process.stderr.write(`parley: the station refused the stream (${res.statusCode}) — log in again or check --line\n`);
              process.exit(1);
            }
          });
          ws.on('close', () => resolve());
          ws.on('error', () => resolve());
        });
        await sleep(500);
      }
    });
}

import { signatureKeyFingerprint } from '@parley/e2ee';
import { type LineSummary, ParleyError, type SendResponse, type SessionResponse } from '@parley/protocol';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { apiCall } from '../api-client.js';
import { validLang } from '../e2ee/content.js';
import { type ShownRecord, toJson, toText, underOriginals, withArchive } from '../e2ee/format.js';
import {
  compareRosters,
  type LineSession,
  requireMember,
  selfUpdateDue,
  selfUpdateWithRetry,
  sendReceipt,
  sendText,
  syncLine,
} from '../e2ee/line.js';
import { withDevice, withLine } from '../e2ee/session.js';
import type { ArchiveEntry } from '../e2ee/station-api.js';
import { DeviceStore } from '../e2ee/store.js';
import { ago, printJson, printTable } from '../output.js';
import { readPassword } from '../password-input.js';
import { loadProfile, type Profile, saveProfile } from '../profile.js';

function storeSession(profileDir: string, station: string, handle: string, s: SessionResponse): Profile {
  if (!s.token) throw new ParleyError('INTERNAL', 'the station did not issue a bearer token');
  const profile: Profile = {
    version: 1,
    station,
    stationName: s.station.name,
    stationFingerprint: s.station.fingerprint,
    handle,
    deviceId: s.deviceId,
    token: s.token,
    expiresAt: s.expiresAt,
  };
  saveProfile(profileDir, profile);
  return profile;
}

/**
 * After enroll or login: this session's MLS device, vouched for by the station, with key
 * packages uploaded so the hub can add it to the member's lines. A failure here does not undo
 * the login; the next send or read tries again.
 */
async function setUpDevice(profileDir: string, p: Profile): Promise<void> {
  try {
    const { fingerprint, keyPackages } = await withDevice(
      profileDir,
      p,
      async (ctx) => ({ fingerprint: signatureKeyFingerprint(ctx.device.signaturePublicKey), keyPackages: ctx.e2ee.keyPackages.length }),
      { forceKeyPackageCheck: true },
    );
    process.stdout.write(`This device (${p.deviceId}) has end-to-end keys ${fingerprint}; ${keyPackages} key packages ready.\n`);
  } catch (e) {
    const line = e instanceof ParleyError ? e.toLine() : (e as Error).message;
    process.stderr.write(`parley: end-to-end encryption is not set up yet for this device: ${line}\n`);
    process.stderr.write('parley: the next send or read will try again\n');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ReadOptions {
  profile: string;
  line: string;
  after: string;
  follow?: boolean;
  json?: boolean;
  history?: boolean;
  markRead?: boolean;
}

function printRecords(records: ShownRecord[], json: boolean): void {
  // Read receipts are bookkeeping between the members' apps, not messages.
  const out = underOriginals(records.filter((r) => !(r.t === 'msg' && r.hidden)))
    .map((r) => (json ? JSON.stringify(toJson(r)) : toText(r)))
    .join('\n');
  if (out) process.stdout.write(`${out}\n`);
}

/** Everything the station's recorder archived after `after`, up to `upTo`. */
async function fetchArchive(s: LineSession, after: number, upTo: number): Promise<Map<number, ArchiveEntry>> {
  const found = new Map<number, ArchiveEntry>();
  let cursor = after;
  while (cursor < upTo) {
    const { entries } = await s.ctx.api.history(s.state.meta.line, cursor, 500);
    if (entries.length === 0) break;
    for (const e of entries) found.set(e.pos, e);
    cursor = Math.max(cursor + 1, ...entries.map((e) => e.pos));
  }
  return found;
}

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
      const p = storeSession(o.profile, o.station, o.handle, s);
      process.stdout.write(`Enrolled ${s.member.handle} at station ${s.station.name} (${s.station.fingerprint}).\n`);
      await setUpDevice(o.profile, p);
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
      const p = storeSession(o.profile, o.station, o.handle, s);
      process.stdout.write(`Logged in as ${s.member.handle} at station ${s.station.name} (${s.station.fingerprint}).\n`);
      await setUpDevice(o.profile, p);
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
    .description('encrypt and send a message on a line; returns once your station has stored it durably')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .option('--lang <tag>', 'the language of the message (BCP 47, e.g. en, ru; default: our side\u2019s main working language on the line)')
    .option('--wait <seconds>', 'if the hub has not added this device to the line\u2019s group yet, wait up to this long', '0')
    .option('--json', 'print the stored item as JSON')
    .argument('<text>', 'message text')
    .action(async (text: string, o: { profile: string; line: string; lang?: string; wait: string; json?: boolean }) => {
      const p = loadProfile(o.profile);
      if (text.length === 0) throw new ParleyError('VALIDATION_FAILED', 'the message is empty');
      if (o.lang !== undefined && !validLang(o.lang)) throw new ParleyError('VALIDATION_FAILED', `--lang ${o.lang} is not a language tag`);
      const wait = Number(o.wait);
      if (!Number.isFinite(wait) || wait < 0) throw new ParleyError('VALIDATION_FAILED', '--wait must be a number of seconds');
      const deadline = Date.now() + wait * 1000;
      let res: SendResponse | undefined;
      for (;;) {
        res = await withLine(o.profile, p, o.line, async (s) => {
          await syncLine(s);
          if (!s.state.group && Date.now() < deadline) return undefined; // not added yet: wait outside the lock
          requireMember(s);
          if (selfUpdateDue(s)) {
            try {
              await selfUpdateWithRetry(s);
            } catch (e) {
              // The message matters more than the key refresh: send it, try the refresh next time.
              const why = e instanceof ParleyError ? e.toLine() : (e as Error).message;
              process.stderr.write(`parley: could not refresh this device's keys (${why}); sending anyway\n`);
            }
          }
          // Untagged, a message is in our side's main working language of the line (issue 9).
          return sendText(s, text, o.lang ?? s.line.languages?.ours[0]);
        });
        if (res) break;
        await sleep(300);
      }
      if (o.json) return printJson(res.item);
      process.stdout.write(`Accepted #${res.item.pos} (seq ${res.item.seq}) on ${o.line}.\n`);
    });

  program
    .command('read')
    .description('decrypt and print a line\u2019s messages; --follow keeps printing new ones')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .option('--after <pos>', 'print only what comes after this position', '0')
    .option('--follow', 'keep the connection open and print new messages as they arrive')
    .option('--json', 'one JSON object per line')
    .option('--history', 'fill in what this device cannot decrypt from the station\u2019s recorder archive (marked unverified)')
    .option(
      '--mark-read',
      'then tell the other side, end-to-end encrypted, that you have read up to the newest message shown (their web app shows it as read)',
    )
    .action(async (o: ReadOptions) => {
      const p = loadProfile(o.profile);
      const after = Number(o.after);
      if (!Number.isInteger(after) || after < 0) throw new ParleyError('VALIDATION_FAILED', '--after must be a whole number');
      const store = new DeviceStore(o.profile);
      // What has been printed, by position and the state it was printed in: a message printed
      // as waiting (or as sent before this device joined) is printed again once it decrypts.
      const printed = new Map<string, string>();
      const keyOf = (r: ShownRecord) => `${r.pos}:${r.t}`;
      const stateOf = (r: ShownRecord) => (r.t === 'msg' ? `${r.status}:${r.text ?? ''}` : r.text);
      // Sync under the lock, then print what the cache holds that was not printed as it is now.
      const step = async () => {
        const { fresh, shown } = await withLine(o.profile, p, o.line, async (s) => {
          await syncLine(s);
          // Receipts only for what this device decrypted; never shown as messages themselves.
          if (o.markRead) await sendReceipt(s, store.readCache(o.line).timeline);
          const fresh = store.readCache(o.line).timeline.filter((r) => r.pos > after && printed.get(keyOf(r)) !== stateOf(r));
          const unread = fresh.filter((r) => r.t === 'msg' && r.text === null && !r.hidden && !r.voice).map((r) => r.pos);
          if (!o.history || unread.length === 0) return { fresh, shown: fresh as ShownRecord[] };
          return { fresh, shown: withArchive(fresh, await fetchArchive(s, Math.min(...unread) - 1, Math.max(...unread))) };
        });
        printRecords(shown, !!o.json);
        for (const r of fresh) printed.set(keyOf(r), stateOf(r));
      };
      await step();
      if (!o.follow) return;
      // Follow: the stream only wakes us; every item is taken from the timeline by the sync, in
      // order, once, whatever the timing of frames and reconnects.
      let running = false;
      let again = false;
      const wake = async (): Promise<void> => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            await step();
          } while (again);
        } catch (e) {
          const why = e instanceof ParleyError ? e.toLine() : (e as Error).message;
          process.stderr.write(`parley: ${why}\n`);
          if (e instanceof ParleyError && (e.code === 'UNAUTHENTICATED' || e.code === 'LINE_NOT_FOUND')) process.exit(1);
        } finally {
          running = false;
        }
      };
      const path = `api/v1/lines/${encodeURIComponent(o.line)}`;
      for (;;) {
        const cursor = store.loadLine(o.line)?.meta.cursor ?? 0;
        await new Promise<void>((resolve) => {
          const url = new URL(`${path}/stream?after=${cursor}`, p.station.endsWith('/') ? p.station : `${p.station}/`);
          url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
          const ws = new WebSocket(url, { headers: { authorization: `Bearer ${p.token}` } });
          ws.on('message', () => void wake());
          ws.on('open', () => void wake()); // whatever came while we were connecting
          ws.on('unexpected-response', (_req, res) => {
            if (res.statusCode === 401 || res.statusCode === 404) {
              process.stderr.write(`parley: the station refused the stream (${res.statusCode}) \u2014 log in again or check --line\n`);
              process.exit(1);
            }
          });
          ws.on('close', () => resolve());
          ws.on('error', () => resolve());
        });
        await sleep(500);
      }
    });

  program
    .command('roster')
    .description('every device in a line\u2019s encrypted group, as this device and as the station see it')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .option('--json', 'print as JSON')
    .action(async (o: { profile: string; line: string; json?: boolean }) => {
      const p = loadProfile(o.profile);
      const cmp = await withLine(o.profile, p, o.line, async (s) => {
        await syncLine(s);
        return compareRosters(s.state.group, await s.ctx.api.roster(o.line));
      });
      if (o.json) return printJson(cmp);
      const epochs =
        cmp.deviceEpoch === null
          ? `this device is not in the group; the station sees epoch ${cmp.stationEpoch}`
          : `epoch ${cmp.deviceEpoch} here, ${cmp.stationEpoch} at the station`;
      printTable([
        ['LEAF', 'MEMBER', 'DEVICE', 'FINGERPRINT', 'HERE', 'STATION'],
        ...cmp.devices.map((d) => [
          String(d.leafIndex),
          `${d.handle}@${d.station}`,
          d.deviceId === p.deviceId ? `${d.deviceId} (this device)` : d.deviceId,
          d.signatureKeyFingerprint,
          d.inDevice ? 'yes' : 'no',
          d.inStation ? (d.differs ? 'differs' : 'yes') : 'no',
        ]),
      ]);
      process.stdout.write(
        cmp.matches
          ? `The station's view matches this device's (${epochs}).\n`
          : `The station's view does NOT match this device's (${epochs}).\n`,
      );
    });

  program
    .command('rotate')
    .description('refresh this device\u2019s keys in a line\u2019s group now (post-compromise security)')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .action(async (o: { profile: string; line: string }) => {
      const p = loadProfile(o.profile);
      const { epoch } = await withLine(o.profile, p, o.line, async (s) => {
        await syncLine(s);
        return selfUpdateWithRetry(s);
      });
      process.stdout.write(`This device's keys on ${o.line} are fresh (epoch ${epoch}).\n`);
    });
}

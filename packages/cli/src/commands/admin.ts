import { formatDuration } from '@parley/calls';
import { isRole, ParleyError, parseLangList, ROLES } from '@parley/protocol';
import type { DataDir, Db } from '@parley/station';
import type { Command } from 'commander';
import { ago, printJson, printTable } from '../output.js';

// Loaded on first use: client commands and --help then start without the server's dependencies.
const lib = () => import('@parley/station');
type StationLib = Awaited<ReturnType<typeof lib>>;

/** Admin commands open the station's database directly; SQLite's WAL lets them run beside a live station. */
async function withStation<T>(dir: string, fn: (db: Db, data: DataDir, L: StationLib) => Promise<T>): Promise<T> {
  const L = await lib();
  const data = L.loadDataDir(dir);
  const db = await L.openDatabase(data);
  try {
    return await fn(db, data, L);
  } finally {
    await db.destroy();
  }
}

function parseSeats(value: string): string[] {
  const seats = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (seats.length === 0) throw new ParleyError('VALIDATION_FAILED', '--seats needs at least one handle');
  return [...new Set(seats)];
}

function langsText(langs: readonly string[]): string {
  return langs.length > 0 ? langs.join(',') : '-';
}

export function registerAdminCommands(program: Command): void {
  const station = program.command('station').description('create and run a station');
  station
    .command('init')
    .description('create a new station: identity key, settings and database')
    .requiredOption('--data <dir>', 'data directory to create')
    .requiredOption('--name <name>', 'station name, e.g. washington')
    .requiredOption('--url <url...>', 'URL(s) the station is reached at, best first; it listens on each')
    .option('--listen <url...>', 'listen here instead, when a proxy or load balancer sits in front of the advertised URLs')
    .option('--heartbeat-ms <ms>', 'heartbeat interval on every line', '10000')
    .option('--database <url>', 'postgres://… to keep the station in PostgreSQL (default: SQLite in the data directory)')
    .option('--json', 'print the result as JSON')
    .action(
      async (o: {
        data: string;
        name: string;
        url: string[];
        listen?: string[];
        heartbeatMs: string;
        database?: string;
        json?: boolean;
      }) => {
        const L = await lib();
        const data = L.initDataDir(o.data, o.name, o.url, {
          heartbeatMs: Number(o.heartbeatMs),
          ...(o.listen ? { listen: o.listen } : {}),
          ...(o.database ? { database: o.database } : {}),
        });
        const db = await L.openDatabase(data);
        await db.destroy();
        if (o.json) printJson({ name: data.config.name, fingerprint: data.key.fingerprint, urls: data.config.urls, dir: data.dir });
        else {
          process.stdout.write(`Station ${data.config.name} created in ${data.dir}\n`);
          process.stdout.write(`Fingerprint: ${data.key.fingerprint}\n`);
        }
      },
    );
  station
    .command('start')
    .description('serve the station until SIGINT or SIGTERM')
    .requiredOption('--data <dir>', 'data directory')
    .option('--listen <url...>', 'listen on these URLs only (one process of a multi-process station on PostgreSQL)')
    .action(async (o: { data: string; listen?: string[] }) => {
      const s = await (await lib()).Station.start(o.data, o.listen ? { listen: o.listen } : {});
      const stop = async (signal: string) => {
        s.ctx.log.info({ signal }, 'shutting down');
        await s.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
  station
    .command('info')
    .description('show the station name, fingerprint, public key and URLs')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'print as JSON')
    .action(async (o: { data: string; json?: boolean }) => {
      const data = (await lib()).loadDataDir(o.data);
      // The public key is what `parley record verify --inviter-key/--acceptor-key` takes.
      const publicKey = Buffer.from(data.key.publicKey).toString('base64url');
      const info = { name: data.config.name, fingerprint: data.key.fingerprint, publicKey, urls: data.config.urls };
      if (o.json) printJson(info);
      else process.stdout.write(`${info.name}\nFingerprint: ${info.fingerprint}\nPublic key: ${publicKey}\nURLs: ${info.urls.join(' ')}\n`);
    });

  const member = program.command('member').description('manage the people of this station');
  member
    .command('add')
    .description('add a member; prints their one-time enrollment secret as the last line')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--handle <handle>', 'login name, lowercase')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--role <role>', `one of: ${ROLES.join(', ')}`)
    .option('--json', 'print as JSON')
    .action(async (o: { data: string; handle: string; name: string; role: string; json?: boolean }) => {
      if (!isRole(o.role)) throw new ParleyError('VALIDATION_FAILED', `unknown role "${o.role}"`, `use one of: ${ROLES.join(', ')}`);
      if (!/^[a-z][a-z0-9_.-]{1,31}$/.test(o.handle)) {
        throw new ParleyError(
          'VALIDATION_FAILED',
          `"${o.handle}" is not a valid handle`,
          '2-32 characters: a-z, 0-9, _ . -, starting with a letter',
        );
      }
      if (o.name.trim().length === 0 || o.name.length > 100) throw new ParleyError('VALIDATION_FAILED', '--name must be 1-100 characters');
      const role = o.role;
      const res = await withStation(o.data, (db, _data, L) => L.addMember(db, { handle: o.handle, name: o.name, role }));
      if (o.json) printJson({ ...res.member, enrollmentSecret: res.secret });
      else {
        process.stdout.write(
          `Added ${res.member.handle} (${res.member.name}, ${res.member.role}). Enrollment secret, valid 7 days, usable once:\n`,
        );
        process.stdout.write(`${res.secret}\n`);
      }
    });
  member
    .command('list')
    .description('list members')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'print as JSON')
    .action(async (o: { data: string; json?: boolean }) => {
      const members = await withStation(o.data, (db, _data, L) => L.listMembers(db));
      if (o.json) return printJson(members);
      printTable([['HANDLE', 'NAME', 'ROLE', 'ENROLLED'], ...members.map((m) => [m.handle, m.name, m.role, m.enrolled ? 'yes' : 'no'])]);
    });
  member
    .command('reset')
    .description('issue a new enrollment secret (lost password or device); prints it as the last line')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--handle <handle>', 'member handle')
    .action(async (o: { data: string; handle: string }) => {
      const secret = await withStation(o.data, (db, _data, L) => L.resetEnrollment(db, o.handle));
      process.stdout.write(`New enrollment secret for ${o.handle}:\n${secret}\n`);
    });

  const line = program.command('line').description('lines to other stations');
  line
    .command('invite')
    .description('invite another station to a line; prints the invitation as the last line')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--line <name>', 'line name, e.g. chiefs-of-staff')
    .requiredOption('--seats <handles>', 'comma-separated handles holding seats on our side')
    .option('--ttl-hours <h>', 'hours the invitation stays valid', '24')
    .option('--langs <tags>', 'our side\u2019s working languages, BCP 47, comma-separated, main one first (e.g. en)')
    .action(async (o: { data: string; line: string; seats: string; ttlHours: string; langs?: string }) => {
      if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(o.line))
        throw new ParleyError('VALIDATION_FAILED', `"${o.line}" is not a valid line name`, 'use a-z, 0-9, - and _');
      const ttl = Number(o.ttlHours);
      if (!(ttl > 0 && ttl <= 24 * 30)) throw new ParleyError('VALIDATION_FAILED', '--ttl-hours must be between 0 and 720');
      const langs = o.langs === undefined ? undefined : parseLangList(o.langs);
      const inv = await withStation(o.data, (db, data, L) =>
        L.createInvitation(db, data, { line: o.line, seats: parseSeats(o.seats), ttlMs: ttl * 3600_000, ...(langs ? { langs } : {}) }),
      );
      process.stdout.write(`Invitation to line "${o.line}", valid until ${new Date(inv.body.expiresAt).toISOString()}, usable once.\n`);
      process.stdout.write('Send it to the other station\u2019s operator, then compare the safety number they read back.\n');
      process.stdout.write(`${inv.text}\n`);
    });
  line
    .command('accept')
    .description('accept an invitation from another station; prints the safety number')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--seats <handles>', 'comma-separated handles holding seats on our side')
    .option('--name <name>', 'local name for the line (default: the inviter\u2019s)')
    .option('--langs <tags>', 'our side\u2019s working languages, BCP 47, comma-separated, main one first (e.g. ru)')
    .option('--json', 'print as JSON')
    .argument('<invitation>', 'the invitation text')
    .action(async (invitation: string, o: { data: string; seats: string; name?: string; langs?: string; json?: boolean }) => {
      const langs = o.langs === undefined ? undefined : parseLangList(o.langs);
      const res = await withStation(o.data, (db, data, L) =>
        L.acceptInvitation(db, data, {
          invitation,
          seats: parseSeats(o.seats),
          ...(o.name ? { name: o.name } : {}),
          ...(langs ? { langs } : {}),
        }),
      );
      if (o.json) return printJson(res);
      process.stdout.write(`Line "${res.lineName}" linked with station ${res.peer.name} (${res.peer.fingerprint}).\n`);
      process.stdout.write(`Working languages: ours ${langsText(res.languages.ours)}, theirs ${langsText(res.languages.peer)}.\n`);
      process.stdout.write('Compare this safety number with the other operator over a channel you trust:\n');
      process.stdout.write(`${res.safetyNumber}\n`);
    });
  const seat = line.command('seat').description('give members seats on a line or take them away');
  for (const [verb, seated] of [
    ['add', true],
    ['remove', false],
  ] as const) {
    seat
      .command(verb)
      .description(
        seated ? 'give a member a seat; their devices join the line\u2019s group' : 'take a seat away; their devices leave the group',
      )
      .requiredOption('--data <dir>', 'data directory')
      .requiredOption('--line <name>', 'line name')
      .requiredOption('--handle <handle>', 'member handle')
      .action(async (o: { data: string; line: string; handle: string }) => {
        await withStation(o.data, (db, _data, L) => L.setSeat(db, o.line, o.handle, seated));
        process.stdout.write(`${o.handle} ${seated ? 'now holds a seat on' : 'no longer holds a seat on'} ${o.line}.\n`);
      });
  }
  line
    .command('languages')
    .description(
      'set our side\u2019s working languages on a line (members write in the first by default; interpreters translate into it); tells the peer station',
    )
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--line <name>', 'line name')
    .requiredOption('--langs <tags>', 'BCP 47 tags, comma-separated, main one first (e.g. en,fr)')
    .option('--json', 'print as JSON')
    .action(async (o: { data: string; line: string; langs: string; json?: boolean }) => {
      const langs = parseLangList(o.langs);
      const res = await withStation(o.data, (db, data, L) => L.changeLanguages(db, data, o.line, langs));
      if (o.json) return printJson(res);
      process.stdout.write(
        `Working languages on ${res.line}: ours ${langsText(res.languages.ours)}, theirs ${langsText(res.languages.peer)}.\n`,
      );
      process.stdout.write(
        res.peerTold
          ? 'The peer station holds the change.\n'
          : `The peer station was not told yet (${res.peerError ?? 'no confirmation'}); it learns it when the line next syncs.\n`,
      );
    });
  const statusAction = async (o: { data: string; line?: string; json?: boolean }) => {
    const rows = await withStation(o.data, async (db, data, L) => {
      const lines = o.line ? [await L.lineByName(db, o.line)] : await L.allLines(db);
      return Promise.all(
        lines.map(async (l) => ({
          ...(await L.summarizeLine({ db, key: data.key, heartbeatMs: data.config.heartbeatMs, stationName: data.config.name }, l)),
          duty: await L.lineDutyStats(db, l),
        })),
      );
    });
    if (o.json) return printJson(o.line ? rows[0] : rows);
    if (rows.length === 0) {
      process.stdout.write('No lines yet. Invite another station with `parley line invite`.\n');
      return;
    }
    printTable([
      [
        'LINE',
        'PEER',
        'HEALTH',
        'RECORD',
        'ANSWERED',
        'AVAILABILITY',
        'LAST CONTACT',
        'BACKLOG OUT',
        'BACKLOG IN',
        'SEATS',
        'PEER SEATS',
        'LANGS',
        'DEADLINES',
      ],
      ...rows.map((r) => [
        r.name,
        r.peer.name,
        r.health,
        r.recordAlarms ? `ALARM x${r.recordAlarms}` : 'agreed',
        r.duty.unanswered ? 'UNANSWERED' : 'yes',
        r.duty.availability === null ? '-' : `${Math.round(r.duty.availability * 100)}%`,
        ago(r.lastContactAt),
        String(r.backlogOut),
        String(r.backlogIn),
        r.seats.map((s) => s.handle).join(','),
        r.peerSeats.map((s) => s.handle).join(','),
        // ours / theirs, main language first: "en / ru,uk"
        `${langsText(r.languages?.ours ?? [])} / ${langsText(r.languages?.peer ?? [])}`,
        // flash/immediate/priority/routine acknowledgement deadlines; test interval/deadline
        `${(['flash', 'immediate', 'priority', 'routine'] as const).map((u) => formatDuration(r.duty.policy.ackDeadlineMs[u])).join('/')}; test ${formatDuration(r.duty.policy.testIntervalMs)}/${formatDuration(r.duty.policy.testAckDeadlineMs)}`,
      ]),
    ]);
    for (const r of rows) {
      const refusal = r.peerRefusal;
      if (!refusal) continue;
      process.stdout.write(
        `Line ${r.name}: ${r.peer.name} refuses our item ${refusal.seq} (first refused ${ago(refusal.since)}): ${refusal.code} — ${refusal.message}. ` +
          'Nothing after it reaches the peer until it takes it; check that both stations run the same version.\n',
      );
    }
    if (o.line && rows[0]) process.stdout.write(`Safety number: ${rows[0].safetyNumber}\n`);
  };
  line
    .command('list')
    .description('list lines')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'print as JSON')
    .action(statusAction);
  line
    .command('status')
    .description('health, last contact and backlog of each line')
    .requiredOption('--data <dir>', 'data directory')
    .option('--line <name>', 'only this line')
    .option('--json', 'print as JSON')
    .action(statusAction);
}

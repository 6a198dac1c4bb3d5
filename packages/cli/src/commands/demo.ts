import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Role, SessionResponse } from '@parley/protocol';
import type { Station } from '@parley/station';
import type { Command } from 'commander';
import { apiCall } from '../api-client.js';

// Loaded on first use: client commands and --help then start without the server's dependencies.
const lib = () => import('@parley/station');

interface DemoPerson {
  handle: string;
  name: string;
  role: Role;
}

const PEOPLE: Record<'washington' | 'moscow', DemoPerson[]> = {
  washington: [
    { handle: 'chief', name: 'Chairman of the Joint Chiefs', role: 'principal' },
    { handle: 'deputy', name: 'Vice Chairman', role: 'deputy' },
    { handle: 'duty', name: 'Duty Officer, NMCC', role: 'duty_officer' },
    { handle: 'admin', name: 'Station Administrator', role: 'admin' },
  ],
  moscow: [
    { handle: 'chief', name: 'Chief of the General Staff', role: 'principal' },
    { handle: 'deputy', name: 'First Deputy Chief', role: 'deputy' },
    { handle: 'duty', name: 'Duty Officer, NTsUO', role: 'duty_officer' },
    { handle: 'admin', name: 'Station Administrator', role: 'admin' },
  ],
};

const password = (station: string, handle: string) => `${station}-${handle}-demo`;

/** Two stations on loopback with demo people and one line between them, in one process. */
async function prepare(dir: string, basePort: number): Promise<void> {
  const L = await lib();
  const names = ['washington', 'moscow'] as const;
  const fresh = !existsSync(join(dir, 'washington', 'station.json'));
  if (!fresh) return;
  const secrets: Record<string, Record<string, string>> = {};
  names.forEach((name, i) => {
    L.initDataDir(join(dir, name), name, [`http://127.0.0.1:${basePort + i}`], { heartbeatMs: 5000 });
  });
  for (const name of names) {
    const data = L.loadDataDir(join(dir, name));
    const db = await L.openDatabase(data);
    secrets[name] = {};
    for (const p of PEOPLE[name]) (secrets[name] as Record<string, string>)[p.handle] = (await L.addMember(db, p)).secret;
    await db.destroy();
  }
  const stations = await Promise.all(
    names.map((n) => L.Station.start(join(dir, n), { log: L.createLogger(n, { file: join(dir, `${n}.log`) }) })),
  );
  try {
    for (const [i, name] of names.entries()) {
      for (const p of PEOPLE[name]) {
        await apiCall<SessionResponse>(`http://127.0.0.1:${basePort + i}`, 'POST', 'api/v1/enroll', {
          body: {
            handle: p.handle,
            secret: secrets[name]?.[p.handle],
            password: password(name, p.handle),
            session: 'bearer',
            device: 'demo set-up',
          },
        });
      }
    }
    const [w, m] = stations as [Station, Station];
    const inv = await L.createInvitation(w.ctx.db, w.ctx.data, { line: 'chiefs-of-staff', seats: ['chief', 'deputy', 'duty'] });
    await L.acceptInvitation(m.ctx.db, m.ctx.data, { invitation: inv.text, seats: ['chief', 'deputy', 'duty'] });
  } finally {
    await Promise.all(stations.map((s) => s.stop()));
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run two stations, washington and moscow, on loopback with demo people and a line between them')
    .option('--dir <dir>', 'where the demo keeps its stations', '.parley-demo')
    .option('--port <port>', 'washington listens here, moscow on the next port', '7301')
    .action(async (o: { dir: string; port: string }) => {
      const L = await lib();
      const dir = resolve(o.dir);
      const basePort = Number(o.port);
      await prepare(dir, basePort);
      const names = ['washington', 'moscow'] as const;
      const stations: Station[] = [];
      for (const n of names)
        stations.push(await L.Station.start(join(dir, n), { log: L.createLogger(n, { file: join(dir, `${n}.log`) }) }));
      const lines = await L.allLines(stations[0]!.ctx.db);
      const out: string[] = ['', 'Parley demo is running. Two stations on loopback:', ''];
      names.forEach((n, i) => {
        out.push(`  ${n.padEnd(11)} http://127.0.0.1:${basePort + i}/   fingerprint ${stations[i]!.ctx.data.key.fingerprint}`);
      });
      out.push(
        '',
        `Line(s) between them: ${lines.map((l) => l.name).join(', ') || '(none)'}`,
        '',
        'Open the web app and log in as one of the people below:',
        `  washington  http://127.0.0.1:${basePort}/`,
        // Browsers keep cookies per host name, not per port: a second host name keeps the two sessions apart.
        `  moscow      http://localhost:${basePort + 1}/   (localhost, so that one browser can be logged in at both)`,
        '',
        'Demo people (handle / password), the same handles on both stations:',
      );
      for (const n of names)
        for (const p of PEOPLE[n])
          out.push(`  ${n.padEnd(11)} ${p.handle.padEnd(8)} ${password(n, p.handle).padEnd(28)} ${p.name} (${p.role})`);
      out.push(
        '',
        'Try the CLI in another terminal:',
        `  echo ${password('washington', 'chief')} > /tmp/pw && node packages/cli/dist/src/bin.js login --station http://127.0.0.1:${basePort} --handle chief --profile /tmp/wa --password-file /tmp/pw`,
        '  node packages/cli/dist/src/bin.js send --profile /tmp/wa --line chiefs-of-staff --wait 30 "Request a call at 14:00Z"',
        '  (--wait: a new device sends once the line\u2019s encrypted group has it; log in on moscow first to read it there,',
        '   or read older messages from your station\u2019s recorder with `read --history`)',
        '',
        `Logs: ${dir}/*.log. Stop with Ctrl-C.`,
        '',
      );
      process.stdout.write(out.join('\n'));
      const stop = async () => {
        await Promise.all(stations.map((s) => s.stop()));
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}

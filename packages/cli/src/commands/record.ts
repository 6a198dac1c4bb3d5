import { readFileSync, writeFileSync } from 'node:fs';
import { fromBase64url, ParleyError, stationFingerprint } from '@parley/protocol';
import type { Command } from 'commander';
import { printJson } from '../output.js';

// `parley record`: the joint record of a line. `export` reads the station's database directly
// (like the other admin commands, beside a running station); `verify` needs nothing but the
// file and the two station public keys, so anyone can check an export offline.

/** A station's raw Ed25519 public key as base64url (what `parley line status --json` shows as publicKey). */
function parseKey(option: string, value: string): string {
  const raw = fromBase64url(value.trim());
  if (raw?.length !== 32) {
    throw new ParleyError(
      'VALIDATION_FAILED',
      `${option} is not a station public key (32 bytes, base64url)`,
      'take it from `parley line status --json` (station.publicKey, peer.publicKey) and compare its fingerprint out of band',
    );
  }
  return value.trim();
}

export function registerRecordCommands(program: Command): void {
  const record = program.command('record').description('the joint record of a line: export it, verify an export offline');
  record
    .command('export')
    .description('write the line\u2019s joint record (entries, heads signed by both stations, proofs) to a file')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--line <name>', 'line name')
    .requiredOption('--out <file>', 'file to write')
    .option('--json', 'print a summary as JSON')
    .action(async (o: { data: string; line: string; out: string; json?: boolean }) => {
      const L = await import('@parley/station');
      const data = L.loadDataDir(o.data);
      const db = await L.openDatabase(data);
      try {
        const file = await L.exportRecord(db, data, o.line);
        writeFileSync(o.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
        const last = file.heads[file.heads.length - 1];
        const summary = {
          file: o.out,
          line: file.line,
          entries: file.entries.length,
          heads: file.heads.length,
          cosignedSize: last?.head.size ?? 0,
          inviter: file.stations.inviter,
          acceptor: file.stations.acceptor,
        };
        if (o.json) printJson(summary);
        else {
          process.stdout.write(
            `Joint record of line ${file.line.name}: ${summary.entries} entries, ${summary.heads} heads signed by both stations ` +
              `(the last covers ${summary.cosignedSize}), written to ${o.out}\n`,
          );
          process.stdout.write(`  inviter station   ${file.stations.inviter.fingerprint}  key ${file.stations.inviter.key}\n`);
          process.stdout.write(`  acceptor station  ${file.stations.acceptor.fingerprint}  key ${file.stations.acceptor.key}\n`);
          process.stdout.write(`Check it with: parley record verify ${o.out} --inviter-key KEY --acceptor-key KEY\n`);
        }
      } finally {
        await db.destroy();
      }
    });
  record
    .command('verify')
    .description('check an export offline against the two station public keys; print what it proves, or every problem (exit 1)')
    .argument('<file>', 'export file')
    .requiredOption('--inviter-key <key>', 'public key of the inviting station (base64url)')
    .requiredOption('--acceptor-key <key>', 'public key of the accepting station (base64url)')
    .option('--json', 'print the verification result as JSON')
    .action(async (file: string, o: { inviterKey: string; acceptorKey: string; json?: boolean }) => {
      const inviterKey = parseKey('--inviter-key', o.inviterKey);
      const acceptorKey = parseKey('--acceptor-key', o.acceptorKey);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new ParleyError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`);
      }
      // Loaded here: the verifier is pure and needs nothing of the station.
      const { verifyExport, formatReport } = await import('@parley/record');
      const result = verifyExport(text, { inviterKey, acceptorKey });
      if (o.json) printJson(result);
      else {
        // The keys the verdict rests on, as people compare them out of band.
        process.stdout.write(`Keys given: inviter ${stationFingerprint(fromBase64url(inviterKey)!)}\n`);
        process.stdout.write(`            acceptor ${stationFingerprint(fromBase64url(acceptorKey)!)}\n\n`);
        process.stdout.write(formatReport(result));
      }
      if (!result.ok) process.exitCode = 1;
    });
}

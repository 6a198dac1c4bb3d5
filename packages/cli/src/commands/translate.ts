import { randomBytes } from 'node:crypto';
import { type Item, type MessageRef, ParleyError, validLang } from '@parley/protocol';
import type { Command } from 'commander';
import { messageRef, sealTranslation, syncLine } from '../e2ee/line.js';
import { withLine } from '../e2ee/session.js';
import { printJson } from '../output.js';
import { loadProfile } from '../profile.js';

const REF = /^(inviter|acceptor):([1-9][0-9]{0,15})$/;

export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description('translate a message of a line (interpreters): end-to-end encrypted, shown beside the original')
    .requiredOption('--profile <dir>', 'profile directory')
    .requiredOption('--line <name>', 'line name')
    .requiredOption('--message <id>', 'the original: its id as `parley read` shows it (inviter:12), or its position (#34)')
    .requiredOption('--lang <tag>', 'the language of the translation (BCP 47, e.g. en, ru)')
    .option('--json', 'print the stored item as JSON')
    .argument('<text>', 'the translation')
    .action(async (text: string, o: { profile: string; line: string; message: string; lang: string; json?: boolean }) => {
      if (text.trim().length === 0) throw new ParleyError('VALIDATION_FAILED', 'the translation is empty');
      if (!validLang(o.lang)) throw new ParleyError('VALIDATION_FAILED', `--lang ${o.lang} is not a language tag (like en, ru, pt-BR)`);
      const p = loadProfile(o.profile);
      const clientId = randomBytes(12).toString('base64url');
      const res = await withLine(o.profile, p, o.line, async (s) => {
        await syncLine(s);
        let of: MessageRef;
        const m = REF.exec(o.message);
        if (m) {
          of = { side: m[1] as MessageRef['side'], seq: Number(m[2]) };
        } else {
          const pos = Number(o.message.replace(/^#/, ''));
          if (!Number.isSafeInteger(pos) || pos < 1) {
            throw new ParleyError('VALIDATION_FAILED', `--message ${o.message} is neither a message id (inviter:12) nor a position (#34)`);
          }
          const page = await s.ctx.api.items(o.line, pos - 1, 1);
          const item = page.items[0] as Item | undefined;
          if (!item || item.pos !== pos || item.kind !== 'mls') throw new ParleyError('NOT_FOUND', `no message at #${pos} on ${o.line}`);
          const [side, seq] = messageRef(s, item).split(':');
          of = { side: side as MessageRef['side'], seq: Number(seq) };
        }
        const body = await sealTranslation(s, text, o.lang, clientId);
        return s.ctx.api.translate(o.line, { of, lang: o.lang, body, clientId });
      });
      if (o.json) return printJson(res.item);
      process.stdout.write(`Translation accepted #${res.item.pos} on ${o.line}.\n`);
    });
}

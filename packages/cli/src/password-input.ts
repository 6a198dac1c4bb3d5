import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ParleyError } from '@parley/protocol';

/** From --password-file, else a prompt that does not echo, else one line of piped stdin. */
export async function readPassword(file: string | undefined, prompt = 'Password: '): Promise<string> {
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new ParleyError('BAD_REQUEST', `cannot read the password file ${file}`);
    }
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stdout.write(prompt);
    // Mute echo: readline writes typed characters through _writeToOutput.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    rl.once('close', () => reject(new ParleyError('BAD_REQUEST', 'no password given', 'type it, or use --password-file')));
  });
  rl.close();
  if (process.stdin.isTTY) process.stdout.write('\n');
  return line;
}

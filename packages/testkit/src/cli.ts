import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = join(PACKAGES, 'cli/dist/bundle/parley.js');
const UNBUNDLED = join(PACKAGES, 'cli/dist/src/bin.js');

function newestJs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestJs(p));
    else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The bundled CLI (what users run) unless it is older than the compiled code it is made of:
 * after a bare `tsc -b` without `npm run build`, tests run the fresh unbundled code instead of
 * silently testing yesterday's bundle.
 */
function cliBin(): string {
  if (!existsSync(BUNDLE)) return UNBUNDLED;
  const built = statSync(BUNDLE).mtimeMs;
  const sources = ['protocol', 'e2ee', 'record', 'calls', 'station', 'cli'].map((p) => join(PACKAGES, p, 'dist/src'));
  return sources.some((dir) => existsSync(dir) && newestJs(dir) > built) ? UNBUNDLED : BUNDLE;
}

export const CLI_BIN = cliBin();

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `parley` command line as a subprocess. */
export function runCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Say so when we killed it: an empty stderr with code -1 reads like a crash.
      if (timedOut) stderr += `\n(killed: no exit within ${timeoutMs} ms)`;
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Run the CLI and fail loudly (with its stderr) unless it exits 0. */
export async function cliOk(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await runCli(args, opts);
  if (r.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

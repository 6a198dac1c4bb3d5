import { E2eeError } from '@parley/e2ee';
import { ParleyError } from '@parley/protocol';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows)
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** One line on stderr, exit code 1. Internal failures keep their message but never a stack. */
export function fail(e: unknown): never {
  const pe =
    e instanceof ParleyError
      ? e
      : e instanceof E2eeError
        ? new ParleyError('E2EE_REFUSED', `end-to-end encryption: ${e.message} (${e.code})`)
        : new ParleyError('INTERNAL', (e as Error)?.message ?? String(e), 'this is a bug in parley or its environment');
  process.stderr.write(`parley: ${pe.toLine()}\n`);
  process.exit(1);
}

export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

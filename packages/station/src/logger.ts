import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs, to stdout or a file. Secrets that might pass through a request are
 * redacted by path, and no code path logs key material or payloads.
 */
export function createLogger(name: string, opts: { level?: string; file?: string } = {}): Logger {
  const options = {
    name,
    level: opts.level ?? process.env.PARLEY_LOG_LEVEL ?? 'info',
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'password', 'secret', 'token', '*.password', '*.secret', '*.token'],
      censor: '[redacted]',
    },
  };
  return opts.file ? pino(options, pino.destination({ dest: opts.file, mkdir: true, sync: false })) : pino(options);
}

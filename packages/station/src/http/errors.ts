import { ParleyError } from '@parley/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';

/** Map anything thrown in a handler to a ParleyError with a stable code. */
export function toParleyError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation || e.code === 'FST_ERR_VALIDATION') return new ParleyError('VALIDATION_FAILED', e.message ?? 'invalid request');
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ParleyError('BODY_TOO_LARGE', 'request body is too large', 'send less data at once');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ParleyError('MALFORMED_JSON', 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ParleyError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ParleyError('BAD_REQUEST', 'content-length does not match the body');
    default:
      break;
  }
  if (e instanceof SyntaxError) return new ParleyError('MALFORMED_JSON', 'request body is not valid JSON');
  if (isDatabaseUnavailable(err)) {
    return new ParleyError('UNAVAILABLE', 'the station cannot reach its database right now; nothing was stored', 'try again shortly');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ParleyError('BAD_REQUEST', e.message ?? 'bad request');
  }
  return new ParleyError('INTERNAL', 'the station failed to handle this request', 'try again; if it persists, check the station log');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const pe = toParleyError(err);
    if (pe.code === 'INTERNAL') req.log.error({ err }, 'request failed');
    else req.log.info({ code: pe.code, msg: pe.message }, 'request refused');
    void reply.status(pe.status).send(pe.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const pe = new ParleyError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`);
    void reply.status(404).send(pe.toBody());
  });
}

// PostgreSQL connection failures (refused, reset, server shutting down: SQLSTATE classes 08
// and 57P) mean "try again later", not a bug in the request.
function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    /Connection terminated|connection timeout|database system is (shutting down|starting up)/i.test(message)
  );
}

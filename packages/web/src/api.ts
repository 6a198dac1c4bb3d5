import { errorFromBody, ParleyError } from '@parley/protocol/errors';

/** The station could not be reached at all (network down, station stopped). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor() {
    super('cannot reach the station; check your network connection');
  }
}

/**
 * A call to this station's client API. The session is the httpOnly cookie the station set at
 * login, so no token is ever visible to page scripts. Errors are ParleyErrors with the
 * station's stable codes, or a NetworkError.
 */
export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new NetworkError();
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    if (!res.ok) throw new ParleyError(res.status === 503 ? 'UNAVAILABLE' : 'INTERNAL', `the station answered ${res.status}`);
    throw new ParleyError('INTERNAL', 'the station sent an answer this app cannot read');
  }
  if (!res.ok) throw errorFromBody(json, `the station answered ${res.status}`);
  return json as T;
}

/** A sentence for the officer, with the code for the administrator. */
export function describeError(e: unknown): string {
  if (e instanceof NetworkError) return e.message;
  if (e instanceof ParleyError) return `${e.message}${e.hint ? ` — ${e.hint}` : ''} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

export function isUnauthenticated(e: unknown): boolean {
  return e instanceof ParleyError && e.code === 'UNAUTHENTICATED';
}

import { errorFromBody, ParleyError } from '@parley/protocol';

/** A JSON call to a station's client API, with its errors turned back into ParleyErrors. */
export async function apiCall<T>(
  station: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<T> {
  const url = new URL(path, station.endsWith('/') ? station : `${station}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new ParleyError(
      'PEER_UNREACHABLE',
      `cannot reach the station at ${station} (${(e as Error).message})`,
      'is it running? check the URL',
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ParleyError('INTERNAL', `the station answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) throw errorFromBody(json, `the station answered ${res.status}`);
  return json as T;
}

import http from 'node:http';
import https from 'node:https';
import { errorFromBody, FED_HEADERS, ParleyError, parseWith } from '@parley/protocol';
import type { Static, TSchema } from 'typebox';
import type { StationKey } from '../identity/station-key.js';
import type { Endpoints } from './endpoints.js';
import { signRequest, verifyResponse } from './signing.js';

/** The peer answered and refused: its code is kept so the caller can act on it (e.g. SEQ_GAP). */
export class PeerRefusal extends ParleyError {
  constructor(
    inner: ParleyError,
    readonly body: Record<string, unknown>,
  ) {
    super(inner.code, `peer station refused: ${inner.message}`, inner.hint);
  }
}

const TIMEOUT_MS = 5000;

// Keep-alive connections to the peer, reused by the forwarder and the heartbeats. node:http
// costs a third of what fetch does per request, which on a line is most of the client side.
// Idle sockets are dropped well before a server's keep-alive timeout would close them under
// a request.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 30_000, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, timeout: 30_000, scheduling: 'lifo' }),
};

function request(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<{ status: number; signature: string | undefined; raw: Buffer }> {
  const client = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const sig = res.headers[FED_HEADERS.signature];
          resolve({ status: res.statusCode ?? 0, signature: typeof sig === 'string' ? sig : undefined, raw: Buffer.concat(chunks) });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

async function postOnce(
  key: StationKey,
  peerKey: Uint8Array,
  baseUrl: string,
  path: string,
  body: unknown,
  timeoutMs = TIMEOUT_MS,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const bytes = Buffer.from(JSON.stringify(body));
  const headers = signRequest(key, 'POST', url.pathname, bytes);
  const res = await request(url, headers, bytes, timeoutMs);
  const { raw, signature: sig } = res;
  // Only an answer signed by the pinned key counts. An unsigned or badly signed reply is
  // treated like no answer at all: a middlebox must not be able to fake an acknowledgement.
  if (!sig || !verifyResponse(peerKey, headers[FED_HEADERS.nonce] as string, res.status, raw, sig)) {
    throw new ParleyError('FED_BAD_SIGNATURE', `reply from ${baseUrl} is not signed by the pinned peer key`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ParleyError('PEER_REFUSED', `reply from ${baseUrl} is not JSON`);
  }
  return { status: res.status, json };
}

/**
 * Signed POST to the peer with failover across its endpoints. Network failures and bad
 * signatures move on to the next endpoint; a signed refusal from the peer is final and thrown
 * as PeerRefusal (another endpoint of the same station would say the same).
 */
export async function fedPost<T extends TSchema>(
  key: StationKey,
  peerKey: Uint8Array,
  endpoints: Endpoints,
  path: string,
  body: unknown,
  schema: T,
  opts: { timeoutMs?: number } = {},
): Promise<Static<T>> {
  let lastError = 'no endpoints';
  for (const ep of endpoints.order()) {
    let reply: { status: number; json: unknown };
    try {
      reply = await postOnce(key, peerKey, ep.url, path, body, opts.timeoutMs);
    } catch (e) {
      lastError = (e as Error).message;
      endpoints.markDown(ep.url, lastError);
      continue;
    }
    endpoints.markUp(ep.url);
    if (reply.status >= 400) {
      const json = (reply.json ?? {}) as Record<string, unknown>;
      throw new PeerRefusal(errorFromBody(json, `peer answered ${reply.status}`), json);
    }
    return parseWith(schema, reply.json, 'peer reply');
  }
  throw new ParleyError('PEER_UNREACHABLE', `peer station unreachable (${lastError})`, 'the station retries by itself');
}

/** Signed POST to one URL with a key known in advance (the link ceremony). */
export async function fedPostTo<T extends TSchema>(
  key: StationKey,
  peerKey: Uint8Array,
  baseUrl: string,
  path: string,
  body: unknown,
  schema: T,
): Promise<Static<T>> {
  let reply: { status: number; json: unknown };
  try {
    reply = await postOnce(key, peerKey, baseUrl, path, body);
  } catch (e) {
    if (e instanceof ParleyError) throw e;
    throw new ParleyError('PEER_UNREACHABLE', `cannot reach ${baseUrl}: ${(e as Error).message}`, 'is the inviting station running?');
  }
  if (reply.status >= 400) {
    const json = (reply.json ?? {}) as Record<string, unknown>;
    const inner = errorFromBody(json, `peer answered ${reply.status}`);
    throw new ParleyError(inner.code, inner.message, inner.hint);
  }
  return parseWith(schema, reply.json, 'peer reply');
}

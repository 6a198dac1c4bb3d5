import { AckResponse, errorFromBody, FED_HEADERS, type FedItem, ParleyError, parseWith } from '@parley/protocol';
import Type from 'typebox';
import { WebSocket } from 'ws';
import type { StationKey } from '../identity/station-key.js';
import { Endpoints } from './endpoints.js';
import { fedPost, PeerRefusal } from './fed-client.js';
import { signRequest, verifyResponse } from './signing.js';
import {
  type ChannelKeys,
  channelKeys,
  newEphemeral,
  openFrame,
  STREAM_EPHEMERAL_HEADER,
  sealFrame,
  streamPath,
} from './stream-channel.js';

const TIMEOUT_MS = 5000;
/**
 * A connection with nothing to send for this long is closed; the next batch opens a fresh one
 * (one round trip and two signatures). A line may be quiet for days, and a connection left open
 * that long may have been dropped silently by something in between: the first item after the
 * silence would wait out a timeout before going anywhere.
 */
const IDLE_MS = 20_000;
/**
 * A peer that answered the stream's upgrade with 404, or took it and closed without a hello, runs
 * a version without the stream: POST to it for this long, then try the stream again (a peer that
 * was only restarting at that moment costs a minute of the slower path, nothing else).
 */
const LEGACY_RETRY_MS = 60_000;

const Hello = Type.Object(
  { ephemeral: Type.String({ maxLength: 64 }), signature: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);

interface Connection {
  url: string;
  ws: WebSocket;
  keys: ChannelKeys;
  sent: number;
  received: number;
  /** The one batch awaiting its answer (the forwarder sends one at a time). */
  waiting: { resolve: (body: Buffer) => void; reject: (e: Error) => void } | null;
  idle: ReturnType<typeof setTimeout> | null;
  closed: Error | null;
}

class NotSupported extends Error {}

/**
 * Our side of one line's item stream to the peer: one WebSocket at a time, to the first peer
 * endpoint that answers, kept open between batches. `push` sends a batch and resolves with the
 * peer's acknowledgement, or throws PeerRefusal (the peer said no, with its code) or
 * PEER_UNREACHABLE after trying every endpoint. Endpoint state is kept in `endpoints`, as the
 * HTTP client does.
 */
export class FedStream {
  private conn: Connection | null = null;
  private readonly legacy = new Map<string, number>();

  constructor(
    private readonly key: StationKey,
    private readonly peerKey: Uint8Array,
    private readonly lineId: string,
    private readonly endpoints: Endpoints,
  ) {}

  async push(items: FedItem[]): Promise<AckResponse> {
    let lastError = 'no endpoints';
    for (const ep of this.endpoints.order()) {
      try {
        const res = await this.pushTo(ep.url, items);
        this.endpoints.markUp(ep.url);
        return res;
      } catch (e) {
        if (e instanceof PeerRefusal) {
          this.endpoints.markUp(ep.url);
          throw e;
        }
        lastError = (e as Error).message;
        this.endpoints.markDown(ep.url, lastError);
      }
    }
    throw new ParleyError('PEER_UNREACHABLE', `peer station unreachable (${lastError})`, 'the station retries by itself');
  }

  close(): void {
    this.drop(new Error('stream closed'));
  }

  private async pushTo(url: string, items: FedItem[]): Promise<AckResponse> {
    const legacySince = this.legacy.get(url);
    if (legacySince !== undefined && Date.now() - legacySince < LEGACY_RETRY_MS) return this.post(url, items);
    let conn: Connection;
    try {
      conn = this.conn?.url === url && !this.conn.closed ? this.conn : await this.open(url);
    } catch (e) {
      if (!(e instanceof NotSupported)) throw e;
      this.legacy.set(url, Date.now());
      return this.post(url, items);
    }
    if (conn.idle) clearTimeout(conn.idle);
    const body = await this.request(conn, Buffer.from(JSON.stringify({ items })));
    conn.idle = setTimeout(() => this.drop(new Error('idle'), conn), IDLE_MS);
    conn.idle.unref();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.drop(new Error('the peer answered with something that is not JSON'));
      throw new Error('the peer answered with something that is not JSON');
    }
    if ('error' in json) throw new PeerRefusal(errorFromBody(json, 'peer refused the batch'), json);
    return parseWith(AckResponse, json, 'peer reply');
  }

  /** A peer without the stream: the signed POST of before, to this endpoint only. */
  private post(url: string, items: FedItem[]): Promise<AckResponse> {
    return fedPost(this.key, this.peerKey, new Endpoints([url]), `fed/v1/lines/${this.lineId}/items`, { items }, AckResponse).catch(
      (e: unknown) => {
        if (e instanceof ParleyError && e.code === 'PEER_UNREACHABLE') throw new Error(e.message);
        throw e;
      },
    );
  }

  private request(conn: Connection, body: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (conn.closed) return reject(conn.closed);
      const timer = setTimeout(() => this.drop(new Error(`no answer from ${conn.url} within ${TIMEOUT_MS} ms`), conn), TIMEOUT_MS);
      conn.waiting = {
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      conn.ws.send(sealFrame(conn.keys.send, conn.sent++, body));
    });
  }

  /** Close the connection (this one, or whichever is current) and fail what waits on it. */
  private drop(reason: Error, conn: Connection | null = this.conn): void {
    if (!conn) return;
    if (this.conn === conn) this.conn = null;
    if (!conn.closed) conn.closed = reason;
    if (conn.idle) clearTimeout(conn.idle);
    const w = conn.waiting;
    conn.waiting = null;
    w?.reject(reason);
    conn.ws.terminate();
  }

  private open(url: string): Promise<Connection> {
    this.drop(new Error('moving to another endpoint'));
    const path = streamPath(this.lineId);
    const ours = newEphemeral();
    const signed = signRequest(this.key, 'GET', path, ours.publicKey);
    const nonce = signed[FED_HEADERS.nonce] as string;
    const headers = { ...signed, [STREAM_EPHEMERAL_HEADER]: Buffer.from(ours.publicKey).toString('base64url') };
    const target = new URL(path.slice(1), url.endsWith('/') ? url : `${url}/`);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(target, {
      headers,
      handshakeTimeout: TIMEOUT_MS,
      perMessageDeflate: false,
      maxPayload: 8 * 1024 * 1024,
      // A zero mask leaves frames as they are (ws skips the XOR pass over every byte). Masking
      // protects browsers' intermediaries from crafted bytes; between stations, every frame is MAC'd.
      generateMask: (mask: Buffer) => {
        mask.fill(0);
      },
    });
    return new Promise<Connection>((resolve, reject) => {
      let conn: Connection | null = null;
      const fail = (e: Error) => {
        clearTimeout(timer);
        if (conn) this.drop(e, conn);
        else ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let json: unknown = null;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not a station's answer
          }
          const refused = errorFromBody(json, `peer answered ${status}`);
          if (status === 404 && refused.code !== 'FED_WRONG_LINE') fail(new NotSupported(`${url} has no line stream`));
          else if (refused.code !== 'INTERNAL') fail(new PeerRefusal(refused, json as Record<string, unknown>));
          else fail(new Error(`peer answered ${status} to the stream request`));
        });
        res.on('error', fail);
      });
      ws.on('error', (e) => fail(e));
      let upgraded = false;
      ws.on('open', () => {
        upgraded = true;
      });
      ws.on('close', () => {
        if (conn) this.drop(new Error(`the connection to ${url} closed`), conn);
        // Upgraded, then closed without a hello: a station from before the stream (its WebSocket
        // server takes any upgrade and closes what no route wants).
        else if (upgraded) fail(new NotSupported(`${url} has no line stream`));
        else fail(new Error(`the connection to ${url} closed`));
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!conn) {
          // The peer's hello: its ephemeral key, signed by its pinned station key over our nonce.
          try {
            const hello = parseWith(Hello, JSON.parse(data.toString('utf8')), 'stream hello');
            const theirs = Buffer.from(hello.ephemeral, 'base64url');
            if (!verifyResponse(this.peerKey, nonce, 101, theirs, hello.signature)) {
              throw new ParleyError('FED_BAD_SIGNATURE', `stream hello from ${url} is not signed by the pinned peer key`);
            }
            conn = {
              url,
              ws,
              keys: channelKeys(ours, theirs, nonce, 'opener'),
              sent: 0,
              received: 0,
              waiting: null,
              idle: null,
              closed: null,
            };
            clearTimeout(timer);
            this.conn = conn;
            resolve(conn);
          } catch (e) {
            fail(e instanceof Error ? e : new Error(String(e)));
          }
          return;
        }
        const body = isBinary ? openFrame(conn.keys.receive, conn.received, data) : null;
        if (!body) {
          this.drop(new Error(`a frame from ${url} failed its MAC or counter`), conn);
          return;
        }
        conn.received++;
        const w = conn.waiting;
        conn.waiting = null;
        if (w) w.resolve(body);
        else this.drop(new Error(`${url} answered a batch we did not send`), conn);
      });
    });
  }
}

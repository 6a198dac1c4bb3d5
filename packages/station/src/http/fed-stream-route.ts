import { FED_HEADERS, FedLineParams, ItemsBatch, ParleyError, parseWith } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { signResponse } from '../federation/signing.js';
import { channelKeys, newEphemeral, openFrame, STREAM_EPHEMERAL_HEADER, sealFrame } from '../federation/stream-channel.js';
import { SeqGapError } from '../lines/inbox.js';
import { lineById } from '../lines/line-store.js';
import { acceptPeerBatch } from '../lines/peer-batch.js';
import type { StationContext } from '../station-context.js';
import { toParleyError } from './errors.js';

const IDLE_LIMIT_MS = 60_000;

/**
 * The receiving end of a line's item stream over one WebSocket (see federation/stream-channel.ts):
 * the upgrade is a signed federation request whose signed body is the opener's ephemeral key;
 * we answer with ours, signed, then take MAC'd batches one after another and answer each with
 * what we hold, or a refusal with its stable code. A frame that fails its MAC or counter closes
 * the connection: nothing in it is read.
 */
export function fedStreamRoute(app: FastifyInstance, ctx: StationContext, verifyLinePeer: (req: FastifyRequest) => Promise<void>): void {
  app.get(
    '/fed/v1/lines/:lineId/stream',
    {
      websocket: true,
      schema: { params: FedLineParams },
      preValidation: async (req) => {
        const eph = req.headers[STREAM_EPHEMERAL_HEADER];
        const bytes = typeof eph === 'string' ? Buffer.from(eph, 'base64url') : Buffer.alloc(0);
        if (bytes.length !== 32) throw new ParleyError('FED_UNSIGNED', 'a stream request carries its ephemeral key');
        // What the opener signed as the body: its ephemeral key (so no one can swap it).
        req.rawBody = bytes;
        await verifyLinePeer(req);
      },
    },
    (socket: WebSocket, req: FastifyRequest) => {
      const lineId = (req.fedLine as { id: string }).id;
      const nonce = req.headers[FED_HEADERS.nonce] as string;
      const ours = newEphemeral();
      const keys = channelKeys(ours, req.rawBody as Buffer, nonce, 'acceptor');
      socket.send(
        JSON.stringify({
          ephemeral: Buffer.from(ours.publicKey).toString('base64url'),
          signature: signResponse(ctx.data.key, nonce, 101, ours.publicKey),
        }),
      );
      let received = 0;
      let sent = 0;
      // The opener closes a connection it has not used for 20 s; one silent for a minute is a
      // peer that went away without a word (its machine, or something in between).
      let idle = setTimeout(() => socket.terminate(), IDLE_LIMIT_MS);
      socket.on('close', () => clearTimeout(idle));
      let queue: Promise<void> = Promise.resolve();
      const reply = (body: object) => {
        if (socket.readyState === socket.OPEN) socket.send(sealFrame(keys.send, sent++, Buffer.from(JSON.stringify(body))));
      };
      const handle = async (frame: Buffer): Promise<void> => {
        const body = openFrame(keys.receive, received, frame);
        if (!body) {
          ctx.metrics.fedRefused.inc({ code: 'FED_BAD_SIGNATURE' });
          ctx.log.warn({ line: lineId }, 'a stream frame failed its MAC or counter; closing the connection');
          socket.close(1008, 'FED_BAD_SIGNATURE');
          return;
        }
        received++;
        try {
          let json: unknown;
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            throw new ParleyError('MALFORMED_JSON', 'a stream frame is not JSON');
          }
          const batch = parseWith(ItemsBatch, json, 'a batch of the stream');
          // Read per batch: a connection outlives changes of the line's row.
          const line = await lineById(ctx.db, lineId);
          if (!line) throw new ParleyError('FED_WRONG_LINE', 'no such line between our stations');
          reply({ ackedSeq: await acceptPeerBatch(ctx, line, batch.items) });
        } catch (e) {
          const err = toParleyError(e);
          ctx.metrics.fedRefused.inc({ code: err.code });
          reply(e instanceof SeqGapError ? { ...err.toBody(), ackedSeq: e.ackedSeq } : err.toBody());
        }
      };
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        clearTimeout(idle);
        idle = setTimeout(() => socket.terminate(), IDLE_LIMIT_MS);
        if (!isBinary) {
          socket.close(1003, 'binary frames only');
          return;
        }
        // One batch at a time, in order: each one's answer says what we hold after it.
        queue = queue.then(() => handle(data)).catch((err) => ctx.log.error({ err, line: lineId }, 'stream frame failed'));
      });
    },
  );
}

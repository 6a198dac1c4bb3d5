import type { FastifyRequest } from 'fastify';
import type { LineRow } from '../lines/line-store.js';

/**
 * What every federation route of one line needs from the federation plugin: the check that the
 * request is signed by the station pinned for that very line (run as `preValidation`), and the
 * line that check found.
 */
export interface LinePeerGuard {
  verify: (req: FastifyRequest) => Promise<void>;
  lineOf: (req: FastifyRequest) => LineRow;
}

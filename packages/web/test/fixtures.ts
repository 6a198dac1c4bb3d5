import type { LineRecord, RecordBody } from '../src/e2ee/line-engine.js';

let n = 0;
/** A record as a line's engine makes it; only what a test names differs from the defaults. */
export function record(over: Partial<Omit<LineRecord, 'body'>> & { pos: number; body?: RecordBody }): LineRecord {
  n++;
  const dir = over.dir ?? 'out';
  const station = dir === 'in' ? 'moscow' : 'washington';
  return {
    dir,
    seq: over.pos,
    sentAt: 1_700_000_000_000 + over.pos * 1000,
    storedAt: 1_700_000_000_000 + over.pos * 1000,
    clientId: null,
    envelope: { handle: 'chief', station },
    body: {
      t: 'text',
      text: `message ${n}`,
      from: { station, handle: 'chief', deviceId: 'device-0001' },
      verified: true,
      own: dir === 'out',
    },
    ...over,
  };
}

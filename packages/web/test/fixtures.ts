import type { Item } from '@parley/protocol';
import { encodeMessage } from '../src/message-codec.js';

let n = 0;
/** An item as the station streams it; only what a test names differs from the defaults. */
export function item(over: Partial<Item> & { pos: number }): Item {
  n++;
  return {
    dir: 'out',
    seq: over.pos,
    kind: 'message',
    payload: encodeMessage(`message ${n}`),
    sender: { handle: 'chief', station: over.dir === 'in' ? 'moscow' : 'washington' },
    clientId: null,
    sentAt: 1_700_000_000_000 + over.pos * 1000,
    storedAt: 1_700_000_000_000 + over.pos * 1000,
    ...over,
  };
}

import { type FedItem, ParleyError } from '@parley/protocol';
import type { StationContext } from '../station-context.js';
import { type NonceRecord, storeIncoming } from './inbox.js';
import { type LineRow, num } from './line-store.js';
import { checkPeerStreamItem } from './peer-items.js';
import { checkPeerTranslation } from './translations.js';

/**
 * A batch of the peer's stream, however it came (a signed POST or a frame of the stream's
 * WebSocket): checked item by item, then stored in one transaction. Returns the highest
 * contiguous sequence now held (what the peer may consider delivered); throws ParleyError
 * (SeqGapError with what we hold) when it is refused, with nothing stored.
 */
export async function acceptPeerBatch(ctx: StationContext, line: LineRow, items: FedItem[], nonce?: NonceRecord): Promise<number> {
  // Only MLS of this line's group crosses: nothing readable ever reaches our storage.
  for (const it of items) {
    const verdict = checkPeerStreamItem(line.id, it.kind, Buffer.from(it.payload, 'base64url'), line.role === 'acceptor');
    if (!verdict.ok) {
      ctx.log.warn({ line: line.name, seq: it.seq, reason: verdict.reason }, 'peer sent an item that is not MLS of this line');
      throw new ParleyError('FED_BAD_ITEM', `item ${it.seq}: ${verdict.reason}`);
    }
    if (it.kind === 'translation' && it.seq > num(line.in_seq)) {
      const why = await checkPeerTranslation(ctx.db, line, it, items);
      if (why) throw new ParleyError('FED_BAD_ITEM', `item ${it.seq}: ${why}`);
    }
  }
  const before = num(line.in_seq);
  const ackedSeq = await storeIncoming(ctx.db, ctx.hub, line.id, items, Date.now(), nonce);
  ctx.metrics.itemsReceived.inc(Math.max(0, ackedSeq - before));
  return ackedSeq;
}

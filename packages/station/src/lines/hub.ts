import { EventEmitter } from 'node:events';
import type { ItemsTable } from '../db/schema.js';

export type HubEvent =
  /** `rows`, when present, are the rows just committed, contiguous and in position order. */
  | { type: 'items'; lineId: string; lastPos: number; rows?: ItemsTable[] }
  | { type: 'delivered'; lineId: string; seq: number }
  | { type: 'health'; lineId: string }
  | { type: 'outbox'; lineId: string };

/**
 * In-process notifications after a commit. Listeners re-read the database rather than trust
 * event contents, so a missed or coalesced event can delay a client but never lose an item.
 */
export class Hub {
  private readonly emitter = new EventEmitter();
  /** Set when other processes of the same station must hear our events too. */
  relay: { publish(event: HubEvent): void } | null = null;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(event: HubEvent): void {
    this.emitLocal(event);
    // Other processes get the hint only: they read the rows from the database.
    this.relay?.publish(event.type === 'items' && event.rows ? { type: 'items', lineId: event.lineId, lastPos: event.lastPos } : event);
  }

  /** An event from another process: deliver here only. */
  emitLocal(event: HubEvent): void {
    this.emitter.emit(event.lineId, event);
    this.emitter.emit('*', event);
  }

  on(lineId: string | '*', listener: (event: HubEvent) => void): () => void {
    this.emitter.on(lineId, listener);
    return () => this.emitter.off(lineId, listener);
  }
}

import { EventEmitter } from 'node:events';

export type HubEvent =
  | { type: 'items'; lineId: string; lastPos: number }
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
    this.relay?.publish(event);
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

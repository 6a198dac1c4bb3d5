import type { Health } from '@parley/protocol';

export interface HealthInputs {
  now: number;
  intervalMs: number;
  lastContactAt: number | null;
  anyEndpointDown: boolean;
  /** Age of the oldest outgoing item the peer has not acknowledged, or null if none. */
  oldestUnackedAgeMs: number | null;
  /** How long the peer has reported items for us that we do not hold, or null if none. */
  inBacklogAgeMs: number | null;
  /** The peer answers but refuses our stream's next batch (the stream is held). */
  peerRefusing?: boolean;
}

/**
 * Pure: the same inputs always give the same lamp. `down` when nothing was heard for three
 * heartbeat intervals; `degraded` when the peer answers but one of its endpoints is out, it
 * refuses our stream's next batch, or traffic in either direction has not drained within two
 * intervals; otherwise `up`.
 */
export function computeHealth(h: HealthInputs): Health {
  if (h.lastContactAt === null || h.now - h.lastContactAt > 3 * h.intervalMs) return 'down';
  if (h.anyEndpointDown || h.peerRefusing) return 'degraded';
  if (h.oldestUnackedAgeMs !== null && h.oldestUnackedAgeMs > 2 * h.intervalMs) return 'degraded';
  if (h.inBacklogAgeMs !== null && h.inBacklogAgeMs > 2 * h.intervalMs) return 'degraded';
  return 'up';
}

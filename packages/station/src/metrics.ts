import type { LineSummary } from '@parley/protocol';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Db } from './db/open.js';
import type { LineManager } from './lines/line-manager.js';
import { allLines } from './lines/line-store.js';

const HEALTH_VALUE: Record<LineSummary['health'], number> = { down: 0, degraded: 1, up: 2 };

export function createMetrics(db: Db, lines: () => LineManager) {
  const registry = new Registry();
  const itemsAccepted = new Counter({
    name: 'parley_items_accepted_total',
    help: 'Items accepted from clients onto outgoing streams',
    registers: [registry],
  });
  const itemsReceived = new Counter({
    name: 'parley_items_received_total',
    help: 'Items stored from peer stations',
    registers: [registry],
  });
  const fedRefused = new Counter({
    name: 'parley_federation_refused_total',
    help: 'Federation requests refused, by error code',
    labelNames: ['code'],
    registers: [registry],
  });

  // Line gauges are computed at scrape time (never stale). prom-client collects gauges
  // concurrently, so one scrape shares one snapshot of the lines.
  let snapshot: { at: number; value: Promise<LineSummary[]> } | null = null;
  const summaries = (): Promise<LineSummary[]> => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at > 200) {
      snapshot = { at: now, value: allLines(db).then((rows) => Promise.all(rows.map((r) => lines().summary(r)))) };
    }
    return snapshot.value;
  };
  const lineGauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: LineSummary) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await summaries()) fill(this, s);
      },
    });
  lineGauge('parley_line_health', 'Line health: 2 up, 1 degraded, 0 down', ['line', 'peer'], (g, s) =>
    g.set({ line: s.name, peer: s.peer.name }, HEALTH_VALUE[s.health]),
  );
  lineGauge('parley_line_backlog', 'Items not yet delivered, by direction', ['line', 'direction'], (g, s) => {
    g.set({ line: s.name, direction: 'out' }, s.backlogOut);
    g.set({ line: s.name, direction: 'in' }, s.backlogIn);
  });
  lineGauge('parley_line_last_contact_seconds', 'Unix time of the last contact with the peer', ['line'], (g, s) => {
    if (s.lastContactAt !== null) g.set({ line: s.name }, s.lastContactAt / 1000);
  });
  return { registry, itemsAccepted, itemsReceived, fedRefused };
}

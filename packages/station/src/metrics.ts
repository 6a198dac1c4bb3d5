import type { LineSummary } from '@parley/protocol';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Db } from './db/open.js';
import type { LineManager } from './lines/line-manager.js';
import { allLines } from './lines/line-store.js';
import type { CallDesk } from './calls/call-desk.js';
import type { LineStats } from '@parley/calls';

const HEALTH_VALUE: Record<LineSummary['health'], number> = { down: 0, degraded: 1, up: 2 };

export function createMetrics(db: Db, lines: () => LineManager, calls: () => CallDesk) {
  const registry = new Registry();
  // Process figures (CPU, memory, event-loop delay percentiles): a line's latency tail is
  // mostly time its item waited for the event loop, and this is where an operator sees it.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 5 });
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
  lineGauge(
    'parley_line_peer_refusing',
    'The peer station refuses our stream\u2019s next item (1), holding the stream; code names its reason',
    ['line', 'code'],
    (g, s) => {
      if (s.peerRefusal) g.set({ line: s.name, code: s.peerRefusal.code }, 1);
    },
  );
  lineGauge('parley_line_last_contact_seconds', 'Unix time of the last contact with the peer', ['line'], (g, s) => {
    if (s.lastContactAt !== null) g.set({ line: s.name }, s.lastContactAt / 1000);
  });
  // Duty-officer figures from each line's calls and test messages (issue 6).
  let statsSnap: { at: number; value: Promise<{ name: string; stats: LineStats }[]> } | null = null;
  const lineStatsNow = () => {
    const now = Date.now();
    if (!statsSnap || now - statsSnap.at > 200) {
      statsSnap = {
        at: now,
        value: allLines(db).then((rows) =>
          Promise.all(rows.map(async (r) => ({ name: r.name, stats: calls().stats(await calls().books(r)) }))),
        ),
      };
    }
    return statsSnap.value;
  };
  const statsGauge = (name: string, help: string, fill: (g: Gauge, line: string, s: LineStats) => void) =>
    new Gauge({
      name,
      help,
      labelNames: ['line'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const l of await lineStatsNow()) fill(this, l.name, l.stats);
      },
    });
  statsGauge('parley_line_unanswered', '1 while a test message or call request on the line is unanswered', (g, line, s) =>
    g.set({ line }, s.unanswered ? 1 : 0),
  );
  statsGauge('parley_line_availability', 'Share of test messages acknowledged in time over the last 7 days', (g, line, s) => {
    if (s.availability !== null) g.set({ line }, s.availability);
  });
  statsGauge('parley_line_unanswered_count', 'Test messages and call requests not acknowledged in time, last 7 days', (g, line, s) =>
    g.set({ line }, s.unansweredCount),
  );
  statsGauge('parley_line_test_ack_p50_seconds', 'Median time to acknowledge a test message, last 7 days', (g, line, s) => {
    if (s.tests.ackP50Ms !== null) g.set({ line }, s.tests.ackP50Ms / 1000);
  });
  return { registry, itemsAccepted, itemsReceived, fedRefused };
}

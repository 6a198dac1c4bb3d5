import type { Logger } from 'pino';
import type { Registry, Counter } from 'prom-client';
import type { LoginThrottle } from './auth/login-throttle.js';
import type { DataDir } from './config/data-dir.js';
import type { Db } from './db/open.js';
import type { Hub } from './lines/hub.js';
import type { ArchiveKey } from './e2ee/archive-key.js';
import type { LineManager } from './lines/line-manager.js';
import type { Outbox } from './lines/outbox.js';
import type { CallDesk } from './calls/call-desk.js';
import type { RecordService } from './record/record-service.js';

/** What every HTTP plugin of a running station may use. */
export interface StationContext {
  data: DataDir;
  db: Db;
  log: Logger;
  hub: Hub;
  outbox: Outbox;
  lines: LineManager;
  /** Calls on each line: ordered by the hub, deadlines run by the process holding the line. */
  calls: CallDesk;
  /** The joint record of each line: folded from the hub's stream, heads cosigned with the peer. */
  record: RecordService;
  /** Seals the recorders' keys, group states and archives; kept outside the database. */
  archiveKey: ArchiveKey;
  /** Failed logins per handle (tight) and per client address (loose: an operations centre shares one). */
  throttle: { byHandle: LoginThrottle; byAddress: LoginThrottle };
  metrics: {
    registry: Registry;
    itemsAccepted: Counter;
    itemsReceived: Counter;
    fedRefused: Counter;
  };
}

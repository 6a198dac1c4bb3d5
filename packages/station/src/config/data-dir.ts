import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StationIce } from '@parley/calls';
import { HttpUrl, ParleyError, parseWith } from '@parley/protocol';
import Type, { type Static } from 'typebox';
import { StationKey } from '../identity/station-key.js';

export const StationConfig = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }),
    /** Advertised URLs, in preference order. The station listens on each one's host and port. */
    urls: Type.Array(HttpUrl, { minItems: 1, maxItems: 8 }),
    /** Where to listen, when that differs from what peers are told (a proxy or load balancer in front). */
    listen: Type.Optional(Type.Array(HttpUrl, { minItems: 1, maxItems: 8 })),
    heartbeatMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    /** postgres://… to share one database between several station processes; absent: SQLite in the data directory. */
    database: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', maxLength: 500 })),
    /** ICE servers (STUN, TURN) for the web app's voice; PARLEY_ICE_SERVERS overrides. See docs/turn.md. */
    ice: Type.Optional(StationIce),
    /**
     * Reverse proxies / load balancers (IP, CIDR, or loopback|linklocal|uniquelocal) whose
     * X-Forwarded-For names the client; PARLEY_TRUST_PROXY overrides. See http/trust-proxy.ts.
     */
    trustProxy: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32 })),
  },
  { additionalProperties: false },
);
export type StationConfig = Static<typeof StationConfig>;

export interface DataDir {
  dir: string;
  config: StationConfig;
  key: StationKey;
  dbFile: string;
}

const CONFIG = 'station.json';
const KEY = 'station.key';

export function initDataDir(
  dir: string,
  name: string,
  urls: string[],
  opts: { heartbeatMs?: number; listen?: string[]; database?: string } = {},
): DataDir {
  const abs = resolve(dir);
  if (existsSync(join(abs, CONFIG))) {
    throw new ParleyError('DATA_DIR_EXISTS', `${abs} already holds a station`, 'choose another --data directory');
  }
  const config = parseWith(
    StationConfig,
    {
      version: 1,
      name,
      urls,
      heartbeatMs: opts.heartbeatMs ?? 10_000,
      ...(opts.listen ? { listen: opts.listen } : {}),
      ...(opts.database ? { database: opts.database } : {}),
    },
    'station settings',
  );
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  const key = StationKey.generate();
  // The key is written before the config so a crash in between leaves no half-made station.
  writeFileSync(join(abs, KEY), key.exportPrivatePem(), { mode: 0o600 });
  chmodSync(join(abs, KEY), 0o600);
  writeFileSync(join(abs, CONFIG), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { dir: abs, config, key, dbFile: join(abs, 'station.db') };
}

export function loadDataDir(dir: string): DataDir {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory() || !existsSync(join(abs, CONFIG))) {
    throw new ParleyError(
      'DATA_DIR_MISSING',
      `no station in ${abs}`,
      'run `parley station init --data DIR --name NAME --url URL` first, or check --data',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(abs, CONFIG), 'utf8'));
  } catch {
    throw new ParleyError('DATA_DIR_CORRUPT', `${join(abs, CONFIG)} is not valid JSON`, 'restore it from a backup');
  }
  let config: StationConfig;
  try {
    config = parseWith(StationConfig, raw, CONFIG);
  } catch (e) {
    throw new ParleyError('DATA_DIR_CORRUPT', (e as Error).message, 'restore station.json from a backup');
  }
  let key: StationKey;
  try {
    key = StationKey.fromPem(readFileSync(join(abs, KEY), 'utf8'));
  } catch {
    throw new ParleyError('DATA_DIR_CORRUPT', `the station key in ${abs} is missing or unreadable`, 'restore station.key from a backup');
  }
  return { dir: abs, config, key, dbFile: join(abs, 'station.db') };
}

export function saveConfig(data: DataDir, config: StationConfig): void {
  writeFileSync(join(data.dir, CONFIG), `${JSON.stringify(parseWith(StationConfig, config, 'station settings'), null, 2)}\n`, {
    mode: 0o600,
  });
}

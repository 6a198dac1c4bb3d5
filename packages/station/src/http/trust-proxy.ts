import { isIP } from 'node:net';
import { ParleyError } from '@parley/protocol';

// Behind a reverse proxy or load balancer every request comes from the proxy's address, so the
// per-address login throttle would count all clients as one: fifty wrong passwords from anyone
// would lock every officer out of logging in for fifteen minutes. A station told which
// addresses are its proxies takes the client's address from X-Forwarded-For on requests from
// them (and only from them: anyone else could write that header to dodge the throttle).

/** Names proxy-addr (Fastify's trustProxy) knows for whole ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function isProxyAddress(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [ip, prefix, extra] = entry.split('/');
  if (extra !== undefined || ip === undefined) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The addresses whose X-Forwarded-For the station believes: PARLEY_TRUST_PROXY (comma-separated)
 * when set, else station.json's `trustProxy`, else none. Checked at start, so a typo stops the
 * station with CONFIG_INVALID instead of silently throttling everyone as one.
 */
export function resolveTrustProxy(
  fromConfig: readonly string[] | undefined,
  env: string | undefined = process.env.PARLEY_TRUST_PROXY,
): string[] {
  const fromEnv = env !== undefined && env.trim() !== '';
  const list = fromEnv
    ? env
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...(fromConfig ?? [])];
  const bad = list.find((e) => !isProxyAddress(e));
  if (bad !== undefined) {
    throw new ParleyError(
      'CONFIG_INVALID',
      `${fromEnv ? 'PARLEY_TRUST_PROXY' : 'station.json trustProxy'}: "${bad}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`,
      'list your reverse proxies, e.g. 127.0.0.1 or 10.0.0.0/24',
    );
  }
  return list;
}

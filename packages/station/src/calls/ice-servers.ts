import { createHmac } from 'node:crypto';
import { checkStationIce, type IceResponse, type StationIce } from '@parley/calls';
import { ParleyError } from '@parley/protocol';

// The ICE servers this station hands its web clients for voice: station.json `ice`, or the
// environment's PARLEY_ICE_SERVERS (the same JSON), checked when the station starts, so a typo
// stops the station with ICE_CONFIG_INVALID instead of leaving calls without a relay.

const DEFAULT_TTL_S = 12 * 3600;

/** The station's ICE setting: PARLEY_ICE_SERVERS when set, else station.json's, else none. */
export function resolveIceSetting(
  fromConfig: StationIce | undefined,
  env: string | undefined = process.env.PARLEY_ICE_SERVERS,
): StationIce {
  let raw: unknown = fromConfig ?? { servers: [] };
  let where = 'station.json ice';
  if (env !== undefined && env.trim() !== '') {
    where = 'PARLEY_ICE_SERVERS';
    try {
      raw = JSON.parse(env);
    } catch {
      throw new ParleyError('ICE_CONFIG_INVALID', `${where} is not JSON`, 'see docs/turn.md for its form');
    }
  }
  const r = checkStationIce(raw);
  if (!r.ok) throw new ParleyError('ICE_CONFIG_INVALID', `${where}: ${r.error.message}`, 'see docs/turn.md for its form');
  return r.value;
}

/**
 * RTCConfiguration.iceServers for one member. A `turn` entry gets coturn's time-limited
 * credentials (`use-auth-secret`): username `<expiry unix seconds>:<station>/<handle>`,
 * password base64(HMAC-SHA1(secret, username)).
 */
export function iceServersFor(setting: StationIce, who: { station: string; handle: string }, nowMs: number): IceResponse {
  const out: IceResponse = { iceServers: setting.servers.map((s) => ({ ...s })) };
  if (setting.turn) {
    const ttl = setting.turn.ttlSeconds ?? DEFAULT_TTL_S;
    const username = `${Math.floor(nowMs / 1000) + ttl}:${who.station}/${who.handle}`;
    const credential = createHmac('sha1', setting.turn.secret).update(username).digest('base64');
    out.iceServers.push({ urls: [...setting.turn.urls], username, credential });
    out.ttlSeconds = ttl;
  }
  return out;
}

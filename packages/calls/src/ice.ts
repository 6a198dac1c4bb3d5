import Type, { type Static } from 'typebox';
import type { Refusal } from './errors.js';
import { checkWith } from './schema-check.js';

// ICE servers a station hands its web clients for voice (STUN to learn a public address, TURN to
// relay through the station's own coturn when two browsers cannot reach each other directly).
// The station's setting (station.json `ice`, or PARLEY_ICE_SERVERS) and what
// GET /api/v1/ice answers are checked against these closed schemas. See docs/turn.md.

const closed = { additionalProperties: false } as const;

/** stun:, turn: or turns: with a host, an optional port and, for TURN, an optional ?transport=udp|tcp. */
export const IceUrl = Type.String({
  maxLength: 512,
  pattern: '^(stun|stuns):[A-Za-z0-9.\\-\\[\\]:]+$|^(turn|turns):[A-Za-z0-9.\\-\\[\\]:]+(\\?transport=(udp|tcp))?$',
});

/** One entry of RTCConfiguration.iceServers. */
export const IceServer = Type.Object(
  {
    urls: Type.Union([IceUrl, Type.Array(IceUrl, { minItems: 1, maxItems: 8 })]),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    credential: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  closed,
);
export type IceServer = Static<typeof IceServer>;

/**
 * A station's ICE setting. `servers` go to clients as they are (STUN, or TURN with a fixed user);
 * `turn` is a TURN relay sharing a secret with the station (coturn's `use-auth-secret`): the
 * station mints each signed-in member a time-limited username and password from it (the "TURN
 * REST API" scheme), so the secret never reaches a browser.
 */
export const StationIce = Type.Object(
  {
    servers: Type.Array(IceServer, { maxItems: 8 }),
    turn: Type.Optional(
      Type.Object(
        {
          urls: Type.Array(IceUrl, { minItems: 1, maxItems: 8 }),
          secret: Type.String({ minLength: 16, maxLength: 512 }),
          /** How long minted credentials last; default 12 hours. */
          ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type StationIce = Static<typeof StationIce>;

/** What GET /api/v1/ice answers: RTCConfiguration.iceServers, empty for host candidates only. */
export const IceResponse = Type.Object(
  {
    iceServers: Type.Array(IceServer, { maxItems: 9 }),
    /** Seconds the minted TURN credentials stay valid, when there are any. */
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);
export type IceResponse = Static<typeof IceResponse>;

export function checkStationIce(value: unknown): { ok: true; value: StationIce } | Refusal {
  const r = checkWith(StationIce, value, 'ICE setting', 'ICE_CONFIG_INVALID');
  if (!r.ok) return r;
  for (const s of r.value.servers) {
    const urls = typeof s.urls === 'string' ? [s.urls] : s.urls;
    if (urls.some((u) => u.startsWith('turn')) && (s.username === undefined || s.credential === undefined)) {
      return {
        ok: false,
        error: { code: 'ICE_CONFIG_INVALID', message: `ICE setting: the TURN server ${urls[0]} needs a username and a credential` },
      };
    }
  }
  return r;
}

export function checkIceResponse(value: unknown): { ok: true; value: IceResponse } | Refusal {
  return checkWith(IceResponse, value, 'ICE servers', 'ICE_CONFIG_INVALID');
}

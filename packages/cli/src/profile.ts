import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ParleyError, parseWith } from '@parley/protocol';
import Type, { type Static } from 'typebox';

/** A CLI device: which station, who, and the bearer token. Kept 0600 like an SSH key. */
export const Profile = Type.Object(
  {
    version: Type.Literal(1),
    station: Type.String(),
    stationName: Type.String(),
    stationFingerprint: Type.String(),
    handle: Type.String(),
    deviceId: Type.String(),
    token: Type.String(),
    expiresAt: Type.Integer(),
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof Profile>;

export function saveProfile(dir: string, profile: Profile): void {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  writeFileSync(join(abs, 'profile.json'), `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  chmodSync(join(abs, 'profile.json'), 0o600);
}

export function loadProfile(dir: string): Profile {
  const file = join(resolve(dir), 'profile.json');
  if (!existsSync(file)) {
    throw new ParleyError(
      'PROFILE_MISSING',
      `no profile in ${resolve(dir)}`,
      'run `parley login --station URL --handle H --profile DIR` first',
    );
  }
  try {
    return parseWith(Profile, JSON.parse(readFileSync(file, 'utf8')), 'profile.json');
  } catch (e) {
    throw new ParleyError('PROFILE_MISSING', `the profile in ${resolve(dir)} is unreadable: ${(e as Error).message}`, 'log in again');
  }
}

import { ParleyError } from '@parley/protocol';

/**
 * Slows password guessing: after `limit` failures for one handle (or from one address)
 * within `windowMs`, further attempts are refused until the window passes, even with the
 * right password. Kept in memory: a restart forgets it, which only ever helps the
 * legitimate user; a multi-process station would move this into the database.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  check(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.limit) {
        const retryIn = Math.ceil(((recent[0] as number) + this.windowMs - now) / 1000);
        throw new ParleyError('RATE_LIMITED', 'too many failed attempts', `wait ${retryIn} s and try again`);
      }
    }
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) this.failures.set(key, [...this.recent(key, now), now]);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}

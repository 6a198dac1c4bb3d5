import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { ParleyError } from './errors.js';

interface CompiledCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { instancePath: string; message: string }[];
}
const cache = new WeakMap<TSchema, CompiledCheck>();

/**
 * Check untrusted data (a file, a peer's reply, a CLI argument) against a schema.
 * Throws VALIDATION_FAILED naming the first offending path; returns the value typed.
 */
export function parseWith<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  let validator = cache.get(schema);
  if (!validator) {
    validator = Compile(schema) as unknown as CompiledCheck;
    cache.set(schema, validator);
  }
  if (validator.Check(value)) return value as Static<T>;
  const first = validator.Errors(value)[0];
  const where = first ? `${first.instancePath || '/'}: ${first.message}` : 'invalid';
  throw new ParleyError('VALIDATION_FAILED', `${what} is not valid (${where})`);
}

import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { type CallErrorCode, type Refusal, refuse } from './errors.js';

interface CompiledCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { instancePath: string; message: string }[];
}
const cache = new WeakMap<TSchema, CompiledCheck>();

/**
 * Check an untrusted value against a closed schema. Unlike @parley/protocol's parseWith this
 * returns a refusal instead of throwing, like every other function of this package.
 */
export function checkWith<T extends TSchema>(
  schema: T,
  value: unknown,
  what: string,
  code: CallErrorCode = 'CALL_MALFORMED',
): { ok: true; value: Static<T> } | Refusal {
  let validator = cache.get(schema);
  if (!validator) {
    validator = Compile(schema) as unknown as CompiledCheck;
    cache.set(schema, validator);
  }
  if (validator.Check(value)) return { ok: true, value: value as Static<T> };
  const first = validator.Errors(value)[0];
  return refuse(code, `${what} is not valid (${first ? `${first.instancePath || '/'}: ${first.message}` : 'invalid'})`);
}

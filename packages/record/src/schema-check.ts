// Schema checks that report every problem with its JSON pointer, not only the first (the
// verifier's report must say exactly what is wrong with a file).
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export interface SchemaError {
  /** JSON pointer into the checked value ('' is the value itself). */
  path: string;
  message: string;
}

interface CompiledCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { keyword: string; instancePath: string; message: string }[];
}
const cache = new WeakMap<TSchema, CompiledCheck>();

const MAX_ERRORS = 50;

export function schemaErrors(schema: TSchema, value: unknown, prefix = ''): SchemaError[] {
  let check = cache.get(schema);
  if (!check) {
    check = Compile(schema) as unknown as CompiledCheck;
    cache.set(schema, check);
  }
  if (check.Check(value)) return [];
  const out: SchemaError[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(value)) {
    // A closed object reports an unknown member twice: once on the member (`boolean` schema
    // false) and once on the object. Keep the first, which names the member.
    if (e.keyword === 'additionalProperties') continue;
    const message = e.keyword === 'boolean' ? 'unknown field' : e.message;
    const path = prefix + e.instancePath;
    const key = `${path}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
    if (out.length >= MAX_ERRORS) break;
  }
  if (out.length === 0) out.push({ path: prefix, message: 'does not match the schema' });
  return out;
}

// The record's canonical encoding: one byte string per value, so that both stations (and any
// later verifier) hash and sign exactly the same bytes for the same entry or head.
//
// It is JSON (RFC 8259) restricted so that it has one spelling:
//   - object members sorted by key, comparing UTF-16 code units (what Array.prototype.sort does);
//     members whose value is `undefined` are left out (an absent optional field);
//   - no whitespace anywhere;
//   - numbers are safe integers only (|n| <= 2^53 - 1), written in decimal without exponent,
//     `-0` written as `0`; fractions, NaN and infinities are refused;
//   - strings written as ECMAScript JSON.stringify writes them (`"` and `\` escaped, control
//     characters as \b \f \n \r \t or \u00XX, lone surrogates as \uDXXX, everything else as is);
//     no Unicode normalisation;
//   - the text is encoded as UTF-8.
// For the values the record uses (ASCII keys, integers) this is the same as RFC 8785 (JCS).
import { utf8 } from '@parley/protocol/bytes';

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  return write(value, []);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/** Where a value sits, as a JSON Pointer: spelled out only for an error (a station loading its record encodes every entry again). */
const where = (path: readonly (string | number)[]) => `/${path.join('/')}`;

function write(value: unknown, path: (string | number)[]): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(`${where(path)}: ${value} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          items.push(write(value[i], path));
          path.pop();
        }
        return `[${items.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(`${where(path)}: not a plain object`);
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v === undefined) continue;
        path.push(key);
        members.push(`${JSON.stringify(key)}:${write(v, path)}`);
        path.pop();
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`${where(path)}: a ${typeof value} has no JSON form`);
  }
}

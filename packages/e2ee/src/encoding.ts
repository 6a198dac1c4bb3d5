// A small length-prefixed binary format for Parley's own records (device state, bindings,
// credential identities, wrapped group state). MLS structures keep MLS's own TLS encoding; this
// is only for what Parley adds around them. Big-endian, no optional fields, exact lengths:
// every record has exactly one encoding, so signatures over encodings are unambiguous.
import { E2eeError, type E2eeErrorCode } from './errors.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(part: Uint8Array): this {
    this.parts.push(part);
    this.length += part.length;
    return this;
  }

  u8(n: number): this {
    return this.push(Uint8Array.of(n & 0xff));
  }

  u16(n: number): this {
    return this.push(Uint8Array.of((n >>> 8) & 0xff, n & 0xff));
  }

  u32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return this.push(b);
  }

  /** A non-negative safe integer (timestamps, epochs) as 64 bits. */
  u64(n: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return this.push(b);
  }

  /** Fixed-length bytes whose length both sides already know. */
  raw(bytes: Uint8Array): this {
    return this.push(bytes.slice());
  }

  /** Variable-length bytes with a 32-bit length prefix. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  string(text: string): this {
    return this.bytes(utf8Encoder.encode(text));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export class Reader {
  private offset = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly code: E2eeErrorCode,
    private readonly what: string,
  ) {}

  fail(detail: string): never {
    throw new E2eeError(this.code, `${this.what}: ${detail}`);
  }

  private take(n: number): Uint8Array {
    if (n > this.buf.length - this.offset) this.fail('truncated');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u16(): number {
    const b = this.take(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }

  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(): number {
    const b = this.take(8);
    const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('integer out of range');
    return Number(n);
  }

  raw(n: number): Uint8Array {
    return this.take(n).slice();
  }

  bytes(max = 1 << 24): Uint8Array {
    const n = this.u32();
    if (n > max) this.fail('field too long');
    return this.raw(n);
  }

  string(max = 1024): string {
    try {
      return utf8Decoder.decode(this.bytes(max));
    } catch (e) {
      if (e instanceof E2eeError) throw e;
      return this.fail('invalid UTF-8');
    }
  }

  /** Expect a fixed magic prefix (record type and version). */
  magic(expected: Uint8Array): void {
    const got = this.take(expected.length);
    if (!bytesEqual(got, expected)) this.fail('not this kind of record, or an unknown version');
  }

  /** The rest of the buffer. */
  rest(): Uint8Array {
    return this.take(this.buf.length - this.offset).slice();
  }

  end(): void {
    if (this.offset !== this.buf.length) this.fail('trailing bytes');
  }
}

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

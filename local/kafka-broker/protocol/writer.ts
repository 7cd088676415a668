/**
 * Growable big-endian writer for Kafka wire primitives (non-flexible versions).
 * @module
 */

/**
 * Appends Kafka primitives to a growable buffer. Methods chain.
 *
 * @example
 * const w = new Writer().int16(0).array(topics, (w, t) => w.string(t));
 * const body = w.toBuffer();
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): number {
    const need = this.pos + n;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos = need;
    return at;
  }

  int8(v: number): this {
    const at = this.ensure(1);
    this.buf.writeInt8(v, at);
    return this;
  }

  int16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeInt16BE(v, at);
    return this;
  }

  int32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeInt32BE(v, at);
    return this;
  }

  uint32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  /** int64 from a bigint or a safe-integer number (e.g. -1 sentinels, offsets). */
  int64(v: bigint | number): this {
    const at = this.ensure(8);
    this.buf.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(v), at);
    return this;
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.int16(len);
    const at = this.ensure(len);
    this.buf.write(s, at, len, 'utf8');
    return this;
  }

  nullableString(s: string | null | undefined): this {
    if (s === null || s === undefined) return this.int16(-1);
    return this.string(s);
  }

  /** int32-length-prefixed bytes; `null` writes length -1. */
  bytes(b: Buffer | null | undefined): this {
    if (b === null || b === undefined) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }

  /** Bytes without a length prefix. */
  raw(b: Buffer): this {
    const at = this.ensure(b.length);
    b.copy(this.buf, at);
    return this;
  }

  array<T>(items: readonly T[], fn: (w: Writer, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) fn(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null | undefined, fn: (w: Writer, item: T) => void): this {
    if (items === null || items === undefined) return this.int32(-1);
    return this.array(items, fn);
  }

  /** Unsigned LEB128 varint. */
  uvarint(v: number): this {
    let n = v >>> 0;
    while (n >= 0x80) {
      const at = this.ensure(1);
      this.buf.writeUInt8((n & 0x7f) | 0x80, at);
      n >>>= 7;
    }
    const at = this.ensure(1);
    this.buf.writeUInt8(n, at);
    return this;
  }

  /** Zig-zag signed varint (int32). */
  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag signed varlong (int64). */
  varlong(v: bigint | number): this {
    const b = BigInt.asIntN(64, typeof v === 'bigint' ? v : BigInt(v));
    let n = BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
    while (n >= 0x80n) {
      const at = this.ensure(1);
      this.buf.writeUInt8(Number(n & 0x7fn) | 0x80, at);
      n >>= 7n;
    }
    const at = this.ensure(1);
    this.buf.writeUInt8(Number(n), at);
    return this;
  }

  /**
   * The bytes written so far, as a view (no copy). Later writes never change them: they go past
   * the end or into a reallocated buffer.
   */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Bounds-checked big-endian reader for Kafka wire primitives (non-flexible versions).
 * @module
 */

/** Thrown when a request cannot be decoded (read past the end, negative length, bad varint). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * Reads Kafka primitives from a Buffer, advancing an internal cursor.
 * Every read past the end throws {@link ProtocolError}; nothing returns garbage.
 *
 * @example
 * const r = new Reader(body);
 * const topics = r.array(() => r.string());
 */
export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
  ) {
    this.pos = offset;
  }

  /** Current cursor position. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes not read yet. */
  remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProtocolError(`read of ${n} bytes at ${this.pos} past end (${this.buf.length})`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.take(8));
  }

  /** int64 as a JS number; throws when it does not fit exactly (|n| > 2^53). */
  int64AsNumber(): number {
    const v = this.int64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ProtocolError(`int64 ${v} does not fit a safe integer`);
    }
    return Number(v);
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  /** Non-null string; a null (-1) length is a protocol error. */
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolError('unexpected null string');
    return s;
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`bad string length ${len}`);
    const at = this.take(len);
    return this.buf.toString('utf8', at, at + len);
  }

  /** Non-null bytes (a view into the underlying buffer; copy before keeping it). */
  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw new ProtocolError('unexpected null bytes');
    return b;
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`bad bytes length ${len}`);
    const at = this.take(len);
    return this.buf.subarray(at, at + len);
  }

  /** Raw bytes of a known length (a view). */
  raw(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  /**
   * Nullable int32-counted array; `null` for count -1.
   * The count is checked against the remaining bytes so a hostile count cannot allocate huge arrays.
   */
  array<T>(fn: (r: Reader) => T): T[] | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0 || n > this.remaining()) throw new ProtocolError(`bad array length ${n}`);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = fn(this);
    return out;
  }

  /** Like {@link array} but a null array is a protocol error. */
  nonNullArray<T>(fn: (r: Reader) => T): T[] {
    const a = this.array(fn);
    if (a === null) throw new ProtocolError('unexpected null array');
    return a;
  }

  /** Unsigned LEB128 varint (up to 32 bits). */
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf.readUInt8(this.take(1));
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new ProtocolError('varint too long');
  }

  /** Zig-zag signed varint (int32). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zig-zag signed varlong (int64) as bigint. */
  varlong(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.buf.readUInt8(this.take(1));
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (result >> 1n) ^ -(result & 1n);
    }
    throw new ProtocolError('varlong too long');
  }
}

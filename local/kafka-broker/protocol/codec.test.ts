import { describe, expect, it } from 'vitest';
import { ProtocolError, Reader } from './reader.ts';
import { Writer } from './writer.ts';

describe('Reader/Writer', () => {
  it('round-trips every primitive', () => {
    const w = new Writer(4)
      .int8(-5)
      .int16(-300)
      .int32(123456789)
      .int64(-1)
      .int64(2n ** 40n)
      .boolean(true)
      .string('héllo')
      .nullableString(null)
      .bytes(Buffer.from([1, 2, 3]))
      .bytes(null)
      .array(['a', 'b'], (w, s) => w.string(s))
      .nullableArray(null, (w, s: string) => w.string(s))
      .varint(-1)
      .varint(300)
      .varint(-2147483648)
      .varlong(-1n)
      .varlong(2n ** 62n);
    const r = new Reader(w.toBuffer());
    expect(r.int8()).toBe(-5);
    expect(r.int16()).toBe(-300);
    expect(r.int32()).toBe(123456789);
    expect(r.int64()).toBe(-1n);
    expect(r.int64AsNumber()).toBe(2 ** 40);
    expect(r.boolean()).toBe(true);
    expect(r.string()).toBe('héllo');
    expect(r.nullableString()).toBeNull();
    expect([...r.bytes()]).toEqual([1, 2, 3]);
    expect(r.nullableBytes()).toBeNull();
    expect(r.array((r) => r.string())).toEqual(['a', 'b']);
    expect(r.array((r) => r.string())).toBeNull();
    expect(r.varint()).toBe(-1);
    expect(r.varint()).toBe(300);
    expect(r.varint()).toBe(-2147483648);
    expect(r.varlong()).toBe(-1n);
    expect(r.varlong()).toBe(2n ** 62n);
    expect(r.remaining()).toBe(0);
  });

  it('throws ProtocolError on reads past the end', () => {
    expect(() => new Reader(Buffer.from([0])).int16()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0, 5, 65])).string()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8())).toThrow(
      ProtocolError,
    );
    expect(() => new Reader(Buffer.from([0xff, 0xff])).varint()).toThrow(ProtocolError);
  });
});

// Bounded big-endian reads from a byte array. Reads past the end throw a Qcow2Error naming the
// structure and the absolute file offset, so a truncated structure is reported, never misread.

import { Qcow2Error } from './errors';

export class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    /** Absolute file offset of bytes[0]. */
    readonly base: number,
    readonly structure: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  has(pos: number, n: number): boolean {
    return pos >= 0 && n >= 0 && pos + n <= this.bytes.length;
  }

  private need(pos: number, n: number): void {
    if (!this.has(pos, n)) {
      throw new Qcow2Error('TRUNCATED', this.structure, this.base + pos,
        `${this.structure}: need ${n} bytes at file offset ${this.base + pos}, but only ${Math.max(0, this.bytes.length - pos)} are there`);
    }
  }

  u8(pos: number): number {
    this.need(pos, 1);
    return this.view.getUint8(pos);
  }
  u16(pos: number): number {
    this.need(pos, 2);
    return this.view.getUint16(pos);
  }
  u32(pos: number): number {
    this.need(pos, 4);
    return this.view.getUint32(pos);
  }
  u64(pos: number): bigint {
    this.need(pos, 8);
    return this.view.getBigUint64(pos);
  }
  slice(pos: number, n: number): Uint8Array {
    this.need(pos, n);
    return this.bytes.subarray(pos, pos + n);
  }
}

/** Converts a bigint proven small to a number; values ≥ 2^53 become Infinity-safe sentinels. */
export function toNum(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER;
}

// ignoreBOM keeps a leading U+FEFF: it is part of the name, not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
/** Decodes UTF-8, replacing invalid sequences with U+FFFD. The result is data, never markup. */
export function decodeUtf8(b: Uint8Array): string {
  return utf8.decode(b);
}
/** Decodes a NUL-padded fixed-width ASCII field. */
export function decodeCString(b: Uint8Array): string {
  const z = b.indexOf(0);
  return utf8.decode(z < 0 ? b : b.subarray(0, z));
}

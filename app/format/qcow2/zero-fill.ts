// Reads the way QEMU's block layer does: bytes past the end of the file read as zeros
// (block/io.c zero-fills a read beyond the node's length). The metadata loaders use this so that
// what they parse is what QEMU parses, and report separately that the structure runs past EOF.

import type { ByteSource } from './source';

/** Reads exactly `length` bytes at `offset`, zeros past the end of the file. */
export async function readZeroFilled(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const got = offset < src.size ? await src.read(offset, length) : new Uint8Array(0);
  if (got.length === length) return got;
  const out = new Uint8Array(length);
  out.set(got.subarray(0, length));
  return out;
}

/**
 * A growing window over a variable-length table (e.g. the snapshot table), read in chunks of at
 * least `chunk` bytes and zero-filled past the end of the file. `bytes(pos, n)` returns the n bytes
 * at table position `pos` (relative to `base`); callers bound `pos + n` before asking.
 */
export class ZeroFilledWindow {
  private buf = new Uint8Array(0);
  /** Whether any byte handed out lay past the end of the file. */
  pastEof = false;

  constructor(
    private readonly src: ByteSource,
    readonly base: number,
    /** Growth never reads beyond this table position unless a request needs it. */
    private readonly limit: number,
    private readonly chunk = 64 * 1024,
  ) {}

  /** The n bytes at `pos` when already read (no await needed), else null: call bytes(). */
  peek(pos: number, n: number): Uint8Array | null {
    if (pos + n > this.buf.length) return null;
    if (this.base + pos + n > this.src.size) this.pastEof = true;
    return this.buf.subarray(pos, pos + n);
  }

  async bytes(pos: number, n: number): Promise<Uint8Array> {
    if (pos + n > this.buf.length) {
      const want = Math.max(pos + n, Math.min(this.limit, Math.max(this.buf.length + this.chunk, this.buf.length * 2)));
      const more = await readZeroFilled(this.src, this.base + this.buf.length, want - this.buf.length);
      const next = new Uint8Array(want);
      next.set(this.buf);
      next.set(more, this.buf.length);
      this.buf = next;
    }
    if (this.base + pos + n > this.src.size) this.pastEof = true;
    return this.buf.subarray(pos, pos + n);
  }
}

/**
 * Whether a table entry (a bitmap directory or snapshot table entry) was read wholly or partly past
 * the end of the file: its bytes are QEMU's zeros, not content, and it is never shown as real.
 */
export function entryPastEnd(e: { readonly entryOffset: number; readonly entryLength: number }, fileSize: number): boolean {
  return e.entryOffset + Math.max(e.entryLength, 1) > fileSize;
}

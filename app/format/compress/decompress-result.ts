// What decompressing one compressed cluster gave (app/format/decompress.ts), and the wording of
// QEMU's verdict on it, shared by the deflate and zstd halves.

export interface Decompressed {
  /** The decompressed bytes (at most one cluster), or null when nothing could be decompressed. */
  readonly bytes: Uint8Array | null;
  /** What QEMU would make of it, when not a full cluster: null means QEMU reads it fine. */
  readonly problem: string | null;
}

export const fails = (why: string): string => `${why}: QEMU fails to read it (I/O error)`;

export function shortOf(n: number, cs: number): string | null {
  return n === cs ? null : fails(`decompresses to ${n} bytes, not the ${cs} of a cluster`);
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

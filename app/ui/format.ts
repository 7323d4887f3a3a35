// Number and date formats shared by the panels. Pure functions: strings for people to read.

/** Bytes with a binary unit: "64 KiB", "1.5 GiB", "512 B". */
export function formatBytes(n: number | bigint): string {
  const v = typeof n === 'bigint' ? Number(n) : n;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let x = Math.abs(v);
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  const digits = u === 0 || Number.isInteger(x) ? 0 : x < 10 ? 2 : x < 100 ? 1 : 0;
  return `${v < 0 ? '-' : ''}${x.toFixed(digits)} ${units[u]}`;
}

let counts: Intl.NumberFormat | null = null;

/**
 * Exact byte count with thousands separators: "16,777,216". One formatter, made on first use:
 * toLocaleString builds a new one per call (microseconds each, thousands of calls per analysis).
 */
export function formatCount(n: number | bigint): string {
  counts ??= new Intl.NumberFormat('en-US');
  return counts.format(n);
}

/** "0x30000". */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

/** Zero-padded hex of a byte. */
export function hexByte(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/** Hex of `bytes`, space-separated, at most `max` bytes (then an ellipsis). */
export function hexBytes(bytes: Uint8Array, max = 64): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i++) parts.push(hexByte(bytes[i]!));
  return parts.join(' ') + (bytes.length > max ? ` … (${bytes.length} bytes)` : '');
}

/** A u64 or u32 field as zero-padded hex of its width. */
export function hexField(value: bigint, size: number): string {
  return value.toString(16).padStart(size * 2, '0');
}

/** Seconds since the epoch as an ISO-like UTC date: "2026-11-25 13:08:58". */
export function formatDate(sec: number, nsec = 0): string {
  const d = new Date(sec * 1000 + Math.floor(nsec / 1e6));
  if (Number.isNaN(d.getTime())) return `${sec} s`;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** "1 cluster", "3 clusters". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** A share as a percentage with sensible digits: "0.4 %", "37 %". */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '0 %';
  const p = (part / whole) * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p < 0.1 ? '<0.1' : p.toFixed(1)} %`;
}

// Numbers for people to read, with one rule per kind for every layer (panels, map, Markdown
// report, CLI): sizes in binary units, exact counts with separators, offsets as `0x…`, shares as
// percentages, plurals, hex dumps and UTC dates. Pure functions, no DOM.
//
// Not for qemu-img's own texts: `qemu-img info` prints sizes with QEMU's size_to_str ("0.977 KiB",
// "1.32 MiB") and `qemu-img map` offsets with printf's "%#-16"PRIx64 ("0" for zero, no "0x").
// Those must equal qemu-img's output byte for byte, so they follow QEMU's rules where they are
// printed (app/cli/info.ts sizeToStr, app/cli/map.ts), not these.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;
const LAST = UNITS.length - 1;

/** `s` without trailing zeros after a decimal point: "1.50" → "1.5", "2.00" → "2". */
const trimZeros = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/**
 * Bytes with a binary unit and three significant digits at most: "0 B", "1023 B", "1 KiB",
 * "1.5 GiB", "168 MiB", "16 EiB". Rounding never shows "1024 KiB" (it moves up a unit). Bigints
 * are converted to a number: three digits are far above a double's precision.
 */
export function formatBytes(n: number | bigint): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return `${v} B`;
  const sign = v < 0 ? '-' : '';
  let x = Math.abs(v);
  let u = 0;
  while (x >= 1024 && u < LAST) {
    x /= 1024;
    u++;
  }
  if (u === 0) return `${sign}${trimZeros(x.toFixed(2))} ${UNITS[0]}`;
  let s = x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0);
  if (Number(s) >= 1024 && u < LAST) {
    x /= 1024;
    u++;
    s = x.toFixed(2);
  }
  return `${sign}${trimZeros(s)} ${UNITS[u]}`;
}

/** The largest binary unit not above `n` (B for n < 1024), e.g. for a chart axis counting in it. */
export function byteUnit(n: number): { readonly size: number; readonly name: string } {
  let u = 0;
  while (u < LAST && Math.abs(n) >= 1024 ** (u + 1)) u++;
  return { size: 1024 ** u, name: UNITS[u]! };
}

/**
 * Bytes in the largest binary unit that states them exactly with at most three decimals: "0 B",
 * "512 MiB", "1.5 GiB", "2,002 MiB", "1,234,567 B". For places (guest offsets, spans), where a
 * rounded figure would name the wrong place.
 */
export function formatBytesExact(n: number | bigint): string {
  const v = Number(n);
  if (!Number.isSafeInteger(v)) return `${formatCount(n)} B`;
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  for (let u = LAST; u > 0; u--) {
    const x = a / 1024 ** u;
    if (x >= 1 && Number.isInteger(x * 1000)) return `${sign}${formatCount(Math.trunc(x))}${trimZeros((x % 1).toFixed(3)).slice(1)} ${UNITS[u]}`;
  }
  return `${sign}${formatCount(a)} B`;
}

let counts: Intl.NumberFormat | null = null;

/**
 * An exact count with thousands separators: "16,777,216". Safe integers and bigints are grouped
 * directly: in Node, the first Intl.NumberFormat loads ICU's locale data (about 7 MiB of resident
 * memory, tens of milliseconds). Other numbers go through one en-US formatter, made on first use.
 */
export function formatCount(n: number | bigint): string {
  if (typeof n === 'bigint' || (Number.isSafeInteger(n) && !Object.is(n, -0))) return groupDigits(n.toString());
  counts ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 });
  return counts.format(n);
}

/** "-1234567" → "-1,234,567". */
function groupDigits(s: string): string {
  const sign = s.startsWith('-') ? '-' : '';
  const d = sign ? s.slice(1) : s;
  let i = d.length % 3 || 3;
  let out = d.slice(0, i);
  for (; i < d.length; i += 3) out += ',' + d.slice(i, i + 3);
  return sign + out;
}

/** An offset or value in hex, always with its prefix: "0x30000", "0x0", "-0x10". */
export function hex(n: number | bigint): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/** A byte as two hex digits: "0a". */
export function hexByte(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/** Hex of `bytes`, space-separated, at most `max` bytes (then an ellipsis and the length). */
export function hexBytes(bytes: Uint8Array, max = 64): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i++) parts.push(hexByte(bytes[i]!));
  return parts.join(' ') + (bytes.length > max ? ` … (${bytes.length} bytes)` : '');
}

/** A field of `size` bytes as zero-padded hex of its width, no prefix: "0000000000030000". */
export function hexField(value: bigint, size: number): string {
  return value.toString(16).padStart(size * 2, '0');
}

/**
 * `part` of `whole` as a percentage: "0 %", "<0.1 %", "0.4 %", "37 %", "99.6 %", ">99.9 %",
 * "100 %". Never rounds a nonzero share to 0 or a partial one to 100. A whole of 0 gives "0 %".
 */
export function percent(part: number | bigint, whole: number | bigint): string {
  const w = Number(whole);
  if (!(w > 0)) return '0 %';
  const p = (Number(part) / w) * 100;
  const a = Math.abs(p);
  const sign = p < 0 ? '-' : '';
  if (a === 0) return '0 %';
  if (a < 0.1) return `${sign}<0.1 %`;
  if (a > 99.9 && a < 100) return `${sign}>99.9 %`;
  return `${sign}${a.toFixed(a < 10 || (a >= 99.5 && a < 100) ? 1 : 0)} %`;
}

/** A count and its noun: "1 cluster", "3 clusters", "1,024 clusters". */
export function plural(n: number | bigint, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 || n === 1n ? word : many}`;
}

/** Seconds (and nanoseconds) since the epoch as a UTC date: "2026-11-25 13:08:58"; "N s" if out of range. */
export function formatDate(sec: number, nsec = 0): string {
  const d = new Date(sec * 1000 + Math.floor(nsec / 1e6));
  if (Number.isNaN(d.getTime())) return `${sec} s`;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

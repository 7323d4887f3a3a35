// `qemu-img measure -o OPTIONS` parsed as qemu-img does (qemu-img.c is_valid_option_list /
// accumulate_options, util/qemu-option.c qemu_opts_do_parse with the output driver's create
// options plus the file protocol's, util/cutils.c qemu_strtosz / qemu_strtou64, qapi_bool_parse),
// with qemu-img's exact error lines. 7.2 and 10.0 differ only in a negative size ("-1"): 7.2 says
// it expects a non-negative number, 10.0 that it is out of range.

import type { QemuVersion } from './version';

export type MeasureFormat = 'qcow2' | 'raw';
type OptType = 'size' | 'number' | 'bool' | 'string';

/** The options qemu-img measure accepts per output format, with QemuOpts types (both releases). */
const FILE_OPTS: readonly (readonly [string, OptType])[] = [['size', 'size'], ['preallocation', 'string'], ['nocow', 'bool'], ['extent_size_hint', 'size']];
const QCOW2_OPTS: readonly (readonly [string, OptType])[] = [
  ['size', 'size'], ['compat', 'string'], ['backing_file', 'string'], ['backing_fmt', 'string'], ['data_file', 'string'],
  ['data_file_raw', 'bool'], ['encrypt.format', 'string'], ['encrypt.key-secret', 'string'], ['encrypt.cipher-alg', 'string'],
  ['encrypt.cipher-mode', 'string'], ['encrypt.ivgen-alg', 'string'], ['encrypt.ivgen-hash-alg', 'string'], ['encrypt.hash-alg', 'string'],
  ['encrypt.iter-time', 'number'], ['cluster_size', 'size'], ['extended_l2', 'bool'], ['preallocation', 'string'],
  ['compression_type', 'string'], ['lazy_refcounts', 'bool'], ['refcount_bits', 'number'], ...FILE_OPTS,
];
const OPTS: Record<MeasureFormat, ReadonlyMap<string, OptType>> = { qcow2: new Map(QCOW2_OPTS), raw: new Map(FILE_OPTS) };

export type OptValue = bigint | boolean | string;
/** Parsed options, last value of each name (qemu_opt_get_del reads the last). */
export type MeasureOptions = ReadonlyMap<string, OptValue>;

const SIZE_HINT = 'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';
const U64 = (1n << 64n) - 1n;

/** is_valid_option_list: not empty, not starting with ',', no unpaired trailing ','. */
export function isValidOptionList(s: string): boolean {
  if (s === '' || s.startsWith(',')) return false;
  let i = s.length;
  while (i > 0 && s[i - 1] === ',') i--;
  return (s.length - i) % 2 === 0;
}

/** strtoull-like: leading blanks, sign, base (0 = auto). Returns value (wrapped) and end, or null when no digits. */
function strtou64(s: string, pos: number, base: number): { value: bigint; end: number; negative: boolean; overflow: boolean } | null {
  let i = pos;
  while (i < s.length && /[\t\n\v\f\r ]/.test(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  let b = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    i += 2;
    b = 16;
  } else if (b === 0) b = s[i] === '0' ? 8 : 10;
  const start = i;
  let v = 0n;
  let overflow = false;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= b) break;
    v = v * BigInt(b) + BigInt(d);
    if (v > U64) overflow = true;
  }
  if (i === start) return null;
  return { value: negative ? (-v & U64) : v, end: i, negative, overflow };
}

const SUFFIX: Record<string, bigint> = { B: 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n, P: 1n << 50n, E: 1n << 60n };

/** qemu_strtosz: 0 ok, 'inval' or 'range'. */
function strtosz(s: string, version: QemuVersion): { ok: bigint; warning?: string } | 'inval' | 'range' {
  // 10.0 also reads a bare fraction (".5k"); 7.2 wants digits first.
  const bare = version !== '7.2' && /^\s*\./.test(s) ? { value: 0n, end: s.indexOf('.'), negative: false, overflow: false } : null;
  const n = bare ?? strtou64(s, 0, 10);
  if (!n) return 'inval';
  if (n.overflow) return 'range';
  let end = n.end;
  let val = n.value;
  if (n.negative) return version === '7.2' ? 'inval' : 'range';
  let frac = 0;
  if (val === 0n && (s[end] === 'x' || s[end] === 'X')) {
    const h = strtou64(s, 0, 16);
    if (!h || h.overflow) return h?.overflow ? 'range' : 'inval';
    end = h.end;
    val = h.value;
    const suffix = SUFFIX[(s[end] ?? '').toUpperCase()];
    if (s[end] === '.' || (suffix !== undefined && version !== '7.2')) return 'inval';
    // 7.2 still takes a suffix on a hex number, with a warning.
    if (suffix !== undefined && end + 1 === s.length) {
      const total = val * suffix;
      return total > U64 ? 'range' : { ok: total, warning: `qemu-img: warning: Using a multiplier suffix on hex numbers is deprecated: ${s}\n` };
    }
  } else if (s[end] === '.') {
    const m = /^\.(\d*)([eE][+-]?\d+)?/.exec(s.slice(end));
    if (!m || m[1] === '') end += 1;
    else if (m[2]) return 'inval';
    else {
      frac = Number(`0.${m[1]}`);
      end += m[0].length;
    }
  }
  const mul = SUFFIX[(s[end] ?? '').toUpperCase()];
  if (mul !== undefined) end++;
  if (end !== s.length) return 'inval';
  const m = mul ?? 1n;
  if (m === 1n) return frac !== 0 ? 'inval' : { ok: val };
  const valf = BigInt(Math.trunc(frac * 2 ** 64));
  const prod = valf * m;
  const total = val * m + (prod >> 64n) + ((prod >> 63n) & 1n);
  return total > U64 ? 'range' : { ok: total };
}

function parseValue(name: string, type: OptType, value: string, version: QemuVersion, warn: (w: string) => void): OptValue | string[] {
  if (type === 'string') return value;
  if (type === 'bool') {
    if (['on', 'yes', 'true', 'y'].includes(value)) return true;
    if (['off', 'no', 'false', 'n'].includes(value)) return false;
    return [`Parameter '${name}' expects 'on' or 'off'`];
  }
  if (type === 'number') {
    const n = strtou64(value, 0, 0);
    if (n && n.end === value.length) return n.overflow ? [`Value '${value}' is too large for parameter '${name}'`] : n.value;
    return [`Parameter '${name}' expects a number`];
  }
  const r = strtosz(value, version);
  if (r === 'range') return [`Value '${value}' is out of range for parameter '${name}'`];
  if (r === 'inval') return [`Parameter '${name}' expects a non-negative number below 2^64`, SIZE_HINT];
  if (r.warning) warn(r.warning);
  return r.ok;
}

/**
 * Parses the -o arguments (each as given) for `format`. Errors and warnings are qemu-img's stderr
 * text, each line with its "qemu-img: " prefix (hint lines without).
 */
export function parseMeasureOptions(args: readonly string[], format: MeasureFormat, version: QemuVersion): { options: MeasureOptions; warnings: string } | { error: string } {
  for (const a of args) if (!isValidOptionList(a)) return { error: `qemu-img: Invalid option list: ${a}\n` };
  const all = args.join(',');
  const out = new Map<string, OptValue>();
  const desc = OPTS[format];
  let warnings = '';
  const fail = (lines: string[]) => ({
    error: warnings + lines.map((l) => (l === SIZE_HINT ? l : `qemu-img: ${l}\n`)).join('') + `qemu-img: Invalid options for file format '${format}'\n`,
  });
  let p = 0;
  while (p < all.length) {
    const len = /^[^=,]*/.exec(all.slice(p))![0].length;
    let name = all.slice(p, p + len);
    let value: string;
    p += len;
    if (all[p] !== '=') {
      value = name.startsWith('no') ? 'off' : 'on';
      if (name.startsWith('no')) name = name.slice(2);
    } else {
      p++;
      value = '';
      while (p < all.length) {
        if (all[p] === ',') {
          if (all[p + 1] !== ',') break;
          p++;
        }
        value += all[p++];
      }
    }
    if (all[p] === ',') p++;
    if (name === 'id') continue;
    const type = desc.get(name);
    if (!type) return fail([`Invalid parameter '${name}'`]);
    const v = parseValue(name, type, value, version, (w) => void (warnings += w));
    if (Array.isArray(v)) return fail(v);
    out.set(name, v);
  }
  return { options: out, warnings };
}

// QEMU's JSON, byte for byte: how `qemu-img --output=json` orders keys and prints values.
// - Key order: QEMU builds a QDict (qobject/qdict.c): 512 hash buckets (tdb_hash), each a list with
//   the newest entry first, iterated bucket by bucket. So the order is a function of the key set
//   and of the insertion order (the QAPI schema's field order) — reproduced by qdictOrder().
// - Strings: QEMU decodes C strings as (modified) UTF-8 (util/unicode.c mod_utf8_codepoint) and
//   escapes every code point outside 0x20..0x7e as \uXXXX (qobject/qjson.c to_json).
// - Pretty printing: 4-space indent, "key": value, empty containers still broken over two lines.

/** A JSON value as QEMU prints it. Integers beyond 2^53 are bigint so they print exactly. */
export type QValue = string | number | bigint | boolean | null | readonly QValue[] | { readonly [key: string]: QValue };

const BUCKETS = 512;

/** QEMU's tdb_hash of a key (its UTF-8 bytes), 32-bit unsigned. */
export function qdictHash(key: string): number {
  const b = new TextEncoder().encode(key);
  let v = Math.imul(0x238f13af, b.length) >>> 0;
  for (let i = 0; i < b.length; i++) v = (v + ((b[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  return (Math.imul(1103515243, v) + 12345) >>> 0;
}

/**
 * Returns a copy of `obj` whose own keys iterate in QDict order, given that `obj`'s keys were
 * inserted in QAPI schema order. Nested objects and arrays are reordered too.
 */
export function qdictOrder<T extends QValue>(obj: T): T {
  if (Array.isArray(obj)) return obj.map((v: QValue) => qdictOrder(v)) as unknown as T;
  if (obj === null || typeof obj !== 'object') return obj;
  const inserted = Object.keys(obj);
  const out: Record<string, QValue> = {};
  const src = obj as { readonly [key: string]: QValue };
  for (const k of keyOrder(inserted)) out[k] = qdictOrder(src[k]!);
  return out as T;
}

/** Orders already computed, by key list: keys are schema field names, so there are few. */
const orders = new Map<string, readonly string[]>();

/** QDict iteration order of keys inserted in the given order (memoised: an image may hold 65536 snapshots). */
function keyOrder(inserted: readonly string[]): readonly string[] {
  const sig = inserted.join('\0');
  let order = orders.get(sig);
  if (!order) {
    const keys = inserted.map((k, i) => ({ k, i, b: qdictHash(k) % BUCKETS }));
    keys.sort((x, y) => x.b - y.b || y.i - x.i);
    order = keys.map((x) => x.k);
    if (orders.size < 256) orders.set(sig, order);
  }
  return order;
}

const MIN_CP = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/**
 * Decodes bytes the way QEMU turns a C string into JSON: stops at the first NUL; each invalid,
 * overlong, surrogate or noncharacter sequence becomes one U+FFFD (util/unicode.c rules).
 */
export function qemuDecodeCString(bytes: Uint8Array): string {
  let out = '';
  let p = 0;
  const n = bytes.length;
  const at = (i: number) => (i < n ? bytes[i]! : 0);
  while (p < n && bytes[p] !== 0) {
    const lead = bytes[p++]!;
    let cp: number;
    if (lead < 0x80) cp = lead;
    else if (lead >= 0xfe || (lead & 0x40) === 0) cp = -1;
    else {
      let len = 0;
      let mask = 0x80;
      for (; lead & mask; mask >>= 1) len++;
      cp = lead & (mask - 1);
      for (let i = 1; i < len; i++) {
        const c = at(p);
        if ((c & 0xc0) !== 0x80) {
          cp = -1;
          break;
        }
        p++;
        cp = cp * 64 + (c & 0x3f);
      }
      if (cp >= 0) {
        if (cp > 0x10ffff) cp = -1;
        else if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) cp = -1;
        else if (cp >= 0xd800 && cp <= 0xdfff) cp = -1;
        else if (cp < MIN_CP[len - 2]! && !(cp === 0 && len === 2)) cp = -1;
      }
    }
    out += String.fromCodePoint(cp < 0 ? 0xfffd : cp);
  }
  return out;
}

/** The UTF-8 bytes of a string that came from a decoder, for re-decoding QEMU's way. */
export const utf8Bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (cp) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      default:
        if (cp > 0xffff) out += `\\u${hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
        else if (cp < 0x20 || cp >= 0x7f) out += `\\u${hex4(cp)}`;
        else out += ch;
    }
  }
  return out + '"';
}

function print(v: QValue, indent: number): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const pad = '    '.repeat(indent + 1);
  const close = '\n' + '    '.repeat(indent);
  if (Array.isArray(v)) {
    const items = v.map((x: QValue) => '\n' + pad + print(x, indent + 1));
    return '[' + items.join(',') + close + ']';
  }
  const o = v as { readonly [key: string]: QValue };
  const items = Object.keys(o).map((k) => '\n' + pad + quote(k) + ': ' + print(o[k]!, indent + 1));
  return '{' + items.join(',') + close + '}';
}

/** Prints `v` as qobject_to_json_pretty does (keys in the object's own order; no final newline). */
export function toQemuJson(v: QValue): string {
  return print(v, 0);
}

/** Converts an int64 (given as an unsigned 64-bit bigint) to what QEMU prints: signed, exact. */
export function int64(v: bigint): number | bigint {
  const s = BigInt.asIntN(64, v);
  return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
}

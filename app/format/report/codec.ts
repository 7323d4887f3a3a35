// Two-way codecs between the engine's values and the plain JSON of a saved analysis (report.ts).
// A saved analysis is untrusted input like an image: every decoder checks the type and range of
// what it reads and bounds every string, array and byte field before keeping it, and a value that
// fails throws ReportError with the JSON path of the field. Encoders never fail.
//
// Conventions: 64-bit values (bigint) are decimal strings; raw bytes are lowercase hex strings;
// 64-bit table entries are "0x…" hex strings; Maps are [key, value] pairs (never object keys).

/** A JSON value as JSON.stringify writes it. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json };

export type ReportErrorCode =
  /** The text is not JSON, or is larger than a saved analysis may be. */
  | 'NOT_JSON'
  /** Valid JSON, but not a saved qcowscope analysis. */
  | 'NOT_A_REPORT'
  /** A qcowscope document of a version this build cannot read. */
  | 'UNSUPPORTED_VERSION'
  /** A field is missing, of the wrong type, out of range or too large. */
  | 'BAD_FIELD'
  /** Fields disagree with each other (e.g. role runs that do not add up to the file's clusters). */
  | 'INCONSISTENT';

export class ReportError extends Error {
  constructor(
    readonly code: ReportErrorCode,
    /** JSON path of the field concerned, e.g. "structures.header.fields[3].value". */
    readonly path: string,
    message: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ReportError';
  }
}

export interface Codec<T> {
  enc(v: T): Json;
  dec(j: unknown, path: string): T;
  /** Set on codecs made by opt(): the property may be absent (an undefined value is left out). */
  readonly optional?: true;
}

const bad = (path: string, what: string): never => {
  throw new ReportError('BAD_FIELD', path, what);
};

const describe = (j: unknown): string => (j === null ? 'null' : Array.isArray(j) ? 'an array' : typeof j);

/** An integer in [min, max] (within the safe range). */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Codec<number> {
  return {
    enc: (v) => v,
    dec(j, path) {
      if (typeof j !== 'number' || !Number.isSafeInteger(j)) return bad(path, `expected an integer, got ${describe(j)}`);
      if (j < min || j > max) return bad(path, `${j} is outside ${min}..${max}`);
      return j;
    },
  };
}

/**
 * A whole number in [0, 2^64] held as a double: offsets a damaged image points at (findings name
 * them), exact below 2^53 and the nearest double above.
 */
export const wide: Codec<number> = {
  enc: (v) => v,
  dec: (j, path) => (typeof j === 'number' && Number.isInteger(j) && j >= 0 && j <= 2 ** 64 ? j : bad(path, `expected a whole number in 0..2^64, got ${describe(j)}`)),
};

/** Any finite number (fractions allowed). */
export const finite: Codec<number> = {
  enc: (v) => v,
  dec: (j, path) => (typeof j === 'number' && Number.isFinite(j) ? j : bad(path, `expected a number, got ${describe(j)}`)),
};

export const bool: Codec<boolean> = {
  enc: (v) => v,
  dec: (j, path) => (typeof j === 'boolean' ? j : bad(path, `expected true or false, got ${describe(j)}`)),
};

/** A string of at most `max` UTF-16 code units. */
export function str(max: number): Codec<string> {
  return {
    enc: (v) => v,
    dec(j, path) {
      if (typeof j !== 'string') return bad(path, `expected a string, got ${describe(j)}`);
      if (j.length > max) return bad(path, `string of ${j.length} characters, more than ${max}`);
      return j;
    },
  };
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(...values: readonly T[]): Codec<T> {
  const set: ReadonlySet<string> = new Set(values);
  return {
    enc: (v) => v,
    dec: (j, path) => (typeof j === 'string' && set.has(j) ? (j as T) : bad(path, `expected one of ${values.join(', ')}`)),
  };
}

const U64_MAX = (1n << 64n) - 1n;

/** An unsigned 64-bit value as a decimal string. */
export const u64: Codec<bigint> = {
  enc: (v) => v.toString(),
  dec(j, path) {
    if (typeof j !== 'string' || !/^\d{1,20}$/.test(j)) return bad(path, 'expected a decimal string of a 64-bit value');
    const v = BigInt(j);
    return v <= U64_MAX ? v : bad(path, 'larger than 2^64 - 1');
  },
};

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Raw bytes as a hex string, at most `maxBytes` bytes. */
export function bytes(maxBytes: number): Codec<Uint8Array> {
  return {
    enc(v) {
      let s = '';
      for (let i = 0; i < v.length; i++) s += HEX_BYTE[v[i]!]!;
      return s;
    },
    dec(j, path) {
      if (typeof j !== 'string' || j.length % 2 !== 0) return bad(path, 'expected a hex string of whole bytes');
      if (j.length / 2 > maxBytes) return bad(path, `${j.length / 2} bytes, more than ${maxBytes}`);
      if (!/^[0-9a-f]*$/.test(j)) return bad(path, 'not lowercase hex');
      const out = new Uint8Array(j.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(j.substr(2 * i, 2), 16);
      return out;
    },
  };
}

/** A Uint32Array as an array of numbers, at most `max` entries. */
export function u32s(max: number): Codec<Uint32Array> {
  const one = int(0, 0xffff_ffff);
  return {
    enc: (v) => Array.from(v),
    dec(j, path) {
      if (!Array.isArray(j)) return bad(path, `expected an array, got ${describe(j)}`);
      if (j.length > max) return bad(path, `${j.length} entries, more than ${max}`);
      const out = new Uint32Array(j.length);
      for (let i = 0; i < j.length; i++) out[i] = one.dec(j[i], `${path}[${i}]`);
      return out;
    },
  };
}

/** A BigUint64Array (raw table entries) as "0x…" strings, at most `max` entries. */
export function u64s(max: number): Codec<BigUint64Array> {
  return {
    enc: (v) => Array.from(v, (x) => '0x' + x.toString(16)),
    dec(j, path) {
      if (!Array.isArray(j)) return bad(path, `expected an array, got ${describe(j)}`);
      if (j.length > max) return bad(path, `${j.length} entries, more than ${max}`);
      const out = new BigUint64Array(j.length);
      for (let i = 0; i < j.length; i++) {
        const s: unknown = j[i];
        if (typeof s !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(s)) return bad(`${path}[${i}]`, 'expected a 0x… hex string of a 64-bit value');
        out[i] = BigInt(s);
      }
      return out;
    },
  };
}

export function nullable<T>(c: Codec<T>): Codec<T | null> {
  return {
    enc: (v) => (v === null ? null : c.enc(v)),
    dec: (j, path) => (j === null ? null : c.dec(j, path)),
  };
}

/** An optional property of obj(): absent in the JSON when the value is undefined. */
export function opt<T>(c: Codec<T>): Codec<T> {
  return { enc: c.enc, dec: c.dec, optional: true };
}

/** An array of at most `max` values. */
export function arr<T>(c: Codec<T>, max: number): Codec<readonly T[]> {
  return {
    enc: (v) => v.map((x) => c.enc(x)),
    dec(j, path) {
      if (!Array.isArray(j)) return bad(path, `expected an array, got ${describe(j)}`);
      if (j.length > max) return bad(path, `${j.length} entries, more than ${max}`);
      return j.map((x: unknown, i) => c.dec(x, `${path}[${i}]`));
    },
  };
}

/** A string → string map as [key, value] pairs. */
export function pairs(maxEntries: number, maxLength: number): Codec<ReadonlyMap<string, string>> {
  const s = str(maxLength);
  return {
    enc: (m) => [...m].map(([k, v]) => [k, v]),
    dec(j, path) {
      if (!Array.isArray(j)) return bad(path, `expected an array of pairs, got ${describe(j)}`);
      if (j.length > maxEntries) return bad(path, `${j.length} entries, more than ${maxEntries}`);
      const m = new Map<string, string>();
      j.forEach((p: unknown, i) => {
        if (!Array.isArray(p) || p.length !== 2) bad(`${path}[${i}]`, 'expected a [key, value] pair');
        const [k, v] = p as unknown[];
        m.set(s.dec(k, `${path}[${i}][0]`), s.dec(v, `${path}[${i}][1]`));
      });
      return m;
    },
  };
}

/** A string → integer record (e.g. totals per finding code); keys are own properties only. */
export function counts(maxEntries: number, maxKey: number): Codec<Readonly<Record<string, number>>> {
  const n = int();
  return {
    enc: (r) => ({ ...r }),
    dec(j, path) {
      if (typeof j !== 'object' || j === null || Array.isArray(j)) return bad(path, `expected an object, got ${describe(j)}`);
      const entries = Object.entries(j);
      if (entries.length > maxEntries) return bad(path, `${entries.length} entries, more than ${maxEntries}`);
      for (const [k] of entries) if (k.length > maxKey) bad(path, `key of ${k.length} characters, more than ${maxKey}`);
      // Object.fromEntries defines own properties: a "__proto__" key stays a plain key.
      return Object.fromEntries(entries.map(([k, v]) => [k, n.dec(v, `${path}.${k}`)]));
    },
  };
}

type Shape<T> = { readonly [K in keyof T]-?: Codec<T[K]> };

/**
 * An object with exactly the properties of `shape` (others in the JSON are ignored, so a newer
 * writer may add fields). Property order follows `shape`.
 */
export function obj<T>(shape: Shape<T>): Codec<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  return {
    enc(v) {
      const o: Record<string, Json> = {};
      for (const k of keys) {
        const c = shape[k] as Codec<unknown>;
        const x = v[k];
        if (x === undefined && c.optional) continue;
        o[k] = c.enc(x);
      }
      return o;
    },
    dec(j, path) {
      if (typeof j !== 'object' || j === null || Array.isArray(j)) return bad(path, `expected an object, got ${describe(j)}`);
      const src = j as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const c = shape[k] as Codec<unknown>;
        const at = path ? `${path}.${k}` : k;
        if (!Object.prototype.hasOwnProperty.call(src, k)) {
          if (c.optional) continue;
          bad(at, 'missing');
        }
        out[k] = c.dec(src[k], at);
      }
      return out as T;
    },
  };
}


/** A codec whose value is checked by `check` after decoding (returns an error text, or null). */
export function checked<T>(c: Codec<T>, check: (v: T) => string | null): Codec<T> {
  return {
    ...c,
    dec(j, path) {
      const v = c.dec(j, path);
      const why = check(v);
      return why === null ? v : bad(path, why);
    },
  };
}

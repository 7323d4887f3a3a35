// Extents over a guest disk: contiguous typed runs covering [0, size), adjacent equal types merged —
// the shape `nbdinfo --map` prints for an NBD metadata context. Kept in typed arrays (9 bytes an
// extent) so that a bitmap with millions of extents over a 1 TiB disk is cheap to build, combine,
// transfer from the worker and print; nothing here makes one object per extent.
//
// Type numbers: the plain bitmap map uses nbdinfo's qemu:dirty-bitmap types (0 clean, 1 dirty)
// plus 2 for bits that cannot be read. The allocation split keeps 0, 1 and 2 and adds 3 and 4.

/** qemu:dirty-bitmap types, as nbdinfo prints them, and ours for unreadable bits. */
export const CLEAN = 0;
export const DIRTY = 1;
export const UNKNOWN = 2;
/** `--allocation`: DIRTY is split into data (1), zero (3) and unallocated (4). */
export const DIRTY_DATA = 1;
export const DIRTY_ZERO = 3;
export const DIRTY_UNALLOCATED = 4;

/** Descriptions by type: the plain map (nbdinfo's own words for 0 and 1). */
export const BITMAP_DESCRIPTIONS: readonly string[] = ['clean', 'dirty', 'unknown'];
/** Descriptions by type: the map split by what the guest range holds. */
export const ALLOCATION_DESCRIPTIONS: readonly string[] = ['clean', 'dirty data', 'unknown', 'dirty zero', 'dirty unallocated'];

/** Contiguous runs over [0, size): run i is [starts[i], starts[i + 1] or size) of type types[i]. */
export class Extents {
  constructor(
    /** Start offset of each run (ascending, starts[0] = 0 when count > 0). Length ≥ count. */
    readonly starts: Float64Array,
    readonly types: Uint8Array,
    readonly count: number,
    /** End of the last run: the disk length the map covers. */
    readonly size: number,
  ) {}

  static whole(size: number, type: number): Extents {
    const b = new ExtentsBuilder();
    b.push(0, size, type);
    return b.finish(size);
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  end(i: number): number {
    return i + 1 < this.count ? this.starts[i + 1]! : this.size;
  }

  type(i: number): number {
    return this.types[i]!;
  }

  /** Bytes per type (index = type number). */
  bytesByType(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const t = this.types[i]!;
      while (out.length <= t) out.push(0);
      out[t]! += this.end(i) - this.starts[i]!;
    }
    return out;
  }

  /** Runs of type `t`. */
  countOf(t: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.types[i] === t) n++;
    return n;
  }

  /** Index of the run containing `pos` (0 ≤ pos < size). */
  find(pos: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Builds Extents from runs pushed in ascending order; merges touching runs of one type. */
export class ExtentsBuilder {
  private starts = new Float64Array(256);
  private types = new Uint8Array(256);
  private n = 0;
  /** End of the last run pushed. */
  private end = 0;

  /** Appends [start, end) of `type`; start must equal the previous end. Empty runs are ignored. */
  push(start: number, end: number, type: number): void {
    if (end <= start) return;
    if (start !== this.end) throw new Error(`extents must be contiguous: ${start} after ${this.end}`);
    this.end = end;
    if (this.n > 0 && this.types[this.n - 1] === type) return;
    if (this.n === this.starts.length) {
      const s = new Float64Array(this.n * 2);
      s.set(this.starts);
      this.starts = s;
      const t = new Uint8Array(this.n * 2);
      t.set(this.types);
      this.types = t;
    }
    this.starts[this.n] = start;
    this.types[this.n] = type;
    this.n++;
  }

  get position(): number {
    return this.end;
  }

  /** The runs so far, covering [0, size) (size must be the last end pushed). */
  finish(size: number): Extents {
    if (size !== this.end) throw new Error(`extents end at ${this.end}, not ${size}`);
    return new Extents(this.starts, this.types, this.n, size);
  }
}

export type SetOp = 'minus' | 'and' | 'or';

/**
 * Three-valued set arithmetic on plain maps (CLEAN, DIRTY, UNKNOWN): unknown wherever the answer
 * depends on an unknown bit. `minus` is A∖B (dirty in A, clean in B).
 */
export function combineType(op: SetOp, a: number, b: number): number {
  const aU = a !== CLEAN && a !== DIRTY;
  const bU = b !== CLEAN && b !== DIRTY;
  switch (op) {
    case 'and':
      if (a === CLEAN || b === CLEAN) return CLEAN;
      return aU || bU ? UNKNOWN : DIRTY;
    case 'or':
      if (a === DIRTY || b === DIRTY) return DIRTY;
      return aU || bU ? UNKNOWN : CLEAN;
    case 'minus':
      if (a === CLEAN || b === DIRTY) return CLEAN;
      return aU || bU ? UNKNOWN : DIRTY;
  }
}

/**
 * A `op` B over A's disk. Where B's disk is shorter than A's, B's bits are unknown (B says nothing
 * of a range its disk did not have); B's runs past A's end are ignored.
 */
export function combine(a: Extents, b: Extents, op: SetOp): Extents {
  const out = new ExtentsBuilder();
  let i = 0;
  let j = 0;
  let pos = 0;
  while (pos < a.size) {
    while (a.end(i) <= pos) i++;
    while (j < b.count && b.end(j) <= pos) j++;
    const bType = j < b.count ? b.type(j) : UNKNOWN;
    const bEnd = j < b.count ? b.end(j) : a.size;
    const end = Math.min(a.end(i), bEnd);
    out.push(pos, end, combineType(op, a.type(i), bType));
    pos = end;
  }
  return out.finish(a.size);
}

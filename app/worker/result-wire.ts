// How the analysis result crosses from the worker to the page. Decoding a structured clone of
// many small objects is slow on the page's main thread (the 100 GiB scattered bench image's 14 k
// guest map ranges took about 25 ms in the result's task), so the guest map travels as columns of
// typed arrays whose buffers are moved, not copied, and the page rebuilds the ranges when a view
// first reads them.
// qemu-img measure's estimate for `qemu-img convert -O qcow2` is computed here, in the worker,
// and sent with the result, so the page never runs it.

import { convertEstimate, type Analysis, type ConvertEstimate, type MapRange } from '../format';
import type { AnalysisResult } from './protocol';

/** The guest map, one entry per range in each column. */
export interface PackedGuestMap {
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly depth: Float64Array;
  /** Host offset; NaN where the range has none. */
  readonly offset: Float64Array;
  /** FLAG_* bits. */
  readonly flags: Uint8Array;
}

const FLAG_PRESENT = 1;
const FLAG_ZERO = 2;
const FLAG_DATA = 4;
const FLAG_COMPRESSED = 8;

/** The analysis as sent: the guest map (analysis.guestMap, the same array as check.guestMap) taken out. */
export type WireAnalysis = Omit<AnalysisResult, 'guestMap' | 'check'> & { readonly check: Omit<AnalysisResult['check'], 'guestMap'> };

/** The result message's payload apart from (job, file, ms). */
export interface WireResult {
  readonly analysis: WireAnalysis;
  readonly guestMap: PackedGuestMap;
  readonly estimate: ConvertEstimate | null;
}

export function packGuestMap(ranges: readonly MapRange[]): PackedGuestMap {
  const n = ranges.length;
  const p = { start: new Float64Array(n), length: new Float64Array(n), depth: new Float64Array(n), offset: new Float64Array(n), flags: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const r = ranges[i]!;
    p.start[i] = r.start;
    p.length[i] = r.length;
    p.depth[i] = r.depth;
    p.offset[i] = r.offset ?? Number.NaN;
    p.flags[i] = (r.present ? FLAG_PRESENT : 0) | (r.zero ? FLAG_ZERO : 0) | (r.data ? FLAG_DATA : 0) | (r.compressed ? FLAG_COMPRESSED : 0);
  }
  return p;
}

/** The ranges packGuestMap took, field for field (absent optional fields stay absent). */
export function unpackGuestMap(p: PackedGuestMap): MapRange[] {
  const n = p.start.length;
  const out = new Array<MapRange>(n);
  for (let i = 0; i < n; i++) {
    const f = p.flags[i]!;
    const offset = p.offset[i]!;
    const r: { -readonly [K in keyof MapRange]: MapRange[K] } = {
      start: p.start[i]!, length: p.length[i]!, depth: p.depth[i]!, present: (f & FLAG_PRESENT) !== 0, zero: (f & FLAG_ZERO) !== 0, data: (f & FLAG_DATA) !== 0,
    };
    if (f & FLAG_COMPRESSED) r.compressed = true;
    if (!Number.isNaN(offset)) r.offset = offset;
    out[i] = r;
  }
  return out;
}

/** Columns of equal length, each the right kind of typed array. */
export function isPackedGuestMap(x: unknown): x is PackedGuestMap {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  const n = p.start instanceof Float64Array ? p.start.length : -1;
  return n >= 0 && [p.length, p.depth, p.offset].every((c) => c instanceof Float64Array && c.length === n) && p.flags instanceof Uint8Array && p.flags.length === n;
}

/** The buffers of a packed guest map (moved with the message). */
export const packedBuffers = (p: PackedGuestMap): ArrayBuffer[] => [p.start, p.length, p.depth, p.offset, p.flags].map((c) => c.buffer as ArrayBuffer);

/**
 * The result as sent, from a complete analysis whose per-cluster arrays `check` has already been
 * taken out (split.ts). The estimate is computed from the analysis with its guest map.
 */
export function toWire(analysis: Omit<Analysis, 'check'> & { readonly check: AnalysisResult['check'] }): WireResult {
  const { guestMap, check, ...rest } = analysis;
  const { guestMap: _same, ...checkRest } = check;
  return { analysis: { ...rest, check: checkRest }, guestMap: packGuestMap(guestMap), estimate: convertEstimate(analysis) };
}

/**
 * The analysis as the page uses it. Its guest map (`guestMap` and `check.guestMap`, one array) is
 * rebuilt when first read: the views that need it (the guest map, qemu-img map's output, a saved
 * analysis) come later than the result's own task, which then stays short (rebuilding 14 k ranges
 * in code not yet optimised takes about 10 ms).
 */
export function fromWire(w: Pick<WireResult, 'analysis' | 'guestMap'>): AnalysisResult {
  let ranges: MapRange[] | null = null;
  const guestMap: PropertyDescriptor = { get: () => (ranges ??= unpackGuestMap(w.guestMap)), enumerable: true };
  const check = Object.defineProperty({ ...w.analysis.check }, 'guestMap', guestMap) as AnalysisResult['check'];
  return Object.defineProperty({ ...w.analysis, check }, 'guestMap', guestMap) as AnalysisResult;
}

// The Bitmaps tab's answers, computed in the worker by the engine (app/format/dirty): each asked-for
// bitmap's extents (plain, and split by what a backup copies), and for two bitmaps — possibly of
// two dropped images — A∖B, B∖A and A∩B. Extents travel as typed arrays (moved, not copied);
// the page draws them and never recomputes them.

import {
  BlobSource, combine, qemuExportRefusal, readBitmapExtents, splitByAllocation,
  type Bitmap, type Extents, type Finding, type Header, type MapRange,
} from '../format';

/** What the worker keeps of an analysed file to answer bitmap requests. */
export interface BitmapFileState {
  readonly file: File;
  readonly header: Header;
  readonly bitmaps: readonly Bitmap[];
  readonly guestMap: readonly MapRange[];
  readonly chainComplete: boolean;
  readonly refusals: readonly Finding[];
}

export interface BitmapRefMsg {
  /** Index into the job's files. */
  readonly file: number;
  /** Index into that file's bitmap directory. */
  readonly index: number;
}

/** Extents as arrays: run i is [starts[i], starts[i + 1] or size) of types[i]. */
export interface CompactExtents {
  readonly starts: Float64Array;
  readonly types: Uint8Array;
  readonly size: number;
  /** Bytes per type number. */
  readonly bytes: readonly number[];
}

export interface BitmapLaneMsg {
  readonly ref: BitmapRefMsg;
  readonly name: string;
  readonly plain: CompactExtents;
  /** Split by allocation through the file's backing chain (the `--allocation` types). */
  readonly alloc: CompactExtents;
  /** Why qemu-nbd would not export it, or null. */
  readonly refusal: string | null;
  /** Why some bits are unknown. */
  readonly notes: readonly string[];
}

export interface BitmapMapsMsg {
  readonly lanes: readonly BitmapLaneMsg[];
  /** For two bitmaps asked to be compared: A∖B, B∖A, A∩B over A's disk. */
  readonly compare: { readonly aMinusB: CompactExtents; readonly bMinusA: CompactExtents; readonly aAndB: CompactExtents } | null;
}

/** Lanes one request may ask for (a damaged directory may list 65535 bitmaps). */
export const MAX_LANES = 64;

export function compact(e: Extents): CompactExtents {
  return { starts: e.starts.slice(0, e.count), types: e.types.slice(0, e.count), size: e.size, bytes: e.bytesByType() };
}

/** The buffers to move with a BitmapMapsMsg. */
export function bitmapTransferables(m: BitmapMapsMsg): ArrayBuffer[] {
  const all = [...m.lanes.flatMap((l) => [l.plain, l.alloc]), ...(m.compare ? [m.compare.aMinusB, m.compare.bMinusA, m.compare.aAndB] : [])];
  return all.flatMap((c) => [c.starts.buffer as ArrayBuffer, c.types.buffer as ArrayBuffer]);
}

/** Answers one request; throws an Error with a message for the page when a ref is stale. */
export async function bitmapMaps(states: readonly (BitmapFileState | null)[], refs: readonly BitmapRefMsg[], compare: boolean): Promise<BitmapMapsMsg> {
  const plain: Extents[] = [];
  const lanes: BitmapLaneMsg[] = [];
  for (const ref of refs.slice(0, MAX_LANES)) {
    const st = states[ref.file];
    const b = st?.bitmaps[ref.index];
    if (!st || !b) throw new Error('that bitmap is no longer open');
    const src = new BlobSource(st.file, st.file.name, (parts) => new Blob(parts));
    const r = await readBitmapExtents(src, st.header, b);
    plain.push(r.extents);
    lanes.push({
      ref, name: b.name,
      plain: compact(r.extents),
      alloc: compact(splitByAllocation(r.extents, { ranges: st.guestMap, chainComplete: st.chainComplete })),
      refusal: qemuExportRefusal(b, st.header, st.refusals),
      notes: r.findings.map((f) => f.message),
    });
  }
  const [a, b] = plain;
  const pair = compare && a && b ? { aMinusB: compact(combine(a, b, 'minus')), bMinusA: compact(combine(b, a, 'minus')), aAndB: compact(combine(a, b, 'and')) } : null;
  return { lanes, compare: pair };
}

const isCompact = (x: unknown): x is CompactExtents => {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  return c.starts instanceof Float64Array && c.types instanceof Uint8Array && c.starts.length === c.types.length
    && typeof c.size === 'number' && Array.isArray(c.bytes);
};

/** Runtime guard for a BitmapMapsMsg received by the page. */
export function isBitmapMapsMsg(x: unknown): x is BitmapMapsMsg {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (!Array.isArray(m.lanes)) return false;
  const lanesOk = m.lanes.every((l: unknown) => {
    if (typeof l !== 'object' || l === null) return false;
    const o = l as Record<string, unknown>;
    return typeof o.name === 'string' && isCompact(o.plain) && isCompact(o.alloc) && Array.isArray(o.notes);
  });
  if (!lanesOk) return false;
  if (m.compare === null) return true;
  const c = m.compare as Record<string, unknown> | undefined;
  return !!c && isCompact(c.aMinusB) && isCompact(c.bMinusA) && isCompact(c.aAndB);
}

// Messages between the analysis worker and its reader worker (reader.worker.ts). The reader makes
// the File slices and reads them; the analysis worker only parses. In Chromium every Blob slice is
// registered with the browser process by a synchronous call (about half a millisecond each here):
// made on the parsing thread, those calls stop the parsing for as long as the reads take.

/** Analysis worker → reader: `file` once, then read requests against it. */
export type ToReader =
  | { readonly type: 'file'; readonly file: Blob }
  /** Ranges as [offset0, length0, offset1, length1, …], each inside the file. */
  | { readonly type: 'read'; readonly id: number; readonly ranges: Float64Array };

/** Reader → analysis worker: the bytes of request `id`'s ranges, back to back (moved, not copied). */
export type FromReader =
  | { readonly type: 'bytes'; readonly id: number; readonly buffer: ArrayBuffer }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

export function isToReader(x: unknown): x is ToReader {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as { type?: unknown; file?: unknown; id?: unknown; ranges?: unknown };
  if (m.type === 'file') return typeof Blob !== 'undefined' && m.file instanceof Blob;
  return m.type === 'read' && typeof m.id === 'number' && m.ranges instanceof Float64Array && m.ranges.length % 2 === 0;
}

export function isFromReader(x: unknown): x is FromReader {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as { type?: unknown; id?: unknown; buffer?: unknown; message?: unknown };
  if (typeof m.id !== 'number') return false;
  return (m.type === 'bytes' && m.buffer instanceof ArrayBuffer) || (m.type === 'error' && typeof m.message === 'string');
}

// Test helper: QEMU's own answer for an image's NBD metadata contexts. Each query runs
// `nbdinfo --map=CONTEXT --json -- [ qemu-nbd -r -f qcow2 -B NAME… FILE ]`: nbdinfo starts
// qemu-nbd by socket activation and ends it when it is done, so no server outlives a query (and a
// query is bounded by a timeout).

import { spawnSync } from 'node:child_process';

export const hasQemuNbd = spawnSync('qemu-nbd', ['--version']).status === 0;
export const hasNbdinfo = spawnSync('nbdinfo', ['--version']).status === 0;

export interface NbdExtent {
  readonly offset: number;
  readonly length: number;
  readonly type: number;
  readonly description?: string;
}

export interface NbdMap {
  /** nbdinfo's stdout, exactly (empty when the export failed). */
  readonly text: string;
  /** Parsed extents, or null when qemu-nbd refused the export. */
  readonly extents: NbdExtent[] | null;
  /** qemu-nbd's and nbdinfo's stderr (qemu-nbd's reason first when it refused). */
  readonly stderr: string;
}

/**
 * nbdinfo's map of `context` ('base:allocation' or 'qemu:dirty-bitmap:NAME') for QEMU's read-only
 * export of `file` with `bitmaps` exported. `json` false gives nbdinfo's text layout.
 */
export function nbdMap(file: string, context: string, bitmaps: readonly string[], json = true, qemuNbd = 'qemu-nbd'): NbdMap {
  const server = [qemuNbd, '-r', '-f', 'qcow2', ...bitmaps.flatMap((b) => ['-B', b]), file];
  const r = spawnSync('nbdinfo', [`--map=${context}`, ...(json ? ['--json'] : []), '--', '[', ...server, ']'], {
    encoding: 'utf8', timeout: 30_000, maxBuffer: 512 * 1024 * 1024,
  });
  if (r.status !== 0) return { text: '', extents: null, stderr: r.stderr ?? String(r.error) };
  return { text: r.stdout, extents: json ? (JSON.parse(r.stdout) as NbdExtent[]) : null, stderr: r.stderr };
}

/**
 * Combines two maps over `a`'s range by `f` on their types (y undefined past `b`'s end), merging
 * equal neighbours: set arithmetic on QEMU's own maps, written independently of the engine.
 */
export function overlay(a: readonly NbdExtent[], b: readonly NbdExtent[], f: (x: number, y: number | undefined) => number): NbdExtent[] {
  const out: NbdExtent[] = [];
  let j = 0;
  for (const e of a) {
    let pos = e.offset;
    const end = e.offset + e.length;
    while (pos < end) {
      while (j < b.length && b[j]!.offset + b[j]!.length <= pos) j++;
      const o = b[j];
      const stop = o ? Math.min(end, o.offset + o.length) : end;
      const t = f(e.type, o?.type);
      const last = out[out.length - 1];
      if (last && last.type === t) out[out.length - 1] = { ...last, length: last.length + stop - pos };
      else out.push({ offset: pos, length: stop - pos, type: t });
      pos = stop;
    }
  }
  return out;
}

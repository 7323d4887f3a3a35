// Backing chains among files dropped together. A file backs another when its name equals the
// last path component of the other's backing file name (spec: "backing_file_offset"); nothing is
// guessed: a name no dropped file matches is reported missing.

import { BlobSource, Findings, loadHeaderStage, type BlobLike, type ByteSource } from '../format';

interface ChainPlan {
  /** Analysis order: the top of each chain first, then what it stands on. */
  readonly order: readonly number[];
  /** Index of each file's backing file among the dropped files, or null. */
  readonly backing: readonly (number | null)[];
  /** Each file's backing file name when no dropped file matches it, else null. */
  readonly missing: readonly (string | null)[];
  /** The dropped file serving `name` as the backing file of `file`, or null. */
  resolve(file: number, name: string): number | null;
}

export interface NamedBlob extends BlobLike {
  readonly name: string;
}

/** The last component of a path written by any OS (the header stores what the creator typed). */
export const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/** The backing file name stored in a qcow2 header, or null (not qcow2, none, unreadable). */
export async function readBackingName(f: NamedBlob, src: ByteSource = new BlobSource(f, f.name)): Promise<string | null> {
  try {
    return (await loadHeaderStage(src, new Findings())).backingFile;
  } catch {
    return null;
  }
}

/** `open` gives the source each file's header is read from (the analysis may read it again from there). */
export async function planChain(files: readonly NamedBlob[], open?: (file: number) => ByteSource): Promise<ChainPlan> {
  const names = await Promise.all(files.map((f, i) => readBackingName(f, open?.(i))));
  const find = (file: number, name: string): number | null => {
    const want = baseName(name);
    const i = files.findIndex((f, j) => j !== file && f.name === want);
    return i < 0 ? null : i;
  };
  const backing = names.map((n, i) => (n === null ? null : find(i, n)));
  const missing = names.map((n, i) => (n !== null && backing[i] === null ? n : null));
  const referenced = new Set(backing.filter((b): b is number => b !== null));
  const order: number[] = [];
  const visit = (start: number) => {
    for (let i: number | null = start; i !== null && !order.includes(i); i = backing[i] ?? null) order.push(i);
  };
  files.forEach((_, i) => {
    if (!referenced.has(i)) visit(i);
  });
  files.forEach((_, i) => visit(i)); // files only reachable through a cycle
  return { order, backing, missing, resolve: find };
}

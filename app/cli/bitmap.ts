// `qcowscope bitmap [--output=json] [--name NAME] [--minus|--and|--or OTHER] [--allocation] FILE`
//
// With --name: the bitmap's extents over the whole disk, exactly as `nbdinfo --map=qemu:dirty-
// bitmap:NAME [--json]` prints QEMU's export of it (`qemu-nbd -r -B NAME`); type 2 "unknown" where
// its bits cannot be read. Bitmaps QEMU would not export are printed too, with one stderr line
// saying why. --minus/--and/--or combine it with OTHER (a bitmap of the same image, or FILE2:NAME);
// --allocation splits dirty ranges into data / zero / unallocated through the backing chain.
// Without --name: every bitmap with its dirty bytes, extents, granularity and health.
// Exit codes: 0 printed, 1 the image or a bitmap could not be read, 2 usage.

import { existsSync, statSync } from 'node:fs';
import { Findings, loadHeaderStage, loadStructures, type Analysis, type Bitmap, type Finding, type Header } from '../format';
import { NodeFileSource } from '../format/node';
import {
  ALLOCATION_DESCRIPTIONS, BITMAP_DESCRIPTIONS, combine, nbdinfoChunks, qemuExportRefusal, readBitmapExtents,
  splitByAllocation, summarizeBitmaps, summariesJson, summariesText, type Extents, type GuestAllocation, type SetOp,
} from '../format';
import { ImageFiles, backingArg } from './map';
import type { CommandContext } from './main';

interface Options {
  readonly name: string | null;
  readonly op: { readonly op: SetOp; readonly other: string } | null;
  readonly allocation: boolean;
}

/** Flags bitmap takes a value for (main.ts turns `--name X` into `--name=X`). */
export const BITMAP_VALUE_FLAGS = ['--name', '--minus', '--and', '--or'] as const;

function parseOptions(args: readonly string[]): Options | string {
  let name: string | null = null;
  let op: Options['op'] = null;
  let allocation = false;
  for (const a of args) {
    const eq = a.indexOf('=');
    const flag = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? null : a.slice(eq + 1);
    if (flag === '--allocation' && value === null) allocation = true;
    else if (flag === '--name' && value !== null) name = value;
    else if ((flag === '--minus' || flag === '--and' || flag === '--or') && value !== null) {
      if (op) return 'give one of --minus, --and, --or';
      op = { op: flag.slice(2) as SetOp, other: value };
    } else if (flag !== '--backing') return `unknown option '${a}'`;
  }
  if (!name && (op || allocation)) return `${op ? `--${op.op}` : '--allocation'} needs --name NAME`;
  return { name, op, allocation };
}

/** One image, read for its bitmaps: its directory and the reasons QEMU refuses to open it. */
interface Image {
  readonly src: NodeFileSource;
  readonly header: Header;
  readonly bitmaps: readonly Bitmap[];
  readonly refusals: readonly Finding[];
}

const isRefusal = (x: Finding) => x.code === 'QEMU_REFUSES' || x.code === 'QEMU_REFUSES_IO';

async function openImage(file: string): Promise<Image> {
  const src = await NodeFileSource.open(file);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f);
    return { src, header: s.header, bitmaps: s.bitmapDirectory?.bitmaps ?? [], refusals: f.list.filter(isRefusal) };
  } catch (e) {
    await src.close();
    throw e;
  }
}

/** Reads bitmap `name` of `img`; reports on stderr why QEMU would not export it and what is unknown. */
async function bitmapMap(ctx: CommandContext, file: string, img: Image, name: string): Promise<Extents | null> {
  const b = img.bitmaps.find((x) => x.name === name);
  if (!b) {
    const names = img.bitmaps.map((x) => JSON.stringify(x.name)).slice(0, 20).join(', ');
    ctx.err(`${file}: no bitmap named ${JSON.stringify(name)} (${names ? `bitmaps: ${names}` : 'the image has no bitmaps'})\n`);
    return null;
  }
  const why = qemuExportRefusal(b, img.header, img.refusals);
  if (why) ctx.err(`${file}: note: qemu-nbd would not export bitmap ${JSON.stringify(name)}: ${why}\n`);
  const r = await readBitmapExtents(img.src, img.header, b);
  for (const f of r.findings) ctx.err(`${file}: ${f.structure}: ${f.message}\n`);
  return r.extents;
}

/** OTHER is a bitmap of FILE when FILE has one by that name, else FILE2:NAME (first ':' naming a file). */
function splitOther(other: string, img: Image): { file: string | null; name: string } {
  if (img.bitmaps.some((b) => b.name === other)) return { file: null, name: other };
  for (let i = other.indexOf(':'); i > 0; i = other.indexOf(':', i + 1)) {
    const path = other.slice(0, i);
    if (existsSync(path) && statSync(path).isFile()) return { file: path, name: other.slice(i + 1) };
  }
  return { file: null, name: other };
}

/** Whether `path` has holes: fewer bytes allocated on the host than its length (st_blocks). */
function hasHostHoles(path: string): boolean {
  try {
    const st = statSync(path);
    return st.blocks * 512 < st.size;
  } catch {
    return false;
  }
}

/**
 * Whether QEMU looks into the host file for holes inside allocated clusters of image `a` (file
 * `path`): it does for an external data file, and where qcow2_detect_metadata_preallocation finds
 * more clusters in use (refcount > 0) than max(10/9, +2) of those the host allocates.
 */
function qemuSeesHoles(path: string, a: Analysis): string | null {
  const dataFile = a.structures.extensions.dataFile;
  if (dataFile !== null) return hasHostHoles(dataFile) ? dataFile : null;
  if (!hasHostHoles(path)) return null;
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  const cs = a.check.clusterSize;
  const real = Math.floor((st.blocks * 512) / cs);
  const threshold = Math.max(Math.floor((real * 10) / 9), real + 2);
  const refs = a.check.storedRefcounts;
  const end = Math.min(refs.length, Math.ceil(st.size / cs));
  let inUse = 0;
  for (let i = 0; i < end && inUse < threshold; i++) if (refs[i]! > 0) inUse++;
  return inUse >= threshold ? path : null;
}

async function allocationOf(ctx: CommandContext): Promise<GuestAllocation> {
  const files = await ImageFiles.open(ctx.file, backingArg(ctx));
  try {
    const a = await files.analyze();
    // QEMU reports host holes inside allocated clusters as zeros (base:allocation type 2, qemu-img
    // map "zero": true); Node cannot find where they are, so they stay "dirty data" here.
    const holes = qemuSeesHoles(ctx.file, a);
    if (holes !== null) {
      ctx.err(`${ctx.file}: note: ${holes} has holes, and QEMU reports any inside a data cluster as zeros (base:allocation type 2); holes cannot be seen here, so those ranges stay "dirty data"\n`);
    }
    const missing = a.findings.filter((x) => x.code === 'BACKING_UNAVAILABLE');
    for (const x of missing) ctx.err(`${ctx.file}: note: ${x.message}\n`);
    if (a.check.mapError) ctx.err(`${ctx.file}: note: the guest map stops with "${a.check.mapError}": dirty ranges past it are unknown\n`);
    return { ranges: a.guestMap, chainComplete: missing.length === 0 };
  } finally {
    await files.close();
  }
}

export async function runBitmap(ctx: CommandContext): Promise<number> {
  const opts = parseOptions(ctx.args);
  if (typeof opts === 'string') {
    ctx.err(`qcowscope bitmap: ${opts}\n`);
    return 2;
  }
  const json = ctx.output === 'json';
  const img = await openImage(ctx.file);
  const opened: NodeFileSource[] = [img.src];
  try {
    if (opts.name === null) {
      const list = await summarizeBitmaps(img.src, img.header, img.bitmaps, img.refusals);
      ctx.out(json ? summariesJson(list) : summariesText(list));
      return 0;
    }
    let e = await bitmapMap(ctx, ctx.file, img, opts.name);
    if (!e) return 1;
    if (opts.op) {
      const where = splitOther(opts.op.other, img);
      let other = img;
      if (where.file !== null) {
        other = await openImage(where.file);
        opened.push(other.src);
      }
      const o = await bitmapMap(ctx, where.file ?? ctx.file, other, where.name);
      if (!o) return 1;
      e = combine(e, o, opts.op.op);
    }
    let descriptions = BITMAP_DESCRIPTIONS;
    if (opts.allocation) {
      e = splitByAllocation(e, await allocationOf(ctx));
      descriptions = ALLOCATION_DESCRIPTIONS;
    }
    const dec = new TextDecoder('latin1');
    const write = ctx.outBytes ?? ((b: Uint8Array) => ctx.out(dec.decode(b)));
    try {
      for (const chunk of nbdinfoChunks(e, descriptions, json)) write(chunk);
    } catch (err) {
      // The reader went away (`| head`): stop quietly, as a C tool dies of SIGPIPE.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    return 0;
  } finally {
    for (const s of opened) await s.close();
  }
}

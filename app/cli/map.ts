// `qcowscope map [--output=json] [--backing FILE] FILE`: qemu-img map. --output=json prints the
// bytes of the qemu-img chosen by --qemu-version exactly; the human form is qemu-img's table of data ranges. Backing files
// are found as qemu-img finds them: the name in the overlay's header, relative to the overlay's
// folder (or --backing FILE for the first one). Also the Node backing-file opener check and
// report use.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { analyze, FindingCode, type Analysis, guestMapJson, mapRangesFor, qemuText, type MapRange, type ByteSource } from '../format';
import { NodeFileSource } from '../format/node';
import type { CommandContext } from './main';
import { refusals } from './refusal';

/** Opens an image and the backing files its chain names; close() closes them all. */
export class ImageFiles {
  private readonly paths = new Map<ByteSource, string>();
  private readonly opened: NodeFileSource[] = [];
  /** Path of each chain level as opened (depth 0 = the image). */
  readonly chain: string[] = [];

  private constructor(readonly top: NodeFileSource, readonly file: string, private readonly backingOverride: string | null) {
    this.paths.set(top, file);
    this.opened.push(top);
    this.chain.push(file);
  }

  static async open(file: string, backingOverride: string | null = null): Promise<ImageFiles> {
    return new ImageFiles(await NodeFileSource.open(file), file, backingOverride);
  }

  /** The OpenBacking callback: `name` as written in `from`'s header, relative to its folder. */
  readonly openBacking = async (name: string, from?: ByteSource): Promise<ByteSource | null> => {
    const base = (from && this.paths.get(from)) ?? this.file;
    const path = from === this.top && this.backingOverride !== null
      ? this.backingOverride
      : isAbsolute(name) ? name : join(dirname(base), name);
    if (!existsSync(path)) return null;
    const src = await NodeFileSource.open(path);
    this.paths.set(src, path);
    this.opened.push(src);
    this.chain.push(path);
    return src;
  };

  async analyze(): Promise<Analysis> {
    // Nothing in the CLI tells refcounts from roles by array type: one byte per cluster when they fit.
    return analyze(this.top, { openBacking: this.openBacking, narrowRefcounts: true });
  }

  async close(): Promise<void> {
    for (const s of this.opened) await s.close();
  }
}

/** The `--backing=FILE` argument (main.ts turns `--backing FILE` into that form), or null. */
export function backingArg(ctx: CommandContext): string | null {
  const a = ctx.args.find((x) => x.startsWith('--backing='));
  return a ? a.slice('--backing='.length) : null;
}

/** printf's "%#-16"PRIx64 as qemu-img map prints it ("0" for zero): byte-exact, so not text.ts's hex. */
const hex = (n: number) => (n === 0 ? '0' : '0x' + n.toString(16));
const col = (s: string) => s.padEnd(16);

/** qemu-img map's human table: data ranges only; fails on data without an offset, as qemu-img does. */
function humanMap(ranges: readonly MapRange[], chain: readonly string[], dataFile: string | null): { text: string; error: string | null } {
  let text = `${col('Offset')}${col('Length')}${col('Mapped to')}File\n`;
  for (const r of ranges) {
    if (r.data && r.offset === undefined) return { text, error: 'File contains external, encrypted or compressed clusters.' };
    if (r.data && !r.zero) {
      const file = r.depth === 0 && dataFile ? dataFile : chain[r.depth] ?? '';
      text += `${col(hex(r.start))}${col(hex(r.length))}${col(hex(r.offset ?? 0))}${file}\n`;
    }
  }
  return { text, error: null };
}

export async function runMap(ctx: CommandContext): Promise<number> {
  const files = await ImageFiles.open(ctx.file, backingArg(ctx));
  try {
    const a = await files.analyze();
    for (const x of a.qemuRefuses) ctx.err(`${ctx.file}: note: QEMU ${ctx.qemuVersion} would refuse to open this image: ${x.message}\n`);
    // qemu-img map opens the image for I/O, as check does: without a LUKS key, or with its external
    // data file not found from the working directory, it fails. The map read from the metadata is
    // still printed (the data file is never opened), with qemu-img's reason as a note, and exit 1.
    const failsOpen = refusals(a.findings, 'check', { exists: existsSync }).filter((x) => x.code !== FindingCode.QEMU_REFUSES);
    for (const x of failsOpen) ctx.err(`${ctx.file}: note: qemu-img map would fail: Could not open '${ctx.file}': ${qemuText(x.message)}\n`);
    for (const x of a.findings) if (x.code === FindingCode.BACKING_UNAVAILABLE) ctx.err(`${ctx.file}: note: ${x.message}\n`);
    const error = a.check.mapError;
    const truncatedAt = a.check.mapTruncatedAt;
    if (truncatedAt !== null) ctx.err(`qcowscope: the map has more ranges than kept; cut at guest offset ${truncatedAt}\n`);
    if (ctx.output === 'json') ctx.out(guestMapJson({ ranges: a.guestMap, error, truncatedAt }, ctx.qemuVersion));
    else {
      const dataFile = a.structures.extensions.dataFile;
      const h = humanMap(mapRangesFor(a.guestMap, ctx.qemuVersion), files.chain, dataFile === null ? null : isAbsolute(dataFile) ? dataFile : join(dirname(ctx.file), dataFile));
      ctx.out(h.text);
      if (h.error) {
        ctx.err(`qcowscope: ${h.error}\n`);
        return 1;
      }
    }
    if (error) ctx.err(`qcowscope: ${error}\n`);
    return error || truncatedAt !== null || a.qemuRefuses.length || failsOpen.length ? 1 : 0;
  } finally {
    await files.close();
  }
}

// `qcowscope measure [--output=json] [-O qcow2|raw] [-o OPTIONS] FILE`: what `qemu-img measure
// [-O FMT] [-o OPTIONS] FILE` prints for a qcow2 FILE, stdout, stderr and exit code: the size
// `qemu-img convert` would need (required, fully allocated, bitmaps). -O defaults to raw as in
// qemu-img; -o may be repeated. Arithmetic in format/qemu-img/measure.ts.
// Where qemu-img could not open FILE it prints its "Could not open" line and exits 1.
// Exit 2: usage (an -O other than qcow2 or raw, an unknown flag).

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import {
  CRYPT_AES, CRYPT_LUKS, INCOMPAT_DATA_FILE, isValidOptionList, measure, measureInputOf, measureText, parseMeasureOptions, qemuText,
  type Analysis, type MeasureFormat,
} from '../format';
import { ImageFiles } from './map';
import type { CommandContext } from './main';

/** Flags measure takes a value for (main.ts turns `-O X` into `-O=X`). */
export const MEASURE_VALUE_FLAGS = ['-O', '-o'] as const;

interface Args {
  readonly format: string;
  readonly options: string[];
}

function parseArgs(args: readonly string[]): Args | { usage: string } | { error: string } {
  let format = 'raw';
  const options: string[] = [];
  for (const a of args) {
    const m = /^-([Oo])=?(.*)$/s.exec(a);
    if (!m) return { usage: `unknown option '${a}'` };
    if (m[1] === 'O') format = m[2]!;
    else {
      if (!isValidOptionList(m[2]!)) return { error: `qemu-img: Invalid option list: ${m[2]!}\n` };
      options.push(m[2]!);
    }
  }
  return { format, options };
}

/** Why qemu-img could not open the image (its words after "Could not open 'FILE': "), or null. */
function openFailure(a: Analysis, file: string): string | null {
  const s = a.structures;
  const backing = s.backingFile;
  if (backing !== null && backing !== '') {
    const path = isAbsolute(backing) ? backing : join(dirname(file), backing);
    if (!existsSync(path)) return `Could not open backing file: Could not open '${path}': No such file or directory`;
  }
  const dataFile = s.extensions.dataFile;
  if (dataFile !== null && s.header.incompatibleFeatures & INCOMPAT_DATA_FILE && !existsSync(dataFile)) return `Could not open '${dataFile}': No such file or directory`;
  const refusal = a.qemuRefuses[0];
  if (refusal) return qemuText(refusal.message);
  if (s.header.cryptMethod === CRYPT_LUKS || s.header.cryptMethod === CRYPT_AES) return "Parameter 'encrypt.key-secret' is required for cipher";
  return null;
}

export async function runMeasure(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.args);
  if ('usage' in args) {
    ctx.err(`qcowscope: measure: ${args.usage}\n`);
    return 2;
  }
  if ('error' in args) {
    ctx.err(args.error);
    return 1;
  }
  if (!existsSync(ctx.file)) {
    ctx.err(`qemu-img: Could not open '${ctx.file}': Could not open '${ctx.file}': No such file or directory\n`);
    return 1;
  }
  const files = await ImageFiles.open(ctx.file);
  try {
    const a = await files.analyze();
    const failure = openFailure(a, ctx.file);
    if (failure !== null) {
      ctx.err(`qemu-img: Could not open '${ctx.file}': ${failure}\n`);
      return 1;
    }
    if (args.format !== 'qcow2' && args.format !== 'raw') {
      ctx.err(`qcowscope: measure computes -O qcow2 and -O raw only, not '${args.format}'\n`);
      return 2;
    }
    if (a.check.mapTruncatedAt !== null) {
      ctx.err(`qcowscope: the guest map has more ranges than kept (cut at guest offset ${a.check.mapTruncatedAt}); cannot measure\n`);
      return 1;
    }
    const format: MeasureFormat = args.format;
    const parsed = parseMeasureOptions(args.options, format, ctx.qemuVersion);
    if ('error' in parsed) {
      ctx.err(parsed.error);
      return 1;
    }
    ctx.err(parsed.warnings);
    const r = measure(measureInputOf(a), format, parsed.options);
    if ('error' in r) {
      ctx.err(r.error);
      return 1;
    }
    ctx.out(measureText(r, ctx.output));
    return 0;
  } finally {
    await files.close();
  }
}

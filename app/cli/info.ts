// `qcowscope info`: qemu-img info for one image. --output=json prints the JSON of the qemu-img
// chosen by --qemu-version byte for byte; the human output follows qemu-img's
// (format/qemu-img/info-human.ts). An image QEMU refuses is refused as qemu-img refuses it
// (refusal.ts): exit 1, qemu-img's "Could not open" line; `report` still reads it.

import { statSync } from 'node:fs';
import { Findings, qemuInfo, qemuInfoText, humanInfo, loadHeaderStage, loadStructures, type FileNodeFacts } from '../format';
import { NodeFileSource } from '../format/node';
import type { CommandContext } from './main';
import { openWarnings, printRefusal, refusals } from './refusal';

export async function runInfo(ctx: CommandContext): Promise<number> {
  const src = await NodeFileSource.open(ctx.file);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f);
    const refused = refusals(f.list, 'info');
    ctx.err(openWarnings(f.list, s.header.version, refused[0]));
    if (printRefusal(ctx.file, refused, ctx.err)) return 1;
    const file = await fileFacts(ctx.file);
    const actualSize = file.actualSize;
    const info = qemuInfo(s, { filename: ctx.file, version: ctx.qemuVersion, file, ...(actualSize === undefined ? {} : { actualSize }) });
    ctx.out(ctx.output === 'json' ? qemuInfoText(info) + '\n' : humanInfo(info, ctx.qemuVersion));
    return 0;
  } finally {
    await src.close();
  }
}

/** The file's length and host bytes allocated to it (st_blocks * 512; qemu-img adds no external data file's). */
async function fileFacts(file: string): Promise<FileNodeFacts> {
  const st = statSync(file);
  return typeof st.blocks === 'number' ? { length: st.size, actualSize: st.blocks * 512 } : { length: st.size };
}

export { humanInfo, sizeToStr } from '../format';

// `qcowscope info`: qemu-img info for one image. --output=json prints the JSON of the qemu-img
// chosen by --qemu-version byte for byte; the human output follows qemu-img's
// (format/qemu-img/info-human.ts). Reasons QEMU would refuse the image go to stderr as notes: the
// explorer still reads it.

import { stat } from 'node:fs/promises';
import { Findings, qemuInfo, qemuInfoText, humanInfo, loadHeaderStage, loadStructures, type FileNodeFacts } from '../format';
import { NodeFileSource } from '../format/node';
import type { CommandContext } from './main';

export async function runInfo(ctx: CommandContext): Promise<number> {
  const src = await NodeFileSource.open(ctx.file);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f);
    const file = await fileFacts(ctx.file);
    const actualSize = file.actualSize;
    const info = qemuInfo(s, { filename: ctx.file, version: ctx.qemuVersion, file, ...(actualSize === undefined ? {} : { actualSize }) });
    ctx.out(ctx.output === 'json' ? qemuInfoText(info) + '\n' : humanInfo(info, ctx.qemuVersion));
    for (const x of f.list) {
      if (x.code === 'QEMU_REFUSES') ctx.err(`${ctx.file}: note: QEMU ${ctx.qemuVersion} would refuse to open this image: ${x.message}\n`);
    }
    return 0;
  } finally {
    await src.close();
  }
}

/** The file's length and host bytes allocated to it (st_blocks * 512; qemu-img adds no external data file's). */
async function fileFacts(file: string): Promise<FileNodeFacts> {
  const st = await stat(file);
  return typeof st.blocks === 'number' ? { length: st.size, actualSize: st.blocks * 512 } : { length: st.size };
}

export { humanInfo, sizeToStr } from '../format';

// `qcowscope info`: qemu-img info for one image. --output=json prints qemu-img 7.2's JSON byte
// for byte; the human output follows qemu-img's (block/qapi.c bdrv_image_info_dump). An image QEMU
// refuses is refused as qemu-img refuses it (refusal.ts).

import { stat } from 'node:fs/promises';
import { Findings } from '../format/qcow2/errors';
import { qemuInfo, qemuInfoText, type QemuInfoJson, type QemuSnapshotInfo } from '../format/qemu-img/info';
import { qdictOrder, type QValue } from '../format/qemu-img/qemu-json';
import { NodeFileSource } from '../format/qcow2/source-node';
import { loadHeaderStage, loadStructures } from '../format/qcow2/structures';
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
    const actualSize = await allocatedBytes(ctx.file);
    const info = qemuInfo(s, { filename: ctx.file, ...(actualSize === undefined ? {} : { actualSize }) });
    ctx.out(ctx.output === 'json' ? qemuInfoText(info) + '\n' : humanInfo(info));
    return 0;
  } finally {
    await src.close();
  }
}

/** Host bytes allocated to the image file (st_blocks * 512); QEMU 7.2 does not add an external data file's. */
async function allocatedBytes(file: string): Promise<number | undefined> {
  const st = await stat(file);
  return typeof st.blocks === 'number' ? st.blocks * 512 : undefined;
}

/** QEMU's size_to_str: "0 B", "512 KiB", "1.32 MiB" (three significant digits). */
export function sizeToStr(v: number | bigint): string {
  const val = Number(v);
  const x = val / (1000 / 1024);
  const exp = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  const i = Math.max(0, Math.trunc((exp - 1) / 10));
  const suffix = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][i] ?? '';
  let n = (val / 2 ** (i * 10)).toPrecision(3);
  if (n.includes('.') && !n.includes('e')) n = n.replace(/0+$/, '').replace(/\.$/, '');
  return `${n} ${suffix}B`;
}

const utf8Len = (s: string) => new TextEncoder().encode(s).length;
/** printf's %-Ns / %Ns: pads by bytes, as C does. */
const padEnd = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - utf8Len(s)));
const padStart = (s: string, n: number) => ' '.repeat(Math.max(0, n - utf8Len(s))) + s;
const two = (n: number) => String(n).padStart(2, '0');

function snapshotLine(sn: QemuSnapshotInfo): string {
  const d = new Date(Number(sn['date-sec']) * 1000);
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const secs = Number(sn['vm-clock-sec']);
  const clock = `${two(Math.trunc(secs / 3600))}:${two(Math.trunc(secs / 60) % 60)}:${two(secs % 60)}.${String(Math.trunc(sn['vm-clock-nsec'] / 1e6) % 1000).padStart(3, '0')}`;
  const icount = sn.icount === undefined ? '' : String(sn.icount);
  return `${padEnd(sn.id, 9)} ${padEnd(sn.name, 16)} ${padStart(sizeToStr(sn['vm-state-size']), 8)}${padStart(date, 20)}${padStart(clock, 13)}${padStart(icount, 11)}\n`;
}

/** QEMU's dump_qobject / dump_qdict / dump_qlist: keys with '-' as ' ', 4 spaces per level. */
function dump(v: QValue, indent: number): string {
  const pad = ' '.repeat(indent * 4);
  const composite = (x: QValue) => x !== null && typeof x === 'object';
  if (Array.isArray(v)) {
    return v.map((x: QValue, i: number) => `${pad}[${i}]:${composite(x) ? '\n' + dump(x, indent + 1) : ' ' + dump(x, indent + 1) + '\n'}`).join('');
  }
  if (composite(v)) {
    const o = v as { readonly [k: string]: QValue };
    return Object.keys(o).map((k) => {
      const x = o[k]!;
      return `${pad}${k.replaceAll('-', ' ')}:${composite(x) ? '\n' + dump(x, indent + 1) : ' ' + dump(x, indent + 1) + '\n'}`;
    }).join('');
  }
  return v === null ? 'null' : String(v);
}

/** The human-readable form of qemu-img info. */
export function humanInfo(info: QemuInfoJson): string {
  const actual = info['actual-size'];
  let t = `image: ${info.filename}\nfile format: ${info.format}\n`
    + `virtual size: ${sizeToStr(info['virtual-size'])} (${info['virtual-size']} bytes)\n`
    + `disk size: ${actual === undefined ? 'unavailable' : sizeToStr(actual)}\n`;
  if (info.encrypted) t += 'encrypted: yes\n';
  t += `cluster_size: ${info['cluster-size']}\n`;
  if (info['dirty-flag']) t += 'cleanly shut down: no\n';
  const backing = info['backing-filename'];
  if (backing !== undefined) {
    const full = info['full-backing-filename'];
    t += `backing file: ${backing}${full === undefined ? ' (cannot determine actual path)' : full !== backing ? ` (actual path: ${full})` : ''}\n`;
    if (info['backing-filename-format'] !== undefined) t += `backing file format: ${info['backing-filename-format']}\n`;
  }
  if (info.snapshots) {
    t += 'Snapshot list:\n';
    t += `${padEnd('ID', 10)}${padEnd('TAG', 17)}${padStart('VM SIZE', 8)}${padStart('DATE', 20)}${padStart('VM CLOCK', 13)}${padStart('ICOUNT', 11)}\n`;
    for (const sn of info.snapshots) t += snapshotLine(sn);
  }
  t += 'Format specific information:\n';
  t += dump(qdictOrder(info['format-specific'].data as unknown as QValue), 1);
  return t;
}

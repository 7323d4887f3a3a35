// qemu-img info's human-readable form (block/qapi.c bdrv_node_info_dump, bdrv_snapshot_dump,
// dump_qobject; qemu-img.c dump_human_image_info). 7.2 and 10.0 differ in the snapshot table
// (snapshot-table.ts) and in 10.0's "Child node '/file':" block for the protocol node.

import type { QemuInfoJson } from './info';
import type { QemuChildInfo } from './info-children';
import { qdictOrder, type QValue } from './qemu-json';
import { snapshotTable } from './snapshot-table';
import { sizeToStr } from './size-to-str';
import type { QemuVersion } from './version';

export { sizeToStr } from './size-to-str';

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

/** The protocol node's lines (bdrv_node_info_dump with protocol = true), `indent` levels deep. */
function childNode(child: QemuChildInfo, indent: number, path: string): string {
  const pad = ' '.repeat(indent * 4);
  const inner = ' '.repeat((indent + 1) * 4);
  const i = child.info;
  const actual = i['actual-size'];
  let t = `${pad}Child node '${path}${child.name}':\n`
    + `${inner}filename: ${i.filename}\n`
    + `${inner}protocol type: ${i.format}\n`
    + `${inner}file length: ${sizeToStr(i['virtual-size'])} (${i['virtual-size']} bytes)\n`
    + `${inner}disk size: ${actual === undefined ? 'unavailable' : sizeToStr(actual)}\n`;
  const data = i['format-specific'].data as unknown as QValue;
  if (Object.keys(data as object).length > 0) t += `${inner}Format specific information:\n` + dump(qdictOrder(data), indent + 2);
  return t;
}

/** The human-readable form of qemu-img info, as `version` prints it. */
export function humanInfo(info: QemuInfoJson, version: QemuVersion = '7.2'): string {
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
  if (info.snapshots) t += 'Snapshot list:\n' + snapshotTable(info.snapshots, version);
  t += 'Format specific information:\n';
  t += dump(qdictOrder(info['format-specific'].data as unknown as QValue), 1);
  if (version === '10.0') for (const c of info.children ?? []) t += childNode(c, 0, '/');
  return t;
}

// What qemu-img check prints (qemu-img.c collect_image_check, dump_json_image_check,
// dump_human_image_check; qapi/block-core.json ImageCheck): the JSON object with each optional
// count present only when non-zero, keys in QDict order, and the human summary.

import { qdictOrder, toQemuJson } from './qemu-json';

/** The counts qemu-img check reports (ImageCheck's numbers, all present). */
export interface CheckCounts {
  readonly corruptions: number;
  readonly leaks: number;
  readonly checkErrors: number;
  readonly imageEndOffset: number;
  readonly totalClusters: number;
  readonly allocatedClusters: number;
  readonly fragmentedClusters: number;
  readonly compressedClusters: number;
}

/** ImageCheck as qemu-img check --output=json prints it. */
export interface QemuCheckJson {
  readonly filename: string;
  readonly format: string;
  readonly 'check-errors': number;
  readonly 'image-end-offset'?: number;
  readonly corruptions?: number;
  readonly leaks?: number;
  readonly 'total-clusters'?: number;
  readonly 'allocated-clusters'?: number;
  readonly 'fragmented-clusters'?: number;
  readonly 'compressed-clusters'?: number;
}

/** The ImageCheck object with its keys in the order qemu-img prints them. */
export function qemuCheckJson(filename: string, c: CheckCounts): QemuCheckJson {
  // Inserted in QAPI schema order; qdictOrder turns that into QEMU's hash-table order.
  const o: Record<string, string | number> = { filename, format: 'qcow2', 'check-errors': c.checkErrors };
  const opt = (key: string, v: number) => {
    if (v !== 0) o[key] = v;
  };
  opt('image-end-offset', c.imageEndOffset);
  opt('corruptions', c.corruptions);
  opt('leaks', c.leaks);
  opt('total-clusters', c.totalClusters);
  opt('allocated-clusters', c.allocatedClusters);
  opt('fragmented-clusters', c.fragmentedClusters);
  opt('compressed-clusters', c.compressedClusters);
  return qdictOrder(o) as unknown as QemuCheckJson;
}

/** The bytes qemu-img check --output=json writes to stdout. */
export function qemuCheckJsonText(j: QemuCheckJson): string {
  return toQemuJson(j as unknown as Record<string, string | number>) + '\n';
}

/** printf("%0.2f") of a * 100.0 / b: exact binary ties round to even, as glibc does. */
function pct(a: number, b: number): string {
  const x = (a * 100) / b;
  const scaled = x * 100;
  const fl = Math.floor(scaled);
  if (scaled - fl === 0.5 && Number.isSafeInteger(fl)) return ((fl % 2 === 0 ? fl : fl + 1) / 100).toFixed(2);
  return x.toFixed(2);
}

/** qemu-img check's human summary (dump_human_image_check), without the per-cluster lines. */
export function qemuCheckHuman(c: CheckCounts): string {
  let out = '';
  if (c.corruptions === 0 && c.leaks === 0 && c.checkErrors === 0) out += 'No errors were found on the image.\n';
  else {
    if (c.corruptions) out += `\n${c.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    if (c.leaks) out += `\n${c.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    if (c.checkErrors) out += `\n${c.checkErrors} internal errors have occurred during the check.\n`;
  }
  if (c.totalClusters !== 0 && c.allocatedClusters !== 0) {
    out += `${c.allocatedClusters}/${c.totalClusters} = ${pct(c.allocatedClusters, c.totalClusters)}% allocated, ` +
      `${pct(c.fragmentedClusters, c.allocatedClusters)}% fragmented, ${pct(c.compressedClusters, c.allocatedClusters)}% compressed clusters\n`;
  }
  if (c.imageEndOffset) out += `Image end offset: ${c.imageEndOffset}\n`;
  return out;
}

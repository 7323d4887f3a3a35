// qemu-img 10.0's info: the image's own node is followed by its children (qemu-img.c
// collect_image_info_list → block/qapi.c bdrv_query_block_graph_info; BlockGraphInfo and
// BlockChildInfo in qapi/block-core.json). For a qcow2 image opened from a file that is one child,
// "file": the protocol node, whose BlockNodeInfo carries the file's length (rounded up to 512 bytes)
// as its virtual size, the host's allocated bytes as its actual size and the file driver's (empty)
// format-specific data.
// A browser knows the length (File.size) but not the allocation: there, 'actual-size' is left out.

import type { QValue } from './qemu-json';

/** What the host tells about the image file (stat). */
export interface FileNodeFacts {
  /** The file's length in bytes (bdrv_getlength of the protocol node). */
  readonly length: number;
  /** Bytes the host allocated to it (st_blocks * 512); undefined where unknown. */
  readonly actualSize?: number;
}

/** One BlockChildInfo: { name, info: BlockGraphInfo }, keys inserted in schema order. */
export interface QemuChildInfo {
  name: string;
  info: QemuFileNodeInfo;
}

export type QemuFileNodeInfo = {
  filename: string;
  format: 'file';
  'dirty-flag': boolean;
  'actual-size'?: number;
  'virtual-size': number;
  'format-specific': { type: 'file'; data: Record<string, never> };
  children: [];
};

/** The "file" child of an image opened as `filename` (BlockNodeInfo fields in schema order, then children). */
export function fileChild(filename: string, facts: FileNodeFacts): QemuChildInfo {
  const info: Record<string, QValue> = { filename, format: 'file', 'dirty-flag': false };
  if (facts.actualSize !== undefined) info['actual-size'] = facts.actualSize;
  // bdrv_getlength counts whole 512-byte sectors: a file's length is rounded up.
  info['virtual-size'] = Math.ceil(facts.length / 512) * 512;
  info['format-specific'] = { type: 'file', data: {} };
  info.children = [];
  return { name: 'file', info: info as unknown as QemuFileNodeInfo };
}

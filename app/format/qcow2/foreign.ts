// What a file is when it is not a qcow2 image we can read: detected from its first bytes (and its
// last 512 bytes, for a fixed VHD or a DMG). Used by the header stage to refuse a file with one
// line that says what the file is, e.g. "VMDK sparse extent (version 1)" or "empty file (0 bytes)".

import { QCOW_MAGIC } from './spec';
import { hexBytes } from '../text';

export type ForeignKind =
  | 'empty' | 'too-short' | 'qcow2-truncated' | 'qcow1'
  | 'vmdk' | 'vmdk-cowd' | 'vmdk-descriptor' | 'vhd' | 'vhdx' | 'vdi' | 'qed' | 'parallels' | 'dmg'
  | 'luks' | 'iso9660' | 'gpt' | 'mbr' | 'ext' | 'compressed' | 'unknown';

export interface ForeignFormat {
  readonly kind: ForeignKind;
  /** One line for a person: what the file is. */
  readonly description: string;
}

/** Bytes of the file's start that detectForeign looks at (ISO 9660 needs 32774). */
export const FOREIGN_HEAD_BYTES = 40 * 1024;
/** Bytes of the file's end that detectForeign looks at. */
export const FOREIGN_TAIL_BYTES = 512;

const ascii = (b: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
};
const bytesAt = (b: Uint8Array, at: number, bytes: readonly number[]): boolean =>
  at + bytes.length <= b.length && bytes.every((x, i) => b[at + i] === x);
const u32be = (b: Uint8Array, at: number): number | null =>
  at + 4 <= b.length ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at) : null;
const u32le = (b: Uint8Array, at: number): number | null =>
  at + 4 <= b.length ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true) : null;
const u16be = (b: Uint8Array, at: number): number | null =>
  at + 2 <= b.length ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at) : null;

const VHD_TYPES: Record<number, string> = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };

function vhdFooter(b: Uint8Array, at: number): string {
  const type = u32be(b, at + 60);
  return type !== null && VHD_TYPES[type] ? `VHD / Virtual PC image (${VHD_TYPES[type]})` : 'VHD / Virtual PC image';
}

const COMPRESSED: [readonly number[], string][] = [
  [[0x1f, 0x8b], 'gzip'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
  [[0x42, 0x5a, 0x68], 'bzip2'],
  [[0x50, 0x4b, 0x03, 0x04], 'zip'],
];

function firstBytes(head: Uint8Array): string {
  return hexBytes(head.subarray(0, 8));
}

/** Detects qcow2's own magic with a header too short or too old for this tool; null when fine. */
function qcowMagicProblem(head: Uint8Array, size: number): ForeignFormat | null {
  const version = u32be(head, 4);
  if (version === null) return { kind: 'qcow2-truncated', description: `truncated qcow2 header (${size} bytes: the magic, but no version)` };
  if (version === 1) return { kind: 'qcow1', description: "qcow version 1 (the old format; QEMU's qcow driver)" };
  // A header cut after its version reads as if zeros followed, as QEMU reads it (structures.ts).
  return null;
}

/**
 * Says what a file is when it is not a readable qcow2 image, or returns null when it is one
 * (qcow2 magic, version other than 1, and a complete fixed header). `head` is the file's first
 * bytes (up to FOREIGN_HEAD_BYTES), `size` the file size, `tail` its last bytes (up to 512).
 */
export function detectForeign(head: Uint8Array, size: number, tail?: Uint8Array): ForeignFormat | null {
  if (size === 0) return { kind: 'empty', description: 'empty file (0 bytes)' };
  if (size < 4 || head.length < 4) return { kind: 'too-short', description: `too short to be qcow2 (${size} byte${size === 1 ? '' : 's'})` };
  if (u32be(head, 0) === QCOW_MAGIC) return qcowMagicProblem(head, size);

  if (ascii(head, 0, 'KDMV')) {
    const v = u32le(head, 4);
    return { kind: 'vmdk', description: `VMDK sparse extent (VMware${v === null ? '' : `, version ${v}`})` };
  }
  if (ascii(head, 0, 'COWD')) return { kind: 'vmdk-cowd', description: 'VMDK COW disk (VMware ESX)' };
  if (ascii(head, 0, '# Disk DescriptorFile')) return { kind: 'vmdk-descriptor', description: 'VMDK descriptor (text file naming the VMware extents)' };
  if (ascii(head, 0, 'conectix')) return { kind: 'vhd', description: vhdFooter(head, 0) };
  if (ascii(head, 0, 'vhdxfile')) return { kind: 'vhdx', description: 'VHDX image (Hyper-V)' };
  if (u32le(head, 64) === 0xbeda107f) return { kind: 'vdi', description: 'VDI image (VirtualBox)' };
  if (ascii(head, 0, '<<< Oracle VM VirtualBox Disk Image >>>')) return { kind: 'vdi', description: 'VDI image (VirtualBox)' };
  if (ascii(head, 0, 'QED\0')) return { kind: 'qed', description: 'QED image (QEMU enhanced disk)' };
  if (ascii(head, 0, 'WithoutFreeSpace') || ascii(head, 0, 'WithouFreSpacExt')) return { kind: 'parallels', description: 'Parallels disk image' };
  if (bytesAt(head, 0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe])) {
    const v = u16be(head, 6);
    return { kind: 'luks', description: `LUKS encrypted volume (version ${v ?? '?'}; QEMU's luks driver, not qcow2)` };
  }
  for (const [magic, name] of COMPRESSED) {
    if (bytesAt(head, 0, magic)) return { kind: 'compressed', description: `${name}-compressed file (decompress it first)` };
  }
  if (tail && tail.length >= 512) {
    const at = tail.length - 512;
    if (ascii(tail, at, 'conectix')) return { kind: 'vhd', description: vhdFooter(tail, at) };
    if (ascii(tail, at, 'koly')) return { kind: 'dmg', description: 'Apple disk image (DMG)' };
  }
  if (ascii(head, 32769, 'CD001')) return { kind: 'iso9660', description: 'ISO 9660 image (CD/DVD)' };
  if (ascii(head, 512, 'EFI PART')) return { kind: 'gpt', description: 'raw disk image with a GPT partition table' };
  if (head[510] === 0x55 && head[511] === 0xaa) return { kind: 'mbr', description: 'raw disk image with an MBR (DOS) partition table or boot sector' };
  if (head[1080] === 0x53 && head[1081] === 0xef) return { kind: 'ext', description: 'raw ext2/3/4 file system image' };
  let zeros = 0;
  while (zeros < head.length && head[zeros] === 0) zeros++;
  if (zeros === head.length) return { kind: 'unknown', description: `unknown format (raw data? the first ${head.length} bytes are all zero)` };
  const text = textStart(head);
  if (text !== null) return { kind: 'unknown', description: `a text file, not a disk image (it starts “${text}”)` };
  return { kind: 'unknown', description: `unknown format (first bytes ${firstBytes(head)})` };
}

/**
 * The first line (≤ 40 characters) when the first ≤ 512 bytes look like text: no NUL and nothing but
 * printable ASCII, tab, CR, LF and bytes of UTF-8 sequences; else null.
 */
function textStart(head: Uint8Array): string | null {
  const n = Math.min(head.length, 512);
  if (n === 0) return null;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return null;
    if (b === 0x7f) return null;
  }
  const line = new TextDecoder('utf-8').decode(head.subarray(0, n)).split(/\r?\n/)[0] ?? '';
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

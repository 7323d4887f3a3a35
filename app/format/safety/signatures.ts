// Format signatures at the offsets where other tools look for them, to find polyglots: one file
// that qemu-img reads as qcow2 while a loader, a partitioning tool, an ISO reader or another
// image driver reads it as something else. Only the places a prober reads are looked at — the
// first 40 KiB (the header cluster, and with small clusters the first tables) and the last 512
// bytes — never the whole data area, which is the guest's own business.
// Magics: ISO 9660 "CD001" (and UDF) at 0x8001 / 0x8801 / 0x9001, the MBR boot signature 55 AA at
// 510 and GPT "EFI PART" at 512, VMDK "KDMV" / "COWD" / "# Disk DescriptorFile", VHD "conectix"
// (at 0, or the footer in the last 512 bytes), VHDX "vhdxfile", VDI's 0xbeda107f at 64, LUKS
// "LUKS\xba\xbe", QED "QED\0", Parallels, DMG "koly" (last 512 bytes), qcow "QFI\xfb".

import { FOREIGN_HEAD_BYTES, FOREIGN_TAIL_BYTES } from '../qcow2/foreign';
import { QCOW_MAGIC } from '../qcow2/spec';
import type { ByteSource } from '../qcow2/source';

/** Format families: a GPT disk also carries an MBR (its protective one), so they are one family. */
export type SignatureFormat = 'qcow' | 'iso9660' | 'partition-table' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'luks' | 'qed' | 'parallels' | 'dmg';

export const FORMAT_LABELS: Readonly<Record<SignatureFormat, string>> = {
  qcow: 'qcow/qcow2', iso9660: 'ISO 9660 / UDF', 'partition-table': 'MBR/GPT partitioned disk', vmdk: 'VMDK', vhd: 'VHD',
  vhdx: 'VHDX', vdi: 'VDI', luks: 'LUKS', qed: 'QED', parallels: 'Parallels', dmg: 'DMG',
};

export interface Signature {
  readonly format: SignatureFormat;
  /** What was found, e.g. `"CD001" at 0x8001`. */
  readonly what: string;
  /** File offset of the magic. */
  readonly offset: number;
}

type Where = number | 'tail';
interface Magic {
  readonly format: SignatureFormat;
  readonly bytes: readonly number[];
  readonly label: string;
  readonly at: readonly Where[];
}

const text = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const magic = (format: SignatureFormat, label: string, bytes: readonly number[], ...at: Where[]): Magic => ({ format, label, bytes, at });
const ISO_AT = [0x8001, 0x8801, 0x9001];

const MAGICS: readonly Magic[] = [
  magic('qcow', '"QFI\\xfb"', [(QCOW_MAGIC >>> 24) & 0xff, (QCOW_MAGIC >>> 16) & 0xff, (QCOW_MAGIC >>> 8) & 0xff, QCOW_MAGIC & 0xff], 0),
  magic('iso9660', '"CD001"', text('CD001'), ...ISO_AT),
  magic('iso9660', '"BEA01" (UDF)', text('BEA01'), ...ISO_AT),
  magic('iso9660', '"NSR02" (UDF)', text('NSR02'), ...ISO_AT),
  magic('iso9660', '"NSR03" (UDF)', text('NSR03'), ...ISO_AT),
  magic('partition-table', 'boot signature 55 AA', [0x55, 0xaa], 510),
  magic('partition-table', '"EFI PART"', text('EFI PART'), 512),
  magic('vmdk', '"KDMV"', text('KDMV'), 0),
  magic('vmdk', '"COWD"', text('COWD'), 0),
  magic('vmdk', '"# Disk DescriptorFile"', text('# Disk DescriptorFile'), 0),
  magic('vhd', '"conectix"', text('conectix'), 0, 'tail'),
  magic('vhdx', '"vhdxfile"', text('vhdxfile'), 0),
  magic('vdi', 'VDI signature 0xbeda107f', [0x7f, 0x10, 0xda, 0xbe], 64),
  magic('luks', '"LUKS\\xba\\xbe"', [...text('LUKS'), 0xba, 0xbe], 0),
  magic('qed', '"QED\\0"', [...text('QED'), 0], 0),
  magic('parallels', '"WithoutFreeSpace"', text('WithoutFreeSpace'), 0),
  magic('parallels', '"WithouFreSpacExt"', text('WithouFreSpacExt'), 0),
  magic('dmg', '"koly"', text('koly'), 'tail'),
];

const hexAt = (n: number): string => `0x${n.toString(16)}`;

/**
 * Every signature in `head` (the file's first bytes) and `tail` (its last bytes, up to 512) of a
 * file of `size` bytes. Tail signatures are looked for in the last 512 bytes only.
 */
export function findSignatures(head: Uint8Array, tail: Uint8Array, size: number): Signature[] {
  const out: Signature[] = [];
  const matches = (b: Uint8Array, at: number, m: Magic) => at >= 0 && at + m.bytes.length <= b.length && m.bytes.every((x, i) => b[at + i] === x);
  for (const m of MAGICS) {
    for (const w of m.at) {
      if (w === 'tail') {
        const at = tail.length - 512;
        // A footer at offset 0 is the head's business.
        if (tail.length >= 512 && size > 512 && matches(tail, at, m)) out.push({ format: m.format, what: `${m.label} in the last 512 bytes`, offset: size - 512 });
      } else if (matches(head, w, m)) {
        out.push({ format: m.format, what: `${m.label} at ${hexAt(w)}`, offset: w });
      }
    }
  }
  return out;
}

/**
 * Reads what findSignatures needs from `src`: the first FOREIGN_HEAD_BYTES and the last 512 bytes.
 * `known` is the file's first bytes already read (cluster 0): used instead of a second read when
 * it covers the head; only its first min(size, FOREIGN_HEAD_BYTES) bytes are looked at, so bytes
 * zero-filled past the end of a short file are never taken as the file's.
 */
export async function readSignatures(src: ByteSource, known?: Uint8Array): Promise<Signature[]> {
  const headBytes = Math.min(src.size, FOREIGN_HEAD_BYTES);
  const head = known && known.length >= headBytes ? known.subarray(0, headBytes) : await src.read(0, headBytes);
  const tail = await src.read(Math.max(0, src.size - FOREIGN_TAIL_BYTES), Math.min(src.size, FOREIGN_TAIL_BYTES));
  return findSignatures(head, tail, src.size);
}

/** The distinct formats among `sigs`, in the order first found. */
export function formatsOf(sigs: readonly Signature[]): SignatureFormat[] {
  return [...new Set(sigs.map((s) => s.format))];
}

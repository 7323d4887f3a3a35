// Reasons QEMU would not open a file as a qcow2 image, for the safety verdict: the analysis's
// QEMU_REFUSES findings (QEMU's own wording) grouped by cause, the corrupt bit and legacy AES, and
// files that are not qcow2 at all (qcow version 1, other formats, a header cut short).

import type { Finding } from '../qcow2/errors';
import type { ForeignFormat } from '../qcow2/foreign';
import type { Structures } from '../qcow2/model';
import type { SafetyReason } from './types';

const FRESH_COPY = 'Ask for a fresh copy made by `qemu-img convert -O qcow2`; qemu-img cannot repair a file it will not open.';
const REFUSAL_CODES = new Set(['QEMU_REFUSES', 'QEMU_REFUSES_IO', 'QEMU_REFUSES_OPEN']);
/** Distinct refusals listed at most (a damaged bitmap directory can give thousands). */
const MAX_REFUSALS = 20;

const refused = (r: Omit<SafetyReason, 'kind'>): SafetyReason => ({ kind: 'refused', ...r });
const offsetOf = (f: Finding): { offset?: number } => (f.offset === null ? {} : { offset: f.offset });

/** The refused reasons of an analysed qcow2 image. */
export function qemuRefusals(s: Structures, findings: readonly Finding[]): SafetyReason[] {
  const out: SafetyReason[] = [];
  const seen = new Set<string>();
  const zeroOffset = new Map((s.bitmapDirectory?.bitmaps ?? []).filter((b) => b.zeroOffsetEmpty && b.qemuRefuses.length > 0).map((b) => [`bitmap "${b.name}"`, b]));
  const zeroNames = new Set<string>();
  let zeroAt: number | null = null;
  for (const f of findings) {
    if (!REFUSAL_CODES.has(f.code)) continue;
    const zb = zeroOffset.get(f.structure);
    if (zb) {
      zeroNames.add(zb.name);
      zeroAt ??= zb.entryOffset;
      continue;
    }
    const key = `${f.code}|${f.message}`;
    if (seen.has(key) || seen.size >= MAX_REFUSALS) continue;
    seen.add(key);
    const io = f.code === 'QEMU_REFUSES_IO' ? ' when it opens it for I/O (qemu-img info still reads it)' : f.code === 'QEMU_REFUSES_OPEN' ? ' (only `qemu-img check` opens it)' : '';
    if (f.structure === 'header' && f.message.startsWith('Unsupported qcow2 feature')) {
      out.push(refused({ code: 'unknown-incompatible-features', ...offsetOf(f),
        message: `The header sets incompatible feature bits QEMU does not know: "${f.message}".`,
        consequence: 'QEMU will not open it, because reading an image without understanding such a feature would show the guest wrong data.',
        remedy: 'Convert it with the tool that wrote it into a plain image (`qemu-img convert -O qcow2 -o compat=1.1 FILE NEW`), or ask for one without that feature.' }));
    } else if (/offset invalid|not cluster.aligned|unaligned/i.test(f.message)) {
      out.push(refused({ code: 'unaligned-table', ...offsetOf(f),
        message: `A table is misplaced: "${f.message}" (${f.structure}).`,
        consequence: `QEMU will not open it${io}: a table offset off a cluster boundary, or past 2^63, only occurs in a damaged or hand-made file.`,
        remedy: FRESH_COPY }));
    } else {
      out.push(refused({ code: 'qemu-refuses', ...offsetOf(f),
        message: `QEMU refuses it: "${f.message}" (${f.structure}).`,
        consequence: `QEMU will not open it${io}, so a VM using it would not start.`,
        remedy: FRESH_COPY }));
    }
  }
  if (zeroNames.size) {
    const names = [...zeroNames];
    const shown = names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
    out.push(refused({ code: 'zero-offset-bitmap', count: names.length, ...(zeroAt === null ? {} : { offset: zeroAt }),
      message: `${names.length === 1 ? 'Bitmap' : 'Bitmaps'} ${shown} ${names.length === 1 ? 'has' : 'have'} bitmap_table_offset 0: empty under the 2016 bitmap proposal this tool follows — valid there, and harmless — but QEMU checks the offset and refuses.`,
      consequence: 'QEMU will not open the image while the bitmaps extension is active, so a VM using it would not start; nothing in it is dangerous.',
      remedy: 'Clear the bitmaps autoclear bit (bit 0 of autoclear_features, offset 88) so QEMU ignores the bitmaps, or ask the tool that wrote it for an image without zero-offset bitmaps.' }));
  }
  const h = s.header;
  if (h.incompatibleFeatures & 2n) {
    out.push(refused({ code: 'corrupt-bit', offset: 72,
      message: 'The corrupt bit is set: QEMU found this image inconsistent and marked it.',
      consequence: 'QEMU opens it read-only only, so a VM cannot write to it.',
      remedy: 'Repair a copy with `qemu-img check -r all COPY`, then make a fresh image from it: `qemu-img convert -O qcow2 COPY NEW`.' }));
  }
  if (h.cryptMethod === 1) {
    out.push(refused({ code: 'legacy-aes', offset: 32,
      message: 'The image uses the legacy AES-CBC encryption (crypt_method 1).',
      consequence: "QEMU's emulators refuse this weak scheme (qemu-img opens it only to convert it), so a VM using it would not start.",
      remedy: 'Convert it, with its key, to LUKS: `qemu-img convert --object secret,id=s,file=KEY --image-opts … -O qcow2 -o encrypt.format=luks,encrypt.key-secret=s`.' }));
  }
  return out;
}

/** The refused reason of a file that is not a qcow2 image QEMU can open. */
export function foreignRefusal(foreign: ForeignFormat): SafetyReason {
  switch (foreign.kind) {
    case 'qcow1':
      return refused({ code: 'qcow1', offset: 4, name: 'qcow',
        message: 'This is a qcow version 1 image (the old format), not qcow2.',
        consequence: "QEMU opens it only through its old qcow driver (format=qcow), which image gates and libvirt's policies usually exclude; as qcow2 it does not open.",
        remedy: 'Look at it with `qemu-img info -f qcow FILE` (a backing file is as dangerous there), then `qemu-img convert -f qcow -O qcow2 FILE NEW`.' });
    case 'qcow2-truncated':
    case 'too-short':
    case 'empty':
      return refused({ code: 'truncated-header', offset: 0,
        message: `The file ends before a qcow2 header does: ${foreign.description}.`,
        consequence: 'QEMU cannot open it: there is no image to read.',
        remedy: 'Fetch the image again and compare its size and checksum with the source.' });
    default:
      return refused({ code: 'not-qcow2', offset: 0, name: foreign.kind,
        message: `Not a qcow2 image: ${foreign.description}.`,
        consequence: foreign.kind === 'vmdk-descriptor'
          ? 'QEMU would not open it as qcow2; opened as VMDK, a descriptor names other files to read (its extents), so it is no safer.'
          : foreign.kind === 'unknown'
            ? 'QEMU would not open it as qcow2; a QEMU left to guess would open it as raw data.'
            : "QEMU would not open it as qcow2; opened with its own driver it is a different format, with that format's own risks.",
        remedy: foreign.kind === 'unknown' || foreign.kind === 'mbr' || foreign.kind === 'gpt' || foreign.kind === 'iso9660' || foreign.kind === 'ext'
          ? 'If it is meant as a raw disk, accept it as raw (format=raw), never letting QEMU guess; otherwise ask for a qcow2 image.'
          : 'Ask for a qcow2 image, or convert it where that format is accepted after checking its own references: `qemu-img convert -f FORMAT -O qcow2 FILE NEW`.' });
  }
}

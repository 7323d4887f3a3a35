// The safety verdict of one file (types.ts): what makes an analysed qcow2 image unsafe — backing
// and data files (backing.ts), other formats' signatures (signatures.ts), corruptions qemu-img
// check counts, truncation, and sizes out of proportion (SAFETY_LIMITS) — what makes QEMU refuse
// it (refusals.ts), and the harmless things worth a note. Pure apart from imageSafety /
// fileSafety, which read the 40 KiB and 512 bytes the signature scan needs.

import type { CheckResult } from '../check/check';
import { roleClusterCounts } from '../check/cluster-roles';
import { Role } from '../check/roles';
import type { Finding, Qcow2Error } from '../qcow2/errors';
import { FOREIGN_HEAD_BYTES, FOREIGN_TAIL_BYTES, detectForeign } from '../qcow2/foreign';
import type { Structures } from '../qcow2/model';
import type { ByteSource } from '../qcow2/source';
import * as S from '../qcow2/spec';
import { backingReason, dataFileReason } from './backing';
import { foreignRefusal, qemuRefusals } from './refusals';
import { FORMAT_LABELS, findSignatures, formatsOf, readSignatures, type Signature } from './signatures';
import { SAFETY_LIMITS as L, verdictOf, type Safety, type SafetyNote, type SafetyReason } from './types';

/** What the verdict needs of an analysis (an Analysis has all of it). */
export interface SafetyInput {
  readonly fileSize: number;
  readonly structures: Structures;
  readonly check: Pick<CheckResult, 'counts' | 'roles' | 'clusterSize' | 'compressed'>;
  readonly findings: readonly Finding[];
  readonly findingTotals: Readonly<Record<string, number>>;
}

const MiB = 1024 * 1024;
const n = (x: number): string => x.toLocaleString('en-US');
const unsafe = (r: Omit<SafetyReason, 'kind'>): SafetyReason => ({ kind: 'unsafe', ...r });

const CONVERT = 'Do not run or repair it in place; if you need its data, copy the guest disk into a fresh image and look at that: `qemu-img convert -O qcow2 FILE NEW`, then `qemu-img check NEW`.';
const TRUNCATION_CODES = ['L1_PAST_EOF', 'L1_TRUNCATED', 'SNAPSHOT_TABLE_PAST_EOF', 'BITMAP_DIRECTORY_PAST_EOF', 'BITMAP_TABLE_PAST_EOF', 'BITMAP_DATA_PAST_EOF', 'LUKS_PAST_EOF', 'LUKS_TRUNCATED'];

/** The verdict for an analysed image whose first bytes and last 512 bytes gave `signatures`. */
export function assessSafety(a: SafetyInput, signatures: readonly Signature[]): Safety {
  // A file that ends inside its header is no image to accept: what else it says is zeros read past the end.
  const cut = a.findings.find((f) => f.code === 'HEADER_TRUNCATED');
  if (cut) {
    const only = [foreignRefusal({ kind: 'qcow2-truncated', description: cut.message })];
    return { verdict: verdictOf(only), reasons: only, notes: [] };
  }
  const s = a.structures;
  const h = s.header;
  const reasons: SafetyReason[] = [];
  if (s.backingFile !== null) reasons.push(backingReason(s.backingFile, Number(h.backingFileOffset)));
  if (h.incompatibleFeatures & S.INCOMPAT_DATA_FILE) {
    const ext = s.extensions.list.find((e) => e.type === S.EXT_DATA_FILE);
    reasons.push(dataFileReason(s.extensions.dataFile, ext ? ext.offset : 72));
  }
  const poly = polyglot(signatures);
  if (poly) reasons.push(poly);
  reasons.push(...corruptions(a), ...sizes(a), ...qemuRefusals(s, a.findings));
  return { verdict: verdictOf(reasons), reasons, notes: notes(a) };
}

/** imageSafety for an analysis of `src`: reads the signature bytes (the head from `cluster0` when given), then assesses. */
export async function imageSafety(src: ByteSource, a: SafetyInput, cluster0?: Uint8Array): Promise<Safety> {
  return assessSafety(a, await readSignatures(src, cluster0));
}

/**
 * The verdict for a file the analysis refused to read (`error` from analyze()): a file that is not
 * qcow2 is refused, and named; a qcow file that also carries another format's signature is unsafe.
 */
export async function foreignSafety(src: ByteSource, error: Qcow2Error): Promise<Safety> {
  const head = await src.read(0, Math.min(src.size, FOREIGN_HEAD_BYTES));
  const tail = await src.read(Math.max(0, src.size - FOREIGN_TAIL_BYTES), Math.min(src.size, FOREIGN_TAIL_BYTES));
  const foreign = detectForeign(head, src.size, tail) ?? { kind: error.code === 'TRUNCATED' ? 'qcow2-truncated' as const : 'unknown' as const, description: error.message };
  const reasons: SafetyReason[] = [];
  const poly = polyglot(findSignatures(head, tail, src.size));
  if (poly) reasons.push(poly);
  reasons.push(foreignRefusal(foreign));
  return { verdict: verdictOf(reasons), reasons, notes: [] };
}

/** The verdict for a file that could not be read at all (`why`: the error). */
export function unreadableSafety(why: string): Safety {
  return { verdict: 'refused', notes: [], reasons: [{ code: 'unreadable', kind: 'refused', message: `The file could not be read: ${why}.`,
    consequence: 'Nothing can open it as an image.', remedy: 'Check the path and the permissions, then try again.' }] };
}

/** Unsafe when a file starting with qcow's magic also carries another format's signature. */
function polyglot(sigs: readonly Signature[]): SafetyReason | null {
  if (!sigs.some((x) => x.format === 'qcow' && x.offset === 0)) return null;
  const others = sigs.filter((x) => x.format !== 'qcow');
  if (others.length === 0) return null;
  const formats = formatsOf(others);
  return unsafe({
    code: 'polyglot', offset: others[0]!.offset, formats: ['qcow2', ...formats],
    message: `The file carries more than one format's signature: qcow2, and ${formats.map((f) => FORMAT_LABELS[f]).join(', ')} (${others.map((x) => x.what).join('; ')}).`,
    consequence: 'A tool that probes the format (a loader, a partitioner, an ISO reader, another image driver) reads the same bytes as something else, so what one checker approves is not what another runs.',
    remedy: 'Never let a tool guess the format (pass format=qcow2 explicitly); to accept it, make a fresh image from the guest data: `qemu-img convert -f qcow2 -O qcow2 FILE NEW`.',
  });
}

/** Corruptions qemu-img check counts, grouped by what a write would do, and truncation. */
function corruptions(a: SafetyInput): SafetyReason[] {
  const out: SafetyReason[] = [];
  const t = a.findingTotals;
  const total = (code: string) => t[code] ?? 0;
  const dirty = (a.structures.header.incompatibleFeatures & S.INCOMPAT_DIRTY) !== 0n;
  const classOf = new Map<string, string>();
  for (const f of a.findings) if (!classOf.has(f.code)) classOf.set(f.code, f.checkClass);
  const tooLow = total('REFCOUNT_MISMATCH');
  // With the dirty bit (lazy refcounts), refcounts behind and OFLAG_COPIED left over are what a
  // crash leaves; QEMU rebuilds them when it opens the image read-write.
  const lazyCodes = dirty ? new Set(['REFCOUNT_MISMATCH', 'OFLAG_COPIED']) : new Set<string>();
  if (tooLow > 0 && !dirty) {
    out.push(unsafe({ code: 'refcount-too-low', count: tooLow, ...firstOffset(a, 'REFCOUNT_MISMATCH'),
      message: `${n(tooLow)} cluster${tooLow === 1 ? ' is' : 's are'} referenced more often than ${tooLow === 1 ? 'its' : 'their'} refcount says (two owners sharing a cluster, or a refcount of 0 on a cluster in use).`,
      consequence: 'QEMU treats those clusters as free or unshared and hands them out again on a write, overwriting data or tables that still use them.',
      remedy: CONVERT }));
  }
  const overlaps = roleClusterCounts(a.check.roles)[Role.MULTI_OWNED]!;
  if (overlaps > 0) {
    out.push(unsafe({ code: 'overlapping-references', count: overlaps,
      message: `${n(overlaps)} host cluster${overlaps === 1 ? ' is' : 's are'} used for two different things at once (a table and guest data, or two kinds of table), with refcounts that hide it.`,
      consequence: 'A guest write to one of them rewrites the other: the image destroys its own tables or data as it is used.',
      remedy: CONVERT }));
  }
  const past = total('PAST_EOF');
  if (past > 0) {
    out.push(unsafe({ code: 'reference-past-end', count: past, ...firstOffset(a, 'PAST_EOF'),
      message: `${n(past)} reference${past === 1 ? ' points' : 's point'} a cluster or more past the end of the file.`,
      consequence: 'QEMU reads zeros there and, on a write, allocates clusters the tables already claim, so data written lands on top of other data.',
      remedy: CONVERT }));
  }
  let other = 0;
  const otherCodes: string[] = [];
  for (const [code, cls] of classOf) {
    if (cls !== 'corruption' || code === 'REFCOUNT_MISMATCH' || code === 'PAST_EOF' || lazyCodes.has(code)) continue;
    other += total(code);
    otherCodes.push(code);
  }
  if (other > 0) {
    out.push(unsafe({ code: 'corruption', count: other, ...firstOffset(a, otherCodes[0]!),
      message: `qemu-img check counts ${n(other)} more corruption${other === 1 ? '' : 's'} (${otherCodes.join(', ')}).`,
      consequence: 'QEMU marks the image corrupt when it meets them and stops writing; until then writes can follow the damaged entries and overwrite data.',
      remedy: CONVERT }));
  }
  const truncated = TRUNCATION_CODES.filter((c) => total(c) > 0);
  if (truncated.length) {
    out.push(unsafe({ code: 'truncated', ...firstOffset(a, truncated[0]!),
      message: `The file ends before structures its header describes (${truncated.join(', ')}): it is cut short.`,
      consequence: 'QEMU reads zeros for the missing part, so the guest sees a different disk from the one the image was made of, and writes land where the tables say something else lives.',
      remedy: 'Fetch the image again and compare its size and checksum with the source.' }));
  }
  return out;
}

function firstOffset(a: SafetyInput, code: string): { offset?: number } {
  const f = a.findings.find((x) => x.code === code && x.offset !== null);
  return f && f.offset !== null ? { offset: f.offset } : {};
}


/** Sizes QEMU accepts that cost memory or time out of proportion (SAFETY_LIMITS). */
function sizes(a: SafetyInput): SafetyReason[] {
  const out: SafetyReason[] = [];
  const s = a.structures;
  const h = s.header;
  const flatten = 'Make a fresh image from the guest data (`qemu-img convert -O qcow2 FILE NEW`: a new L1, refcount table and no snapshots or bitmaps), on a host with the memory to spare, or refuse it.';
  const activeL1 = h.l1Size * 8;
  const allL1 = activeL1 + (s.snapshotTable?.snapshots ?? []).reduce((x, sn) => x + sn.l1Size * 8, 0);
  if (activeL1 > L.activeL1Bytes || allL1 > L.allL1Bytes) {
    const big = activeL1 > L.activeL1Bytes;
    out.push(unsafe({ code: 'huge-l1', offset: big ? 36 : Number(h.snapshotsOffset),
      message: big
        ? `The active L1 table has ${n(h.l1Size)} entries (${(activeL1 / MiB).toFixed(1)} MiB; the limit here is ${L.activeL1Bytes / MiB} MiB, QEMU's ${S.MAX_L1_BYTES / MiB} MiB).`
        : `The L1 tables of the image and its snapshots take ${(allL1 / MiB).toFixed(1)} MiB together (the limit here is ${L.allL1Bytes / MiB} MiB).`,
      consequence: 'QEMU reads the active table into memory when it opens the image, and check, convert and snapshot operations walk all of them: a small file costs a lot of memory and time.',
      remedy: flatten }));
  }
  const reftable = h.refcountTableClusters * (h.clusterSize || 512);
  if (reftable > L.refcountTableBytes) {
    out.push(unsafe({ code: 'huge-refcount-table', offset: 56,
      message: `The refcount table takes ${n(h.refcountTableClusters)} clusters (${(reftable / MiB).toFixed(1)} MiB; the limit here is ${L.refcountTableBytes / MiB} MiB, QEMU's ${S.MAX_REFTABLE_BYTES / MiB} MiB).`,
      consequence: 'QEMU reads the whole table into memory when it opens the image, and check and allocation walk it.',
      remedy: flatten }));
  }
  if (h.nbSnapshots > L.snapshots) {
    out.push(unsafe({ code: 'many-snapshots', offset: 60, count: h.nbSnapshots,
      message: `The header lists ${n(h.nbSnapshots)} snapshots (the limit here is ${n(L.snapshots)}; QEMU's ${n(S.MAX_SNAPSHOTS)}).`,
      consequence: 'QEMU reads every snapshot entry at open and every snapshot L1 table on check and snapshot operations: memory and time grow with the count, not with the disk.',
      remedy: flatten }));
  }
  const bm = s.extensions.bitmaps;
  if (bm && bm.nbBitmaps > L.bitmaps) {
    out.push(unsafe({ code: 'many-bitmaps', offset: bm.offset, count: bm.nbBitmaps,
      message: `The bitmaps extension lists ${n(bm.nbBitmaps)} bitmaps (the limit here is ${n(L.bitmaps)}; QEMU's ${n(S.MAX_BITMAPS)}).`,
      consequence: 'QEMU reads the whole directory and loads every bitmap at open: memory and time grow with the count.',
      remedy: flatten }));
  }
  const bitmapBytes = (s.bitmapDirectory?.bitmaps ?? []).reduce((x, b) => x + (b.zeroOffsetEmpty ? 0 : Math.ceil(b.bitCount / 8)), 0);
  if (bitmapBytes > L.bitmapBytes) {
    out.push(unsafe({ code: 'huge-bitmaps', ...(bm ? { offset: bm.offset } : {}),
      message: `Its bitmaps hold ${(bitmapBytes / MiB).toFixed(0)} MiB of dirty bits in memory together (the limit here is ${L.bitmapBytes / MiB} MiB): fine granularity over a large disk.`,
      consequence: 'QEMU loads the bitmaps into memory when it opens the image, so a few kilobytes of directory cost that much memory.',
      remedy: flatten }));
  }
  const c = a.check.compressed;
  const limit = a.check.clusterSize + L.compressedSlack;
  let over = 0;
  let first = -1;
  for (let i = 0; i < c.n; i++) {
    if (c.length[i]! > limit) {
      if (over++ === 0) first = c.host[i]!;
    }
  }
  if (over > 0) {
    out.push(unsafe({ code: 'compressed-oversized', count: over, offset: first,
      message: `${n(over)} compressed cluster${over === 1 ? ' spans' : 's span'} more than a cluster of the file (up to ${n(a.check.clusterSize * 2)} bytes; QEMU writes under one cluster, rounded to sectors).`,
      consequence: 'Only a crafted file has them: each read inflates up to two clusters of input, and a tool that does not stop at the cluster size, as QEMU does, can be made to expand it without bound.',
      remedy: flatten }));
  }
  return out;
}

/** Harmless things worth saying. */
function notes(a: SafetyInput): SafetyNote[] {
  const out: SafetyNote[] = [];
  const s = a.structures;
  const h = s.header;
  const leaks = a.check.counts.leaks;
  if (leaks > 0) out.push({ code: 'leaks', message: `${n(leaks)} leaked cluster${leaks === 1 ? '' : 's'}: wasted space, no harm to data (\`qemu-img check -r leaks\` frees them).` });
  const unknown = s.extensions.list.filter((e) => !e.known);
  if (unknown.length) {
    out.push({ code: 'unknown-extension', message: `${unknown.length === 1 ? 'An unknown header extension' : `${unknown.length} unknown header extensions`} (${unknown.slice(0, 4).map((e) => `0x${e.type.toString(16).padStart(8, '0')}`).join(', ')}): QEMU ignores ${unknown.length === 1 ? 'it' : 'them'}.` });
  }
  if (h.incompatibleFeatures & S.INCOMPAT_EXTL2) {
    out.push({ code: 'extended-l2', message: "Extended L2 entries (subclusters): a known feature QEMU 5.2 and later opens. OpenStack's format inspector (nova) calls such images unsafe by mistake." });
  }
  if (h.cryptMethod === S.CRYPT_LUKS) out.push({ code: 'encrypted', message: 'Encrypted with LUKS: it needs a key to be used; its header reads without one.' });
  if (h.incompatibleFeatures & S.INCOMPAT_DIRTY) {
    out.push({ code: 'dirty', message: 'The dirty bit is set (lazy refcounts, not closed cleanly): QEMU rebuilds the refcounts when it opens it read-write; mismatches they explain are not counted against it.' });
  }
  const inUse = (s.bitmapDirectory?.bitmaps ?? []).filter((b) => b.inUse).length;
  if (inUse > 0) out.push({ code: 'bitmaps-in-use', message: `${n(inUse)} bitmap${inUse === 1 ? ' is' : 's are'} marked in use (not saved cleanly): QEMU ignores ${inUse === 1 ? 'its' : 'their'} contents.` });
  return out;
}


// Freed refcount structures (spec: "Host cluster management"): a stale refcount table is known by
// its blocks, and a freed refcount block by what it counts. A refcount table is rewritten when it
// grows or when `qemu-img amend -o refcount_bits=…` rewrites every refcount structure; the old
// blocks then still hold the refcounts of the clusters they cover, which match the image's live
// refcounts almost everywhere. Guest data, random bytes and other tables read as refcounts of any
// width do not: every entry covering a cluster inside the file is compared with its live refcount.

import type { PointerTable } from './content';

/** One freed refcount block, tested: the entry width that fits and how well it agrees. */
export interface StaleRefblock {
  /** refcount_order of the entries (width 2^order bits). */
  readonly order: number;
  /** Entries covering clusters inside the file, and those equal to the live refcount. */
  readonly covered: number;
  readonly agree: number;
}

/** Share of covered entries that must equal the live refcount (those the rewrite itself changed differ). */
export const MIN_AGREE = 0.9;

/**
 * Reads `b` as a refcount block of each width (1..64 bits) covering clusters from `range` × its
 * entry count, and keeps the width whose entries equal `live` (refcounts per host cluster, the
 * image's current ones) on all but 10 % (at least 2) of the clusters inside the file, with at
 * least one cluster in use among them. Entries past the end of the file must be zero. Null when
 * no width does. (The caller also asks 90 % over all the blocks of a table.)
 */
export function staleRefblock(b: Uint8Array, range: number, live: ArrayLike<number>, clustersInFile: number): StaleRefblock | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let best: StaleRefblock | null = null;
  for (let order = 0; order <= 6; order++) {
    const bits = 1 << order;
    const n = (b.length * 8) / bits;
    const first = range * n;
    if (first >= clustersInFile) continue;
    let covered = 0;
    let agree = 0;
    let used = 0;
    let ok = true;
    // Past this many differences no width fits: stop reading.
    const most = Math.max(2, (1 - MIN_AGREE) * Math.min(n, clustersInFile - first));
    for (let e = 0; e < n && ok; e++) {
      const v = entry(dv, e, bits);
      const k = first + e;
      if (k >= clustersInFile) {
        if (v !== 0) ok = false;
        continue;
      }
      covered++;
      const want = k < live.length ? live[k]! : 0;
      if (v === want) agree++;
      else if (covered - agree > most) ok = false;
      if (want > 0 && v === want) used++;
    }
    if (!ok || covered === 0 || used < 1 || covered - agree > Math.max(2, (1 - MIN_AGREE) * covered)) continue;
    if (!best || agree / covered > best.agree / best.covered) best = { order, covered, agree };
  }
  return best;
}

function entry(dv: DataView, e: number, bits: number): number {
  if (bits >= 8) {
    const at = (e * bits) / 8;
    if (bits === 8) return dv.getUint8(at);
    if (bits === 16) return dv.getUint16(at);
    if (bits === 32) return dv.getUint32(at);
    // 64 bits: a refcount above 2^32 is no refcount any image holds; keep it unequal.
    return dv.getUint32(at) !== 0 ? -1 : dv.getUint32(at + 4);
  }
  const byte = dv.getUint8(Math.floor((e * bits) / 8));
  // Sub-byte refcounts are stored from the least significant bits (QEMU's get_refcount_ro0..2).
  const shift = (e * bits) % 8;
  return (byte >> shift) & ((1 << bits) - 1);
}

/** The entries of a stale table that may be a refcount table: each target with the range it would cover. */
export function refblockCandidates(t: PointerTable): { k: number; range: number }[] {
  const out: { k: number; range: number }[] = [];
  for (let j = 0; j < t.targets.length; j++) out.push({ k: t.targets[j]!, range: t.targetEntries[j]! });
  return out;
}

// The mutable state of one qemu-img check run (block/qcow2-refcount.c, qcow2_check_refcounts):
// the expected refcounts being rebuilt, the stored ones, who claimed each host cluster (roles and
// owner index for layout.ts), and qemu-img's counters. Check stages (check-l1.ts, check-tables.ts,
// check-meta.ts, check.ts) share it; it holds typed arrays only, never an object per cluster.

import { Findings, hex, type CheckClass } from '../qcow2/errors';
import { ExpectedRefcounts, type StoredRefcounts } from '../qcow2/refcounts';
import { claimRole } from './cluster-roles';
import { OwnerBuilder } from './owners';
import type { RoleId } from './roles';
import { FINDINGS_PER_CLASS_CAP } from '../qcow2/spec';

/** snapOwner marker: claimed by something other than exactly one snapshot. */
export const SNAP_MIXED = 0xffff;

/** qemu-img's BlockFragInfo. */
export interface FragInfo {
  allocated: number;
  fragmented: number;
  compressed: number;
}

export class CheckState {
  readonly clusterSize: number;
  readonly clusterBits: number;
  /** Host clusters of the file, the last one possibly partial. */
  readonly fileClusters: number;
  readonly expected: ExpectedRefcounts;
  /** One role per host cluster of the file (roles.ts), built up by claim(). */
  readonly roles: Uint8Array;
  /** The first guest cluster mapped to each data host cluster. */
  readonly owner: OwnerBuilder;
  /** Which single snapshot (index + 1) claims a cluster, SNAP_MIXED otherwise; null without snapshots. */
  readonly snapOwner: Uint16Array | null;
  corruptions = 0;
  leaks = 0;
  checkErrors = 0;
  readonly frag: FragInfo = { allocated: 0, fragmented: 0, compressed: 0 };

  constructor(
    readonly fileSize: number,
    clusterBits: number,
    refcountMax: number,
    readonly stored: StoredRefcounts,
    readonly f: Findings,
    snapshots: number,
  ) {
    this.clusterBits = clusterBits;
    this.clusterSize = 2 ** clusterBits;
    this.fileClusters = Math.ceil(fileSize / this.clusterSize);
    this.expected = new ExpectedRefcounts(this.fileClusters, refcountMax);
    this.roles = new Uint8Array(this.fileClusters);
    this.owner = new OwnerBuilder(this.fileClusters);
    this.snapOwner = snapshots > 0 ? new Uint16Array(this.fileClusters) : null;
  }

  /** Whether another finding of `code` would still be kept (so its message is worth building). */
  wants(code: string): boolean {
    return this.f.count(code) < FINDINGS_PER_CLASS_CAP;
  }

  /** Counts `times` corruptions and records one finding (built lazily, only while under the cap). */
  corrupt(times: number, code: string, structure: string, offset: number | null, message: () => string, cluster?: number): void {
    this.corruptions += times;
    this.finding('corruption', code, structure, offset, message, cluster);
  }

  finding(cls: CheckClass, code: string, structure: string, offset: number | null, message: () => string, cluster?: number): void {
    if (!this.wants(code)) {
      this.f.add({ code, severity: 'error', structure, offset, message: '', checkClass: cls });
      return;
    }
    this.f.add(cluster === undefined
      ? { code, severity: cls === 'leak' ? 'warning' : 'error', structure, offset, message: message(), checkClass: cls }
      : { code, severity: cls === 'leak' ? 'warning' : 'error', structure, offset, message: message(), checkClass: cls, cluster });
  }

  /**
   * qcow2_inc_refcounts_imrt for `times` identical references to [offset, offset + size): refused
   * (one corruption each) when it ends a cluster or more past the end of the file; otherwise every
   * host cluster it touches gains `times` references, is claimed with `role`, and with `snap`
   * (snapshot index + 1, or SNAP_MIXED) for the per-snapshot accounting.
   */
  ref(offset: number, size: number, times: number, role: RoleId, snap: number, who: () => string): void {
    if (size <= 0 || times <= 0) return;
    const cs = this.clusterSize;
    // bdrv_getlength: the file's length in whole sectors (a file cut mid-sector ends at the next 512).
    if (offset + size - Math.ceil(this.fileSize / 512) * 512 >= cs) {
      this.corrupt(times, 'PAST_EOF', who(), offset, () =>
        `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset ${hex(offset)} size ${hex(size)} — ${who()}; the file ends at ${hex(this.fileSize)}`);
      return;
    }
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + size - 1) / cs);
    for (let k = first; k <= last; k++) {
      this.addRef(k, times, who);
      this.claim(k, role, snap);
    }
  }

  /** Adds references to one cluster index, counting refcount overflows as QEMU does. */
  addRef(k: number, times: number, who: () => string): void {
    const over = this.expected.add(k, times);
    if (over > 0) {
      this.corrupt(over, 'REFCOUNT_OVERFLOW', who(), k * this.clusterSize, () =>
        `ERROR: overflow cluster offset=${hex(k * this.clusterSize)} — more references than a refcount entry can hold (${this.expected.max}); referenced by ${who()}`, k);
    }
  }

  claim(k: number, role: RoleId, snap: number): void {
    if (k >= this.fileClusters) return;
    const r = this.roles[k]!;
    if (r !== role) this.roles[k] = r === 0 ? role : claimRole(r, role);
    const so = this.snapOwner;
    if (so) {
      const m = so[k]!;
      if (m !== snap) so[k] = m === 0 ? snap : SNAP_MIXED;
    }
  }
}

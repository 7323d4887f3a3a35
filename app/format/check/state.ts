// The mutable state of one qemu-img check run (block/qcow2-refcount.c, qcow2_check_refcounts):
// the expected refcounts being rebuilt, the stored ones, who claimed each host cluster (roles and
// owner index for cluster-roles.ts), and qemu-img's counters. Check stages (l1-tables.ts, l2-tables.ts,
// metadata.ts, check.ts) share it; it holds typed arrays only, never an object per cluster.

import { Findings, hex, type CheckClass, ExpectedRefcounts, type FindingCode, type StoredRefcounts, FINDINGS_PER_CLASS_CAP } from '../qcow2';
import { claimRole } from './cluster-roles';
import { OwnerBuilder } from './owners';
import { Role, type RoleId } from './roles';

/** snapOwner marker: claimed by something other than exactly one snapshot. */
export const SNAP_MIXED = 0xffff;

/** qemu-img's BlockFragInfo. */
interface FragInfo {
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
  /**
   * The lowest and highest host cluster whose role was written since markRoles() (Infinity and
   * -1: none): every write to `roles` while tables are walked — claim() here, and the L2 scan's
   * own writes — widens it, so an owner summary rescans only that range.
   */
  rolesLo = Infinity;
  rolesHi = -1;
  /** The first guest cluster mapped to each data host cluster. */
  readonly owner: OwnerBuilder;
  /** Which single snapshot (index + 1) claims a cluster, SNAP_MIXED otherwise; null without snapshots. */
  readonly snapOwner: Uint16Array | null;
  corruptions = 0;
  leaks = 0;
  checkErrors = 0;
  readonly frag: FragInfo = { allocated: 0, fragmented: 0, compressed: 0 };
  /** References reaching past the end of the file, by the role they claim (truncation.ts reads them). */
  readonly pastEnd = new PastEndTally();

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
  wants(code: FindingCode): boolean {
    return this.f.count(code) < FINDINGS_PER_CLASS_CAP;
  }

  /** Counts `times` corruptions and records one finding (built lazily, only while under the cap). */
  corrupt(times: number, code: FindingCode, structure: string, offset: number | null, message: () => string, cluster?: number): void {
    this.corruptions += times;
    this.finding('corruption', code, structure, offset, message, cluster);
  }

  finding(cls: CheckClass, code: FindingCode, structure: string, offset: number | null, message: () => string, cluster?: number): void {
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
    // A compressed cluster's last sector may end past the file legitimately; only wholly past counts.
    const wholly = offset >= this.fileSize || offset + size - this.fileSize >= cs;
    if (offset + size > this.fileSize && (wholly || role !== Role.COMPRESSED)) this.pastEnd.add(role, Math.floor(offset / cs), wholly, offset + size);
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

  /** The range of roles written since the last call (see rolesLo), and a new one started. */
  markRoles(): { lo: number; hi: number } {
    const m = { lo: this.rolesLo, hi: this.rolesHi };
    this.rolesLo = Infinity;
    this.rolesHi = -1;
    return m;
  }

  claim(k: number, role: RoleId, snap: number): void {
    if (k >= this.fileClusters) return;
    const r = this.roles[k]!;
    if (r !== role) {
      this.roles[k] = r === 0 ? role : claimRole(r, role);
      if (k < this.rolesLo) this.rolesLo = k;
      if (k > this.rolesHi) this.rolesHi = k;
    }
    const so = this.snapOwner;
    if (so) {
      const m = so[k]!;
      if (m !== snap) so[k] = m === 0 ? snap : SNAP_MIXED;
    }
  }
}

/** Distinct clusters referenced (wholly or partly) past the end of the file, counted per role. */
export class PastEndTally {
  /** Clusters remembered per role at most; beyond that, references are counted, not deduplicated. */
  static readonly CAP = 1 << 20;
  private readonly seen = new Map<number, Set<number>>();
  private readonly extra = new Map<number, number>();
  /** Whether any reference reached a cluster or more past the end (QEMU refuses those references). */
  wholly = false;
  /** Whether any reference was partly past the end (the last, partial cluster of the file). */
  partly = false;
  /** The furthest byte any reference reaches. */
  end = 0;

  add(role: number, cluster: number, wholly: boolean, end: number): void {
    if (end > this.end) this.end = end;
    if (wholly) this.wholly = true;
    else this.partly = true;
    let set = this.seen.get(role);
    if (!set) this.seen.set(role, (set = new Set()));
    if (set.size < PastEndTally.CAP) set.add(cluster);
    else if (!set.has(cluster)) this.extra.set(role, (this.extra.get(role) ?? 0) + 1);
  }

  /** Clusters of the given roles referenced past the end. */
  count(roles: readonly number[]): number {
    let n = 0;
    for (const r of roles) n += (this.seen.get(r)?.size ?? 0) + (this.extra.get(r) ?? 0);
    return n;
  }
}

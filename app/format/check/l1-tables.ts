// qemu-img check over the L1 tables (block/qcow2-refcount.c, check_refcounts_l1): each table and
// the L2 tables its entries point at are referenced, reserved bits and alignment are checked, and
// who points at each L2 table is recorded so that l2-tables.ts reads and scans it once.

import { SNAP_MIXED, type CheckState } from './state';
import { Role } from './roles';
import { L1E_OFFSET_MASK, L1E_RESERVED_MASK } from '../qcow2';

/** Who points at one L2 table (by the exact byte offset QEMU reads it from). */
export interface L2Use {
  readonly offset: number;
  /** Active L1 entries whose raw value is non-zero and whose offset is this (check_refcounts_l1). */
  activeRefs: number;
  /** Active L1 entries with a non-zero offset: the ones guest reads and check_oflag_copied follow. */
  mapRefs: number;
  snapRefs: number;
  /** First active L1 index, or -1. */
  firstL1: number;
  /** First referencing snapshot and its L1 index, or -1. */
  firstSnap: number;
  firstSnapL1: number;
  /** Snapshot index + 1 when exactly one snapshot (and not the active L1) points here, else SNAP_MIXED. */
  snapMarker: number;
}

/**
 * Walks one L1 table: references the table itself and each L2 table, checks reserved bits and
 * alignment, and records the L2 tables to scan. `snap` is the snapshot index, or -1 for the active L1.
 */
export function walkL1(st: CheckState, entries: BigUint64Array, l1Size: number, l1Offset: number, snap: number, uses: Map<number, L2Use>): void {
  if (l1Size === 0) return;
  const active = snap < 0;
  const name = active ? 'active L1 table' : `L1 table of snapshot ${snap}`;
  const marker = active ? SNAP_MIXED : Math.min(snap + 1, SNAP_MIXED);
  st.ref(l1Offset, l1Size * 8, 1, active ? Role.L1_ACTIVE : Role.L1_SNAPSHOT, marker, () => name);
  const cs = st.clusterSize;
  // Entries past those read (past the end of the file) are zeros: they reference nothing.
  for (let i = 0, n = Math.min(l1Size, entries.length); i < n; i++) {
    const raw = entries[i]!;
    if (raw === 0n) continue;
    const entryAt = l1Offset + i * 8;
    if (raw & L1E_RESERVED_MASK) {
      st.corrupt(1, 'L1_RESERVED', name, entryAt, () => `ERROR found L1 entry with reserved bits set: ${raw.toString(16)} — ${name} entry ${i}`);
    }
    const masked = raw & L1E_OFFSET_MASK;
    const l2 = Number(masked); // bits 9..55 only: exact as a double
    const who = () => `L2 table of ${name} entry ${i}`;
    st.ref(l2, cs, 1, active ? Role.L2_ACTIVE : Role.L2_SNAPSHOT, marker, who);
    if (l2 % cs !== 0) {
      st.corrupt(1, 'L2_UNALIGNED', name, entryAt, () => `ERROR l2_offset=${l2.toString(16)}: Table is not cluster aligned; L1 entry corrupted — ${name} entry ${i}`);
    }
    let u = uses.get(l2);
    if (!u) {
      u = { offset: l2, activeRefs: 0, mapRefs: 0, snapRefs: 0, firstL1: -1, firstSnap: -1, firstSnapL1: -1, snapMarker: 0 };
      uses.set(l2, u);
    }
    if (active) {
      u.activeRefs++;
      if (l2 !== 0) u.mapRefs++;
      if (u.firstL1 < 0) u.firstL1 = i;
      u.snapMarker = SNAP_MIXED;
    } else {
      u.snapRefs++;
      if (u.firstSnap < 0) {
        u.firstSnap = snap;
        u.firstSnapL1 = i;
      }
      if (u.snapMarker !== marker) u.snapMarker = u.snapMarker === 0 ? marker : SNAP_MIXED;
    }
  }
}

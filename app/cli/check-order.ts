// The order in which qemu-img check 7.2 prints its per-cluster lines while it counts references
// (block/qcow2-refcount.c): the snapshot table entries first (qcow2_check_read_snapshot_table),
// then calculate_refcounts: the header, the active L1 table, and for each of its entries the
// entry's own lines, its L2 table, then that table's entries (check_refcounts_l1 / _l2); the
// snapshots' L1 tables the same way; then the other metadata. Our engine finds the same problems
// in another order (every L1 entry first, then the L2 tables); this sorts them back.

import type { Finding } from '../format';

/** Sort key of a counting-phase finding: [L1 table (active 0, snapshot i: 1 + i), L1 entry, step]. */
export function countingOrder(f: Finding): [number, number, number] {
  if (f.code === 'SNAPSHOT_INCOMPLETE') return [-1, 0, 0];
  if (f.code === 'SNAPSHOTS_WITH_DATA_FILE') return [0.5, 0, 0];
  const t = `${f.structure}\n${f.message}`;
  let m = /(?:^|— )active L1 entry (\d+), L2 entry (\d+)/m.exec(t);
  if (m) return [0, Number(m[1]), Number(m[2])];
  m = /snapshot (\d+) L1 entry (\d+), L2 entry (\d+)/.exec(t);
  if (m) return [1 + Number(m[1]), Number(m[2]), Number(m[3])];
  m = /^L2 table of (?:active L1 table|L1 table of snapshot (\d+)) entry (\d+)$/m.exec(t);
  if (m) return [m[1] === undefined ? 0 : 1 + Number(m[1]), Number(m[2]), -2];
  m = /^ERROR (found L1 entry with reserved bits|l2_offset=).* — (?:active L1 table|L1 table of snapshot (\d+)) entry (\d+)$/m.exec(t);
  if (m) return [m[2] === undefined ? 0 : 1 + Number(m[2]), Number(m[3]), m[1] === 'l2_offset=' ? -1 : -3];
  if (f.structure === 'active L1 table') return [0, -1, 0];
  m = /^L1 table of snapshot (\d+)$/.exec(f.structure);
  if (m) return [1 + Number(m[1]), -1, 0];
  return [Infinity, 0, 0];
}

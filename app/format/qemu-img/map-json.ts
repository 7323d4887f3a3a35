// What `qemu-img map --output=json` writes (qemu-img.c dump_map_entry, entry_mergeable). The engine's
// ranges (guest/block-status.ts) are merged as 10.0 merges them: never across a compressed /
// uncompressed boundary, and 10.0 prints '"compressed": …' after "data". 7.2 prints no such key and
// merges ranges that differ only in being compressed (both without an offset: an encrypted image's
// data beside compressed clusters), so for 7.2 those runs are joined again here.
//
// One case is not reproduced for 7.2: when the map stops on an error, qemu-img drops the range it
// was still growing; if that range would have joined the last printed one under 7.2's rule, 7.2
// drops both. It needs compressed clusters in an encrypted image, which QEMU never writes.

import type { GuestMap, MapRange } from '../guest/block-status';
import type { QemuVersion } from './version';

/** 7.2's entry_mergeable: no "compressed" to compare. */
function mergeable72(a: MapRange, b: MapRange): boolean {
  if (a.depth !== b.depth || a.present !== b.present || a.zero !== b.zero || a.data !== b.data) return false;
  if ((a.offset === undefined) !== (b.offset === undefined)) return false;
  return a.offset === undefined || a.offset + a.length === b.offset;
}

/** The ranges as `version` reports them (7.2: joined where only "compressed" told them apart). */
export function mapRangesFor(ranges: readonly MapRange[], version: QemuVersion): readonly MapRange[] {
  if (version === '10.0' || !ranges.some((r) => r.compressed)) return ranges;
  const out: MapRange[] = [];
  for (const r of ranges) {
    const { compressed: _c, ...plain } = r;
    const last = out.at(-1);
    if (last && mergeable72(last, plain)) out[out.length - 1] = { ...last, length: last.length + plain.length };
    else out.push(plain);
  }
  return out;
}

function line(r: MapRange, version: QemuVersion): string {
  return `{ "start": ${r.start}, "length": ${r.length}, "depth": ${r.depth}, "present": ${r.present}, "zero": ${r.zero}, "data": ${r.data}`
    + (version === '10.0' ? `, "compressed": ${r.compressed === true}` : '')
    + (r.offset !== undefined ? `, "offset": ${r.offset}}` : '}');
}

/** The bytes `qemu-img map --output=json` writes to stdout, as `version` prints them (default 7.2). */
export function guestMapJson(m: GuestMap, version: QemuVersion = '7.2'): string {
  const ranges = mapRangesFor(m.ranges, version);
  if (m.error || m.truncatedAt) return '[' + ranges.map((r) => line(r, version) + ',\n').join('');
  const list = ranges.length > 0 ? ranges : [{ start: 0, length: 0, depth: 0, present: false, zero: false, data: false }];
  return '[' + list.map((r) => line(r, version)).join(',\n') + ']\n';
}

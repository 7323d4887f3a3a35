// What an incremental backup from a bitmap must do, range by range: the dirty ranges split by what
// the guest range holds through the backing chain, as `qemu-img map` resolves it (guest/
// block-status.ts): data to read and copy, zeros to write as zeros, unallocated ranges (zeros
// too, and nothing allocated anywhere in the chain). Clean ranges stay clean, unknown bits stay
// unknown; a dirty range whose allocation cannot be told (the map stopped at an invalid entry or
// was cut, or a backing file is missing) is unknown too.

import type { MapRange } from '../guest/block-status';
import { CLEAN, DIRTY, DIRTY_DATA, DIRTY_UNALLOCATED, DIRTY_ZERO, UNKNOWN, type Extents, ExtentsBuilder } from './extents';

export interface GuestAllocation {
  /** qemu-img map's ranges (ascending, contiguous from 0). */
  readonly ranges: readonly MapRange[];
  /** Whether every backing file of the chain was read (else "unallocated" may hide backing data). */
  readonly chainComplete: boolean;
}

function kindOf(r: MapRange, chainComplete: boolean): number {
  if (r.data) return DIRTY_DATA;
  if (r.present) return DIRTY_ZERO;
  return chainComplete ? DIRTY_UNALLOCATED : UNKNOWN;
}

/** `bits` (a plain map: CLEAN, DIRTY, UNKNOWN) split by allocation; covers the same disk. */
export function splitByAllocation(bits: Extents, alloc: GuestAllocation): Extents {
  const out = new ExtentsBuilder();
  const map = alloc.ranges;
  let j = 0;
  for (let i = 0; i < bits.count; i++) {
    const start = bits.start(i);
    const end = bits.end(i);
    const t = bits.type(i);
    if (t !== DIRTY) {
      out.push(start, end, t === CLEAN ? CLEAN : UNKNOWN);
      continue;
    }
    let pos = start;
    while (pos < end) {
      while (j < map.length && map[j]!.start + map[j]!.length <= pos) j++;
      const r = map[j];
      if (!r || r.start > pos) {
        // Past the map's end, or a gap in it: nothing known of this range.
        const stop = r ? Math.min(end, r.start) : end;
        out.push(pos, stop, UNKNOWN);
        pos = stop;
        continue;
      }
      const stop = Math.min(end, r.start + r.length);
      out.push(pos, stop, kindOf(r, alloc.chainComplete));
      pos = stop;
    }
  }
  return out.finish(bits.size);
}

// Where a freed cluster would sit if its stale table were live, so the inspector decodes it as it
// decodes a live one (inspect/place.ts): an L1 (entries → L2 tables), an L2 (entries → data), a
// refcount table, a bitmap table of a bitmap still in the directory (its granularity gives the
// guest bytes per entry). Kinds whose decoding needs facts the stale bytes do not carry (which
// refcount block, a removed bitmap's granularity, a directory's or snapshot table's parsed entries)
// are left to the hex view: null.

import type { Place } from '../inspect/place';
import type { Structures } from '../qcow2/model';
import * as S from '../qcow2/spec';
import type { FreedRun } from './types';

export function stalePlace(run: FreedRun, s: Structures, clusterSize: number): Place | null {
  const cs = clusterSize;
  const extL2 = (s.header.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
  const whole = { firstEntry: 0, count: cs / 8, startAt: 0 };
  const why = run.freedBy ? ` (${run.freedBy})` : '';
  switch (run.was) {
    case 'l1-table':
      return { kind: 'l1', owner: `stale L1 table${why}`, l2Span: (cs / (extL2 ? 16 : 8)) * cs, ...whole };
    case 'l2-table':
      return { kind: 'l2', owner: `a stale L1 table${why}`, guestBase: null, alsoShared: 0 };
    case 'refcount-table':
      return { kind: 'refcount-table', perBlock: (cs * 8) / 2 ** s.header.refcountOrder, ...whole };
    case 'bitmap-table': {
      const m = run.freedBy ? /bitmap '(.*)'/.exec(run.freedBy) : null;
      const live = m ? (s.bitmapDirectory?.bitmaps ?? []).find((b) => b.name === m[1]) : undefined;
      return live ? { kind: 'bitmap-table', name: `${live.name} (stale copy)`, guestPerEntry: cs * 8 * 2 ** live.granularityBits, ...whole } : null;
    }
    default:
      return null;
  }
}

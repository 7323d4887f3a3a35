// The saved analysis's `freed` runs (what free clusters held, app/format/freed): a top-level array
// of {offset, clusters, bytes, was, evidence, freedBy?}, plus `freedCounts` {classified, total,
// note}. Read back as untrusted input: every run checked, runs in file order and inside the file.

import type { FreedKind, FreedResult, FreedRun } from '../freed/types';
import { FREED_KINDS } from '../freed/types';
import { arr, int, nullable, obj, oneOf, opt, str, ReportError, type Json } from './codec';

/** Runs saved at most (a file of 2^28 clusters alternating kinds would have more; the rest are counted). */
export const MAX_SAVED_FREED_RUNS = 100_000;

const runCodec = obj<FreedRun>({
  offset: int(),
  clusters: int(1),
  bytes: int(1),
  was: oneOf<FreedKind>(...FREED_KINDS),
  evidence: str(4096),
  freedBy: opt(str(4096)),
});
const runsCodec = arr(runCodec, MAX_SAVED_FREED_RUNS);
const countsCodec = obj<{ classified: number; total: number; note: string | null }>({ classified: int(), total: int(), note: nullable(str(4096)) });

export const freedCodec = {
  enc(f: FreedResult): Record<string, Json> {
    const runs = f.runs.slice(0, MAX_SAVED_FREED_RUNS);
    const dropped = f.runs.length - runs.length;
    const note = dropped > 0 ? `${f.note ?? ''} Only the first ${MAX_SAVED_FREED_RUNS} freed runs are saved (${dropped} more).`.trim() : f.note;
    return { freed: runsCodec.enc(runs), freedCounts: countsCodec.enc({ classified: f.classified, total: f.total, note }) };
  },
};

/** The document's freed runs, or null when it has none (written before they existed). */
export function freedRuns(doc: Record<string, unknown>, fileSize: number): FreedResult | null {
  if (!Object.prototype.hasOwnProperty.call(doc, 'freed')) return null;
  const runs = runsCodec.dec(doc.freed, 'freed');
  let end = 0;
  runs.forEach((r, i) => {
    if (r.offset < end || r.offset + r.bytes > fileSize) throw new ReportError('INCONSISTENT', `freed[${i}]`, `run at ${r.offset} is out of order or past the end of the file`);
    end = r.offset + r.bytes;
  });
  const counts = Object.prototype.hasOwnProperty.call(doc, 'freedCounts') ? countsCodec.dec(doc.freedCounts, 'freedCounts') : null;
  const classified = runs.reduce((n, r) => n + r.clusters, 0);
  return { runs, classified: counts?.classified ?? classified, total: counts?.total ?? classified, note: counts?.note ?? null };
}

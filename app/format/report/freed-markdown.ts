// The Markdown report's "What the free clusters held" section (and so the CLI's human report):
// the free total, the part at the end a truncation would drop, then the freed runs (app/format/freed)
// — neighbouring runs of one kind and cause merged, long lists cut with "and N more runs".

import { freeAtEnd } from '../check/space';
import { Role } from '../check/roles';
import type { FreedResult, FreedRun } from '../freed/types';
import { formatBytes, formatCount, hex, plural } from '../text';

/** Runs listed at most. */
const MAX_LISTED = 30;

export interface FreedMarkdownInput {
  readonly fileSize: number;
  readonly check: { readonly roles: Uint8Array; readonly highestCluster: number; readonly clusterSize: number };
  readonly freed?: FreedResult;
}

/** Merges runs that follow each other with the same kind and cause (ignoring zeros' gaps is not done: gaps split). */
function merged(runs: readonly FreedRun[]): FreedRun[] {
  const out: FreedRun[] = [];
  for (const r of runs) {
    const last = out.at(-1);
    if (last && last.was === r.was && last.freedBy === r.freedBy && last.offset + last.bytes === r.offset) {
      out[out.length - 1] = { ...last, clusters: last.clusters + r.clusters, bytes: last.bytes + r.bytes };
    } else out.push(r);
  }
  return out;
}

export function freedMarkdown(a: FreedMarkdownInput, mdText: (s: string) => string): string[] {
  const c = a.check;
  let free = 0;
  let freeBytes = 0;
  for (let k = 0; k < c.roles.length; k++) {
    if (c.roles[k] !== Role.FREE) continue;
    free++;
    freeBytes += Math.min(c.clusterSize, a.fileSize - k * c.clusterSize);
  }
  if (free === 0) return [];
  const end = freeAtEnd(c.roles, c.highestCluster, c.clusterSize, a.fileSize);
  const out = ['### Free clusters and what they held', '',
    `${plural(free, 'free cluster')} (refcount 0), ${formatBytes(freeBytes)}` +
    (end.clusters > 0 ? `; ${formatCount(end.clusters)} of them (${formatBytes(end.bytes)}) at the end of the file: a truncation would drop them.` : '.'), ''];
  const f = a.freed;
  if (!f) return out;
  const runs = merged(f.runs);
  out.push('| offset | clusters | was | freed by | evidence |', '|---|---|---|---|---|');
  for (const r of runs.slice(0, MAX_LISTED)) {
    out.push(`| ${hex(r.offset)} | ${formatCount(r.clusters)} | ${r.was} | ${mdText(r.freedBy ?? '—')} | ${mdText(r.evidence)} |`);
  }
  if (runs.length > MAX_LISTED) out.push('', `… and ${plural(runs.length - MAX_LISTED, 'more run')}.`);
  if (f.note) out.push('', mdText(f.note));
  out.push('');
  return out;
}

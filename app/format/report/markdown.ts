// The one-line verdict of an analysis, and the Markdown report a person pastes into a bug report
// ("Copy report" in the app, `qcowscope report FILE` in a terminal): the file and its sizes, the
// verdict, qemu-img check's JSON, a summary of the findings, the bitmaps, the snapshots and where
// the file's bytes go. Text read from the image is escaped so it cannot break the Markdown.

import { qemuCheckJsonText } from '../qemu-img/check-json';
import type { Finding, Severity } from '../qcow2/errors';
import type { ReportInput } from './saved-analysis';
import { formatBytes, formatCount, formatDate, percent, plural } from '../text';

export type VerdictKind = 'clean' | 'leaks' | 'corrupt' | 'refused' | 'errors';

export interface Verdict {
  readonly kind: VerdictKind;
  readonly text: string;
}

/** ONE line: QEMU's refusal first, then check failure, corruptions, leaks, check errors; else clean. */
export function analysisVerdict(a: { readonly qemuRefuses: readonly Finding[]; readonly check: Pick<ReportInput['check'], 'failure' | 'counts'> }): Verdict {
  const refusal = a.qemuRefuses[0];
  if (refusal) return { kind: 'refused', text: `QEMU would refuse to open this image because ${refusal.message}` };
  const c = a.check.counts;
  if (a.check.failure !== null) return { kind: 'errors', text: `qemu-img check would fail: ${a.check.failure}` };
  if (c.corruptions > 0) {
    const also = c.leaks > 0 ? ` and ${plural(c.leaks, 'leaked cluster')}` : '';
    return { kind: 'corrupt', text: `${plural(c.corruptions, 'corruption')}${also}` };
  }
  if (c.leaks > 0) return { kind: 'leaks', text: plural(c.leaks, 'leaked cluster') };
  if (c.checkErrors > 0) return { kind: 'errors', text: plural(c.checkErrors, 'check error') };
  return { kind: 'clean', text: 'clean' };
}

const withCount = (n: number | bigint): string => `${formatBytes(n)} (${formatCount(n)} bytes)`;

/** Text from the image inside a table cell or a line: no markup, pipes, backticks or line breaks. */
export function mdText(s: string): string {
  return s
    .replace(/[\\`*_[\]|<>#~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`))
    .replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Rows listed at most per table; the rest are counted. */
const MAX_ROWS = 50;

function capped(rows: string[][], what: string): { rows: string[][]; more: string[] } {
  if (rows.length <= MAX_ROWS) return { rows, more: [] };
  return { rows: rows.slice(0, MAX_ROWS), more: ['', `… and ${plural(rows.length - MAX_ROWS, what)} more.`] };
}

/** The Markdown report of an analysis. `source` says where it came from (e.g. "a saved analysis"). */
export function reportMarkdown(a: ReportInput & { readonly qemuRefuses: readonly Finding[] }, source = 'the image'): string {
  const s = a.structures;
  const h = s.header;
  const c = a.check;
  const v = analysisVerdict(a);
  const out: string[] = [`## qcowscope: ${mdText(a.fileName)}`, ''];
  const facts: string[][] = [
    ['file size', withCount(a.fileSize)],
    ['virtual size', withCount(h.size)],
    ['cluster size', h.clusterSize ? formatBytes(h.clusterSize) : `invalid (cluster_bits ${h.clusterBits})`],
    ['version', h.version === 3 ? '3 (compat 1.1)' : h.version === 2 ? '2 (compat 0.10)' : String(h.version)],
    ['refcount bits', String(2 ** h.refcountOrder)],
  ];
  if (s.backingFile !== null) facts.push(['backing file', mdText(s.backingFile)]);
  if (s.extensions.dataFile !== null) facts.push(['data file', mdText(s.extensions.dataFile)]);
  out.push(...table(['', ''], facts), '', `**Verdict:** ${mdText(v.text)}`, '');

  out.push('### qemu-img check', '');
  if (c.json) out.push('```json', qemuCheckJsonText(c.json).trimEnd(), '```', '', `Exit code ${c.exitCode}.`);
  else out.push(`qemu-img would print no JSON (exit code ${c.exitCode}): ${mdText(c.failure ?? 'unknown reason')}`);
  out.push('');

  out.push('### Findings', '');
  const codes = Object.entries(a.findingTotals).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  if (codes.length === 0) out.push('None.');
  else {
    const severity = new Map<string, Severity>();
    const example = new Map<string, string>();
    for (const f of a.findings) {
      if (!severity.has(f.code)) severity.set(f.code, f.severity);
      if (!example.has(f.code)) example.set(f.code, f.message);
    }
    const t = capped(codes.map(([code, n]) => [`\`${code.replace(/`/g, "'")}\``, severity.get(code) ?? '', formatCount(n), mdText(example.get(code) ?? '')]), 'code');
    out.push(...table(['code', 'severity', 'count', 'first message'], t.rows), ...t.more);
  }
  out.push('');

  const bitmaps = s.bitmapDirectory?.bitmaps ?? [];
  if (bitmaps.length > 0) {
    const rows = bitmaps.map((b) => {
      const flags = [b.inUse ? 'in-use' : '', b.auto ? 'auto' : '', b.zeroOffsetEmpty ? 'zero-offset empty' : ''].filter(Boolean).join(', ') || 'none';
      const set = b.setBits === null ? 'unknown' : `${formatCount(b.setBits)} of ${formatCount(b.bitCount)}`;
      return [mdText(b.name), flags, formatBytes(2 ** b.granularityBits), set];
    });
    const t = capped(rows, 'bitmap');
    out.push('### Bitmaps', '', ...table(['name', 'flags', 'granularity', 'set bits'], t.rows), ...t.more, '');
  }

  const snaps = s.snapshotTable?.snapshots ?? [];
  if (snaps.length > 0) {
    const frees = new Map(a.space.snapshots.map((x) => [x.index, x.exclusiveBytes]));
    const rows = snaps.map((sn) => {
      const free = frees.get(sn.index);
      return [mdText(sn.id), mdText(sn.name), formatDate(sn.dateSec), formatBytes(sn.vmStateSize), free === undefined ? '—' : formatBytes(free)];
    });
    const t = capped(rows, 'snapshot');
    out.push('### Snapshots', '', ...table(['id', 'name', 'date (UTC)', 'VM state', 'deleting it frees'], t.rows), ...t.more, '');
  }

  const space = a.space.categories.filter((x) => x.bytes > 0).sort((x, y) => y.bytes - x.bytes);
  out.push('### Where the bytes go', '', ...table(['kind', 'bytes', 'clusters', 'share'], space.map((x) => [x.label, formatBytes(x.bytes), formatCount(x.clusters), percent(x.bytes, a.fileSize)])), '');
  out.push(`_Made by qcowscope from ${source}; the image itself is not attached._`, '');
  return out.join('\n');
}

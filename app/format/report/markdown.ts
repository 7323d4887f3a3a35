// The Markdown report a person pastes into a bug report
// ("Copy report" in the app, `qcowscope report FILE` in a terminal): the file and its sizes, the
// verdict, qemu-img check's JSON, a summary of the findings, the bitmaps, the snapshots and where
// the file's bytes go. Text read from the image is escaped so it cannot break the Markdown.

import { qemuCheckJsonText } from '../qemu-img/check-json';
import type { Finding, Severity } from '../qcow2/errors';
import { entryPastEnd } from '../qcow2/zero-fill';
import type { ReportInput } from './saved-analysis';
import { analysisVerdict } from './verdict';
import { safetyMarkdown } from '../safety/markdown';
import { freedMarkdown } from './freed-markdown';
import { formatBytes, formatCount, formatDate, percent, plural } from '../text';

export { analysisVerdict, type Verdict, type VerdictKind, type VerdictSeverity } from './verdict';

const withCount = (n: number | bigint): string => `${formatBytes(n)} (${formatCount(n)} bytes)`;

/** Text from the image inside a table cell or a line: no markup, pipes, backticks or line breaks. */
function mdText(s: string): string {
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
  if (v.more.length > 0) out.push('Also:', '', ...v.more.map((m) => `- ${mdText(m)}`), '');
  out.push(...safetyMarkdown(a.safety, mdText));

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

  // Entries read past the end of the file are QEMU's zeros, not bitmaps or snapshots: counted, not listed.
  const phantom = (n: number, what: string) => (n > 0 ? [`${plural(n, `${what} entry`, `${what} entries`)} ${n === 1 ? 'lies' : 'lie'} past the end of the file: QEMU reads ${n === 1 ? 'it' : 'them'} as zeros; ${n === 1 ? 'it is' : 'they are'} not real.`, ''] : []);
  const allBitmaps = s.bitmapDirectory?.bitmaps ?? [];
  const bitmaps = allBitmaps.filter((b) => !entryPastEnd(b, a.fileSize));
  if (allBitmaps.length > 0) {
    const rows = bitmaps.map((b) => {
      const flags = [b.inUse ? 'in-use' : '', b.auto ? 'auto' : '', b.zeroOffsetEmpty ? 'zero-offset empty' : ''].filter(Boolean).join(', ') || 'none';
      const set = b.setBits === null ? 'unknown' : `${formatCount(b.setBits)} of ${formatCount(b.bitCount)}`;
      return [mdText(b.name), flags, formatBytes(2 ** b.granularityBits), set];
    });
    const t = capped(rows, 'bitmap');
    out.push('### Bitmaps', '');
    if (rows.length > 0) out.push(...table(['name', 'flags', 'granularity', 'set bits'], t.rows), ...t.more, '');
    out.push(...phantom(allBitmaps.length - bitmaps.length, 'bitmap directory'));
  }

  const allSnaps = s.snapshotTable?.snapshots ?? [];
  const snaps = allSnaps.filter((sn) => !entryPastEnd(sn, a.fileSize));
  if (allSnaps.length > 0) {
    const frees = new Map(a.space.snapshots.map((x) => [x.index, x.exclusiveBytes]));
    const rows = snaps.map((sn) => {
      const free = frees.get(sn.index);
      return [mdText(sn.id), mdText(sn.name), formatDate(sn.dateSec), formatBytes(sn.vmStateSize), free === undefined ? '—' : formatBytes(free)];
    });
    const t = capped(rows, 'snapshot');
    out.push('### Snapshots', '');
    if (rows.length > 0) out.push(...table(['id', 'name', 'date (UTC)', 'VM state', 'deleting it frees'], t.rows), ...t.more, '');
    out.push(...phantom(allSnaps.length - snaps.length, 'snapshot table'));
  }

  const space = a.space.categories.filter((x) => x.bytes > 0).sort((x, y) => y.bytes - x.bytes);
  out.push('### Where the bytes go', '', ...table(['kind', 'bytes', 'clusters', 'share'], space.map((x) => [x.label, formatBytes(x.bytes), formatCount(x.clusters), percent(x.bytes, a.fileSize)])), '');
  out.push(...freedMarkdown(a, mdText));
  out.push(`_Made by qcowscope from ${source}; the image itself is not attached._`, '');
  return out.join('\n');
}

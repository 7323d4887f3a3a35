// The safety verdict as a section of the Markdown report (report/markdown.ts): a headline, each
// reason with its consequence and remedy, then the notes. `text` escapes what comes from the file.

import type { Safety, SafetyCode, SafetyReason } from './types';

export const SAFETY_HEADLINE = {
  safe: 'Safe to use as an untrusted image',
  unsafe: 'Unsafe',
  refused: 'QEMU would refuse it',
} as const;

/** A few words per reason for the summary line (the reasons themselves say the rest). */
const SHORT: Readonly<Record<SafetyCode, string>> = {
  'backing-absolute': 'backing file at an absolute path', 'backing-relative': 'backing file (relative path)',
  'backing-escapes': "backing file outside the image's folder", 'backing-json': 'json: backing file', 'backing-protocol': 'backing file over a protocol',
  'data-file': 'external data file', polyglot: 'several formats in one file', 'refcount-too-low': 'refcounts too low',
  'overlapping-references': 'overlapping clusters', 'reference-past-end': 'references past the end', corruption: 'corrupt metadata',
  truncated: 'truncated', 'huge-l1': 'huge L1 table', 'huge-refcount-table': 'huge refcount table', 'many-snapshots': 'too many snapshots',
  'many-bitmaps': 'too many bitmaps', 'huge-bitmaps': 'huge bitmaps', 'compressed-oversized': 'oversized compressed clusters',
  'unknown-incompatible-features': 'unknown incompatible features', 'unaligned-table': 'a misplaced table',
  'zero-offset-bitmap': 'a zero-offset bitmap (valid under the 2016 proposal)', 'corrupt-bit': 'marked corrupt', 'legacy-aes': 'legacy AES encryption',
  'qemu-refuses': 'it fails to open', qcow1: 'qcow version 1, not qcow2', 'truncated-header': 'the header is cut short', 'not-qcow2': 'not qcow2',
  unreadable: 'the file cannot be read',
};

const MAX_NAME_SHOWN = 60;

function short(r: SafetyReason): string {
  const name = r.name !== undefined && r.code !== 'not-qcow2' && r.code !== 'qcow1'
    ? ` ${JSON.stringify(r.name.length > MAX_NAME_SHOWN ? `${r.name.slice(0, MAX_NAME_SHOWN - 1)}…` : r.name)}` : '';
  return r.code.startsWith('backing-') || r.code === 'data-file' ? `${SHORT[r.code]}${name}` : SHORT[r.code];
}

/** One line for a badge or a headline: "Unsafe: backing file (relative path) "base.qcow2", external data file …". */
export function safetySummary(s: Safety): string {
  if (s.verdict === 'safe') return SAFETY_HEADLINE.safe;
  const words = [...new Set(s.reasons.filter((r) => r.kind === s.verdict).map(short))];
  return `${SAFETY_HEADLINE[s.verdict]}: ${words.slice(0, 4).join(', ')}${words.length > 4 ? ` and ${words.length - 4} more` : ''}`;
}

/** The report section (lines, ending with a blank one); none for an analysis saved without a verdict. */
export function safetyMarkdown(s: Safety | undefined, text: (t: string) => string): string[] {
  if (!s) return [];
  const out = ['### Safety as an untrusted image', '', `**${SAFETY_HEADLINE[s.verdict]}.**`, ''];
  for (const r of s.reasons) {
    out.push(`- **${r.kind}** \`${r.code}\`: ${text(r.message)} ${r.consequence} Remedy: ${r.remedy}`);
  }
  for (const n of s.notes) out.push(`- note \`${n.code}\`: ${text(n.message)}`);
  if (s.reasons.length || s.notes.length) out.push('');
  return out;
}

// The safety verdict as a section of the Markdown report (report/markdown.ts): a headline, each
// reason with its consequence and remedy, then the notes. `text` escapes what comes from the file.

import type { Safety } from './types';

export const SAFETY_HEADLINE = {
  safe: 'Safe to use as an untrusted image',
  unsafe: 'Unsafe',
  refused: 'QEMU would refuse it',
} as const;

/** One line for a badge or a headline: "Unsafe: backing file is an absolute path; …". */
export function safetySummary(s: Safety): string {
  if (s.verdict === 'safe') return SAFETY_HEADLINE.safe;
  const first = s.reasons.filter((r) => r.kind === s.verdict);
  const shown = first.slice(0, 2).map((r) => r.message.replace(/\.$/, '')).join('; ');
  return `${SAFETY_HEADLINE[s.verdict]}: ${shown}${first.length > 2 ? ` (and ${first.length - 2} more)` : ''}`;
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

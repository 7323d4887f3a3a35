// `qcowscope safety [--output=json] FILE...`: whether to accept each file from a stranger as a
// qcow2 image (app/format/safety). --output=json prints one JSON object per file and line:
// {"file", "verdict": "safe" | "unsafe" | "refused", "reasons": [{code, kind, message,
// consequence, remedy, …}], "notes": [{code, message}]}. Exit code: 0 all safe, 1 any unsafe,
// 2 any refused and none unsafe.

import { fileSafety } from '../format/node';
import type { Safety } from '../format';
import type { CommandContext } from './main';

const HEADLINE = { safe: 'safe to use as an untrusted image', unsafe: 'UNSAFE', refused: 'QEMU would refuse it' } as const;

/** The human form: a headline per file, then each reason with its consequence and remedy, then notes. */
export function safetyText(file: string, s: Safety): string {
  const lines = [`${file}: ${HEADLINE[s.verdict]}`];
  for (const r of s.reasons) {
    lines.push(`  ${r.kind === 'unsafe' ? 'unsafe ' : 'refused'} [${r.code}] ${r.message}`);
    lines.push(`          ${r.consequence}`, `          Remedy: ${r.remedy}`);
  }
  for (const n of s.notes) lines.push(`  note    [${n.code}] ${n.message}`);
  return lines.join('\n') + '\n';
}

export async function runSafety(ctx: CommandContext): Promise<number> {
  let unsafe = false;
  let refused = false;
  for (const file of ctx.files) {
    const s = await fileSafety(file);
    unsafe ||= s.verdict === 'unsafe';
    refused ||= s.verdict === 'refused';
    ctx.out(ctx.output === 'json' ? JSON.stringify({ file, verdict: s.verdict, reasons: s.reasons, notes: s.notes }) + '\n' : safetyText(file, s));
  }
  return unsafe ? 1 : refused ? 2 : 0;
}

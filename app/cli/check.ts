// `qcowscope check [--output=json] FILE`: qemu-img check, read-only. --output=json prints qemu-img's
// JSON byte for byte (7.2 and 10.0 print the same) and its per-cluster lines ("ERROR cluster 5 refcount=0 reference=1",
// "Leaked cluster …") on stderr, as qemu-img does; the human form lists those lines, qemu-img's
// summary, then our own findings. The exit code is qemu-img's: 0 clean, 1 check failed (or QEMU
// would not open the image: then --output=json prints nothing, as qemu-img, and the human form
// shows our own check), 2 corruptions, 3 leaks only.

import { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText, type Analysis, REFUSED, tableEntryOffset, FindingCode, type Finding } from '../format';
import type { CommandContext } from './main';
import { ImageFiles } from './map';

const COMPARE = new Set<FindingCode>([FindingCode.REFCOUNT_MISMATCH, FindingCode.LEAK, FindingCode.REFCOUNT_UNREADABLE]);
/** qemu-img's order: references counted, then refcounts compared (by cluster), then OFLAG_COPIED. */
const phase = (f: Finding) => (f.code === FindingCode.OFLAG_COPIED ? 2 : COMPARE.has(f.code) ? 1 : 0);

/**
 * Where check_oflag_copied prints a line: it walks the active L1 table, each entry's line first,
 * then the entries of its L2 table. [L1 index, L2 entry index or -1]; unknown places go last.
 */
function oflagOrder(a: Analysis): (f: Finding) => [number, number] {
  const h = a.structures.header;
  const cs = h.clusterSize;
  const l1Offset = Number(h.l1TableOffset);
  const entrySize = (h.incompatibleFeatures & 16n) !== 0n ? 16 : 8;
  const firstL1 = new Map<number, number>();
  (a.structures.l1 ?? []).forEach((e, i) => {
    const t = tableEntryOffset(e);
    if (t !== 0 && !firstL1.has(t)) firstL1.set(t, i);
  });
  return (f) => {
    if (f.offset === null) return [Infinity, 0];
    if (f.structure === 'active L1 table') return [(f.offset - l1Offset) / 8, -1];
    const table = f.offset - (f.offset % cs);
    return [firstL1.get(table) ?? Infinity, (f.offset - table) / entrySize];
  };
}

/** Findings qemu-img check itself prints (corruptions, leaks, check errors), in its order. */
function qemuLines(a: Analysis): Finding[] {
  const where = oflagOrder(a);
  const keyed = a.findings
    .filter((f) => f.checkClass !== 'none' && f.message !== '')
    .map((f, i) => ({ f, i, p: phase(f), at: phase(f) === 2 ? where(f) : [0, 0] }));
  return keyed
    .sort((x, y) => x.p - y.p
      || (x.p === 1 ? (x.f.cluster ?? 0) - (y.f.cluster ?? 0) : 0)
      || (x.p === 2 ? x.at[0]! - y.at[0]! || x.at[1]! - y.at[1]! : 0)
      || x.i - y.i)
    .map((x) => x.f);
}

function truncationNotes(a: Analysis): string {
  let t = '';
  for (const [code, n] of Object.entries(a.findingTotals)) {
    const shown = a.findings.filter((f) => f.code === code).length;
    if (n > shown) t += `(${n - shown} more ${code} findings not listed)\n`;
  }
  return t;
}

export async function runCheckCommand(ctx: CommandContext): Promise<number> {
  const files = await ImageFiles.open(ctx.file);
  try {
    const a = await files.analyze();
    const c = a.check;
    const refused = c.failure?.startsWith(REFUSED) ?? false;
    for (const x of a.findings) {
      if (x.code.startsWith('QEMU_REFUSES')) ctx.err(`${ctx.file}: note: QEMU ${ctx.qemuVersion} would refuse to open this image, so qemu-img check exits 1 without checking: ${x.message}\n`);
    }
    if (ctx.output === 'json') {
      if (!refused) for (const f of qemuLines(a)) ctx.err(f.message + '\n');
      if (c.json) ctx.out(qemuCheckJsonText(qemuCheckJson(ctx.file, c.counts)));
    } else {
      for (const f of qemuLines(a)) ctx.out(f.message + '\n');
      if (refused) ctx.out("qcowscope's own check (qemu-img would not get this far):\n");
      if (c.json || refused) ctx.out(qemuCheckHuman(c.counts));
      const ours = a.findings.filter((f) => f.checkClass === 'none' && f.code !== FindingCode.QEMU_REFUSES && f.message !== '');
      if (ours.length) {
        ctx.out('\nqcowscope findings:\n');
        for (const f of ours) ctx.out(`${f.severity.padEnd(7)} ${f.code}: ${f.message}${f.offset === null ? '' : ` [offset ${f.offset}]`}\n`);
      }
      ctx.out(truncationNotes(a));
    }
    if (c.failure && !refused) ctx.err(c.failure === 'Check failed' ? 'qemu-img: Check failed\n' : `qemu-img: Check failed: ${c.failure}\n`);
    return c.exitCode;
  } finally {
    await files.close();
  }
}

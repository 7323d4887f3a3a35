// The verdict: what a person reads first about an image, ONE function for the Overview, the
// Markdown report's **Verdict:** line and the CLI's human report. Most serious first: cut short or
// refused by QEMU → qemu-img check fails → corruptions → dirty (lazy refcounts) → bitmaps left in
// use → missing backing file → leaks → clean. `text` is the most serious statement; `more` the
// others, in the same order. Severity drives colour: error red, warning amber, ok green.

import { qemuText, type Finding } from '../qcow2/errors';
import type { Structures } from '../qcow2/model';
import { INCOMPAT_DIRTY } from '../qcow2/spec';
import { entryPastEnd } from '../qcow2/zero-fill';
import type { CheckCounts } from '../qemu-img';
import type { SpaceAccounting } from '../check/space';

export type VerdictKind =
  | 'truncated' | 'refused' | 'errors' | 'corrupt' | 'dirty' | 'bitmaps-in-use' | 'backing-missing' | 'leaks' | 'seed' | 'clean';
export type VerdictSeverity = 'error' | 'warning' | 'ok';

export interface Verdict {
  readonly kind: VerdictKind;
  readonly severity: VerdictSeverity;
  readonly text: string;
  /** Further statements, most serious first (each a sentence). */
  readonly more: readonly string[];
}

export interface VerdictInput {
  readonly fileSize: number;
  readonly structures: Pick<Structures, 'header' | 'bitmapDirectory' | 'backingFile'>;
  readonly check: { readonly failure: string | null; readonly counts: CheckCounts };
  readonly findings: readonly Finding[];
  readonly findingTotals: Readonly<Record<string, number>>;
  readonly space?: Pick<SpaceAccounting, 'categories'>;
}

interface Statement {
  readonly kind: VerdictKind;
  readonly severity: VerdictSeverity;
  readonly text: string;
}

const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;
/** Names as a list: "'a'", "'a' and 'b'", "'a', 'b' and 2 more". */
function names(list: readonly string[]): string {
  const q = list.slice(0, 3).map((n) => `'${n}'`);
  if (list.length > 3) return `${q.join(', ')} and ${count(list.length - 3)} more`;
  if (q.length <= 1) return q[0] ?? '';
  return `${q.slice(0, -1).join(', ')} and ${q.at(-1)!}`;
}
/** QEMU's own words: our explanation in a trailing parenthesis removed. */
const qemuWords = (m: string): string => qemuText(m).replace(/\s*\([^()]*\)$/, '');

/** Codes qemu-img counts as corruptions that a dirty (lazy-refcounts) image is expected to show. */
const DIRTY_CODES = new Set(['REFCOUNT_MISMATCH', 'OFLAG_COPIED']);

/** Every statement that applies, most serious first. */
function statements(a: VerdictInput): Statement[] {
  const out: Statement[] = [];
  const c = a.check.counts;
  const f = a.findings;
  const truncated = f.find((x) => x.code === 'FILE_TRUNCATED');
  if (truncated) out.push({ kind: 'truncated', severity: 'error', text: truncated.message.replace(/ \(0x[0-9a-f]+\)/, '') });

  const refusals = f.filter((x) => x.code === 'QEMU_REFUSES');
  const hard = refusals.filter((x) => x.severity === 'error');
  if (hard.length > 0) {
    const reasons = new Set(hard.map((x) => x.message)).size;
    const others = reasons > 1 ? ` (and ${plural(reasons - 1, 'other reason')})` : '';
    out.push({ kind: 'refused', severity: 'error', text: `QEMU would refuse to open this image because ${hard[0]!.message}${others}` });
  } else if (a.check.failure !== null && !a.check.failure.startsWith('Could not open')) {
    out.push({ kind: 'errors', severity: 'error', text: `qemu-img check would fail: ${a.check.failure}` });
  }

  const corruptionCodes = new Set(f.filter((x) => x.checkClass === 'corruption').map((x) => x.code));
  const dirty = (a.structures.header.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n;
  if (c.corruptions > 0) {
    if (dirty && [...corruptionCodes].every((code) => DIRTY_CODES.has(code))) {
      // Both codes are refcounts QEMU had not written: too low, or below an OFLAG_COPIED already set.
      out.push({ kind: 'dirty', severity: 'warning', text: `Dirty image (lazy refcounts, not closed cleanly): qemu-img check's ${plural(c.corruptions, 'error')} are refcounts not written yet, expected; QEMU repairs them on its next read-write open` });
    } else if (!truncated) {
      out.push({ kind: 'corrupt', severity: 'error', text: plural(c.corruptions, 'corruption') });
    } else {
      const pastEof = a.findingTotals['PAST_EOF'] ?? 0;
      const why = pastEof > 0 ? ` (references past the end of the file: ${count(pastEof)})` : '';
      out.push({ kind: 'corrupt', severity: 'error', text: `qemu-img check counts ${plural(c.corruptions, 'corruption')}${why}` });
    }
  } else if (c.checkErrors > 0 && a.check.failure === null) {
    out.push({ kind: 'errors', severity: 'error', text: plural(c.checkErrors, 'check error') });
  }

  const bitmaps = (a.structures.bitmapDirectory?.bitmaps ?? []).filter((b) => !entryPastEnd(b, a.fileSize));
  const inUse = bitmaps.filter((b) => b.inUse).map((b) => b.name);
  if (inUse.length === 1) {
    out.push({ kind: 'bitmaps-in-use', severity: 'warning', text: `Bitmap ${names(inUse)} was not saved cleanly: its contents are stale and QEMU will refuse to use it until it is removed` });
  } else if (inUse.length > 1) {
    out.push({ kind: 'bitmaps-in-use', severity: 'warning', text: `Bitmaps ${names(inUse)} were not saved cleanly: their contents are stale and QEMU will refuse to use them until they are removed` });
  }

  const backing = f.find((x) => x.code === 'BACKING_UNAVAILABLE');
  if (backing && a.structures.backingFile !== null) {
    out.push({ kind: 'backing-missing', severity: 'warning', text: `The backing file '${a.structures.backingFile}' is missing here: this image holds only the changes on top of it, so the guest disk cannot be read without it` });
  }

  if (c.leaks > 0) {
    // Cut short, the tables that would reference these clusters may be missing: "leaked" is unknown.
    const text = truncated
      ? `qemu-img counts ${plural(c.leaks, 'leaked cluster')}, but tables that may reference ${c.leaks === 1 ? 'it' : 'them'} lie past the end of the file: a repair (qemu-img check -r) could free clusters still in use`
      : leakText(a);
    out.push({ kind: 'leaks', severity: 'warning', text });
  }

  const seed = refusals.filter((x) => x.severity !== 'error');
  if (seed.length > 0 && hard.length === 0) {
    const seedNames = bitmaps.filter((b) => b.zeroOffsetEmpty && b.qemuRefuses.length > 0).map((b) => b.name);
    const consistent = c.corruptions === 0 && c.leaks === 0 ? 'Consistent: 0 leaks, 0 corruptions. ' : '';
    const what = seedNames.length === 1 ? `Bitmap ${names(seedNames)} is a zero-offset empty bitmap` : `Bitmaps ${names(seedNames)} are zero-offset empty bitmaps`;
    out.push({ kind: 'seed', severity: 'warning', text: `${consistent}${what} (the proposal this tool follows); QEMU 7.2 refuses to open the image: ${qemuWords(seed[0]!.message)}` });
  }
  return out;
}

/** qemu-img's leaks split: referenced by nothing (a repair frees them) or in use with a refcount too high. */
function leakText(a: VerdictInput): string {
  const n = a.check.counts.leaks;
  const cat = (key: string) => a.space?.categories.find((x) => x.key === key)?.clusters ?? 0;
  const over = cat('overcounted');
  const leaked = n - over;
  if (over === 0) return `${plural(n, 'leaked cluster')}: nothing references ${n === 1 ? 'it' : 'them'}; a repair frees ${n === 1 ? 'it' : 'them'}`;
  if (leaked <= 0) return `${plural(n, 'cluster')} in use with a refcount too high (qemu-img counts ${n === 1 ? 'it as a leak' : 'them as leaks'}); a repair frees nothing`;
  return `${plural(n, 'leaked cluster')} by qemu-img's count: ${count(leaked)} referenced by nothing (a repair frees ${leaked === 1 ? 'it' : 'them'}), ${count(over)} in use with a refcount too high (a repair frees nothing)`;
}

/** The verdict of an analysis (or of a saved one). */
export function analysisVerdict(a: VerdictInput): Verdict {
  const [lead, ...rest] = statements(a);
  if (!lead) return { kind: 'clean', severity: 'ok', text: 'clean', more: [] };
  return { kind: lead.kind, severity: lead.severity, text: lead.text, more: rest.map((s) => s.text) };
}

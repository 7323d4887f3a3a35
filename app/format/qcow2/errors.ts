// The one error/finding type of the engine. Every problem names a code, the structure it concerns
// and the file offset, so the UI can jump there. Findings are capped per code with exact totals.

import { FINDINGS_PER_CLASS_CAP } from './spec';
import type { FindingCode } from './finding-codes';

export type Severity = 'error' | 'warning' | 'info';

/** Where a problem counts in `qemu-img check` terms (or 'none' when qemu-img would not count it). */
export type CheckClass = 'corruption' | 'leak' | 'check-error' | 'none';

export interface Finding {
  /** Stable machine-readable code (finding-codes.ts), e.g. 'REFCOUNT_MISMATCH'. */
  readonly code: FindingCode;
  readonly severity: Severity;
  /** The structure concerned, e.g. 'header', 'L1 table', 'refcount block', 'bitmap "nightly"'. */
  readonly structure: string;
  /** File offset of the field or cluster concerned, or null when no offset applies. */
  readonly offset: number | null;
  readonly message: string;
  readonly checkClass: CheckClass;
  /** Host cluster index concerned, when the finding is about one cluster. */
  readonly cluster?: number;
}

export class Qcow2Error extends Error {
  constructor(
    readonly code: FindingCode,
    readonly structure: string,
    readonly offset: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'Qcow2Error';
  }
}

/** Longest structure label and message a finding keeps (longer ones end in an ellipsis). */
const MAX_STRUCTURE_CHARS = 1024;
const MAX_MESSAGE_CHARS = 8192;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Collects findings, keeping at most FINDINGS_PER_CLASS_CAP per code while counting all of them. */
export class Findings {
  readonly list: Finding[] = [];
  readonly totals = new Map<FindingCode, number>();

  constructor(private readonly cap = FINDINGS_PER_CLASS_CAP) {}

  add(f: Finding): void {
    const n = (this.totals.get(f.code) ?? 0) + 1;
    this.totals.set(f.code, n);
    if (n > this.cap) return;
    // Names from the file reach these texts; a 64 KiB name must not make a 64 KiB label.
    const long = f.structure.length > MAX_STRUCTURE_CHARS || f.message.length > MAX_MESSAGE_CHARS;
    this.list.push(long ? { ...f, structure: clip(f.structure, MAX_STRUCTURE_CHARS), message: clip(f.message, MAX_MESSAGE_CHARS) } : f);
  }

  error(code: FindingCode, structure: string, offset: number | null, message: string, checkClass: CheckClass = 'none', cluster?: number): void {
    this.add(cluster === undefined
      ? { code, severity: 'error', structure, offset, message, checkClass }
      : { code, severity: 'error', structure, offset, message, checkClass, cluster });
  }

  warn(code: FindingCode, structure: string, offset: number | null, message: string, cluster?: number): void {
    this.add(cluster === undefined
      ? { code, severity: 'warning', structure, offset, message, checkClass: 'none' }
      : { code, severity: 'warning', structure, offset, message, checkClass: 'none', cluster });
  }

  info(code: FindingCode, structure: string, offset: number | null, message: string): void {
    this.add({ code, severity: 'info', structure, offset, message, checkClass: 'none' });
  }

  /** Counts `n` more findings of `code` that are past the cap (kept only in the totals). */
  countMore(code: FindingCode, n: number): void {
    if (n > 0) this.totals.set(code, (this.totals.get(code) ?? 0) + n);
  }

  /** Exact number of findings of one code, including those past the cap. */
  count(code: FindingCode): number {
    return this.totals.get(code) ?? 0;
  }

  /** Total findings including those past the cap. */
  get total(): number {
    let t = 0;
    for (const n of this.totals.values()) t += n;
    return t;
  }

  /** Codes whose findings were cut at the cap, with how many were dropped. */
  truncated(): { code: FindingCode; dropped: number }[] {
    const out: { code: FindingCode; dropped: number }[] = [];
    for (const [code, n] of this.totals) if (n > this.cap) out.push({ code, dropped: n - this.cap });
    return out;
  }
}

/** Offsets in finding texts: the one text module's `0x…` form. */
export { hex } from '../text';

/**
 * A refusal's message is QEMU's own text, optionally followed by QEMU_NOTE and our explanation
 * (QEMU's texts never contain it). qemuText() gives QEMU's part, as qemu-img prints it.
 */
export const QEMU_NOTE = ' — ';
export const qemuText = (message: string): string => {
  const at = message.indexOf(QEMU_NOTE);
  return at < 0 ? message : message.slice(0, at);
};

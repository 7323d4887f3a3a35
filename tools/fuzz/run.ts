// One fuzz case, from (seed, case index) to a verdict. A case is a sample image mutated by
// mutate.ts; running it analyses the bytes as the app does (analyze over a ByteSource), then
// renders what the page and the CLI would render from the result. The contract: every case ends
// in a report or a typed error (Qcow2Error, Aborted), and a report keeps the engine's promises
// (findings capped per code with exact totals, space summing to the file size, outputs printable,
// the analysis structured-cloneable to the page). Anything else is a failure.

import { analyze, Aborted, type Analysis } from '../../app/format/analyze';
import { qemuCheckJsonText } from '../../app/format/qemu-img/check-json';
import { Qcow2Error } from '../../app/format/qcow2/errors';
import { guestMapJson } from '../../app/format/guest/block-status';
import { qemuInfoText } from '../../app/format/qemu-img/info';
import { describeCluster } from '../../app/format/check/cluster-roles';
import { assembleStored, decompressCluster, storedSpan } from '../../app/format/compress/decompress';
import { buildReport, parseReport } from '../../app/format/report/saved-analysis';
import { BytesSource } from '../../app/format/qcow2/source';
import { FINDINGS_PER_CLASS_CAP } from '../../app/format/qcow2/spec';
import { locate, type ImageLayout } from './locate';
import { HOSTILE_NAMES } from './hostile';
import { mutate, writeUint } from './mutate';
import { Rng, caseSeed } from '../../app/test-support/prng';

export interface FuzzSample {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly layout: ImageLayout;
}

export function prepareSample(name: string, bytes: Uint8Array): FuzzSample {
  return { name, bytes, layout: locate(bytes) };
}

export interface FuzzCase {
  readonly seed: number;
  readonly index: number;
  readonly sample: string;
  readonly bytes: Uint8Array;
  /** What every backing file name opens (the image itself: a cycle), or null: nothing opens. */
  readonly backing: Uint8Array | null;
  /** Cancel the analysis at this event (the worker's cancel path), or null. */
  readonly abortAfter: number | null;
  readonly ops: readonly string[];
}

/** The case `index` of run `seed`: the same on every machine, in every worker. */
export function makeCase(samples: readonly FuzzSample[], seed: number, index: number): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const s = rng.pick(samples);
  const m = mutate(s.bytes, s.layout, rng);
  const ops = [...m.ops];
  let backing: Uint8Array | null = null;
  const b = rng.int(8);
  if (b <= 1 && m.bytes.length >= 104 && readBackingOffset(m.bytes) === 0n && rng.chance(0.7)) ops.push(nameBacking(m.bytes, s.layout.clusterSize, rng));
  if (b === 0) {
    backing = m.bytes;
    ops.push('backing: the image itself');
  } else if (b === 1) {
    const other = rng.pick(samples);
    const mb = mutate(other.bytes, other.layout, rng);
    backing = mb.bytes;
    ops.push(`backing: ${other.name} with ${mb.ops.join(', ')}`);
  }
  const abortAfter = rng.chance(0.05) ? rng.range(1, 8) : null;
  if (abortAfter !== null) ops.push(`cancel at event ${abortAfter}`);
  return { seed, index, sample: s.name, bytes: m.bytes, backing, abortAfter, ops };
}

const readBackingOffset = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(8);

/** Gives an image without a backing file a name (at the end of cluster 0), so that one is opened. */
function nameBacking(b: Uint8Array, clusterSize: number, rng: Rng): string {
  const name = rng.chance(0.5) ? new TextEncoder().encode('backing.qcow2') : rng.pick(HOSTILE_NAMES).subarray(0, 64);
  const at = Math.min(clusterSize, b.length) - 64;
  if (at < 104) return 'backing name (no room)';
  b.fill(0, at, at + 64);
  b.set(name, at);
  writeUint(b, 8, 8, BigInt(at));
  writeUint(b, 16, 4, BigInt(name.length));
  return `backing name of ${name.length} bytes at ${at}`;
}

/** `ms`: how long analyze() took by the caller's clock (the budget applies to it; the contract checks come on top). */
export type Verdict =
  /** A report (code OK, QEMU_REFUSES or CHECK_FAILED), or a typed error naming its code. */
  | { readonly ok: true; readonly outcome: 'report' | 'typed-error' | 'aborted'; readonly code: string; readonly ms: number }
  /** 'crash': an untyped exception; 'contract': a report that breaks one of the promises above. */
  | { readonly ok: false; readonly kind: 'crash' | 'contract'; readonly message: string; readonly stack: string; readonly ms: number };

const fail = (kind: 'crash' | 'contract', e: unknown, ms: number): Verdict => ({
  ok: false,
  kind,
  message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
  stack: e instanceof Error ? e.stack ?? '' : '',
  ms,
});

export interface RunOptions {
  /** Opened for every backing file name the image records (none when absent). */
  readonly backing?: Uint8Array | null;
  /** Aborts the analysis when it emits its n-th event. */
  readonly abortAfter?: number | null;
  /** Told the stage the analysis enters ('header', 'structures', 'l2', …, 'contract'), for triage of hangs. */
  readonly onStage?: (stage: string) => void;
  /** Milliseconds now, for the verdict's `ms`: the fuzzer passes its process's CPU time, which other load does not inflate. */
  readonly clock?: () => number;
}

/** Analyses `bytes` and checks the result; never throws. */
export async function runCase(bytes: Uint8Array, name = 'fuzz.qcow2', o: RunOptions = {}): Promise<Verdict> {
  let a: Analysis;
  const now = o.clock ?? (() => performance.now());
  const t0 = now();
  let stage = '';
  const enter = (s: string) => {
    if (s !== stage) o.onStage?.((stage = s));
  };
  const abort = new AbortController();
  let events = 0;
  // One source per file, as the worker keeps them, so that a chain that loops is recognised.
  const top = new BytesSource(bytes, name);
  const backing = o.backing === bytes ? top : o.backing ? new BytesSource(o.backing, 'backing.qcow2') : null;
  try {
    enter('header');
    a = await analyze(top, {
      signal: abort.signal,
      onEvent: (e) => {
        if (++events === o.abortAfter) abort.abort();
        enter(e.kind === 'header' ? 'structures' : e.kind === 'structures' ? 'check' : e.kind === 'progress' ? `progress ${e.phase}` : e.kind);
      },
      openBacking: async () => backing,
    });
  } catch (e) {
    const ms = now() - t0;
    if (e instanceof Aborted) return { ok: true, outcome: 'aborted', code: 'ABORTED', ms };
    if (e instanceof Qcow2Error) return { ok: true, outcome: 'typed-error', code: e.code, ms };
    return fail('crash', e, ms);
  }
  const ms = now() - t0;
  try {
    enter('contract');
    checkReport(a, bytes.length);
    enter('saved analysis');
    checkSavedAnalysis(a);
    enter('decompress');
    checkDecompression(a, bytes);
  } catch (e) {
    return fail(e instanceof ContractError ? 'contract' : 'crash', e, ms);
  }
  return { ok: true, outcome: 'report', code: a.qemuRefuses.length ? 'QEMU_REFUSES' : a.check.failure ? 'CHECK_FAILED' : 'OK', ms };
}

export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

function expect(ok: boolean, message: () => string): void {
  if (!ok) throw new ContractError(message());
}

/** The promises a report keeps, and what the page and the CLI do with it (must not throw). */
export function checkReport(a: Analysis, fileSize: number): void {
  const listed = new Map<string, number>();
  for (const f of a.findings) {
    expect(typeof f.code === 'string' && typeof f.message === 'string', () => `finding without code or message: ${JSON.stringify(f)}`);
    expect(f.offset === null || Number.isFinite(f.offset), () => `finding ${f.code} has offset ${f.offset}`);
    listed.set(f.code, (listed.get(f.code) ?? 0) + 1);
  }
  for (const [code, n] of listed) {
    expect(n <= FINDINGS_PER_CLASS_CAP, () => `${n} findings of ${code} kept, above the cap of ${FINDINGS_PER_CLASS_CAP}`);
    expect((a.findingTotals[code] ?? 0) >= n, () => `total of ${code} is ${a.findingTotals[code]}, but ${n} are listed`);
  }
  const spaceBytes = a.space.categories.reduce((s, c) => s + c.bytes, 0);
  expect(spaceBytes === fileSize, () => `space categories sum to ${spaceBytes} bytes, the file has ${fileSize}`);
  qemuInfoText(a.info);
  if (a.check.json) qemuCheckJsonText(a.check.json);
  guestMapJson({ ranges: a.guestMap, error: a.check.mapError, truncatedAt: a.check.mapTruncatedAt });
  const n = a.check.roles.length;
  for (const k of new Set([0, 1, n >> 1, n - 2, n - 1, n])) describeCluster({ structures: a.structures, check: a.check }, k);
  if (typeof structuredClone === 'function') structuredClone(a);
}

/** The saved analysis the page downloads reads back (the page and the CLI write it for any report). */
export function checkSavedAnalysis(a: Analysis): void {
  const text = JSON.stringify(buildReport(a, 'qcowscope fuzz'));
  const back = parseReport(text).analysis.check;
  expect(JSON.stringify(back.counts) === JSON.stringify(a.check.counts), () => `saved analysis counts ${JSON.stringify(back.counts)}, the report ${JSON.stringify(a.check.counts)}`);
  const r = a.check.roles;
  expect(back.roles.length === r.length && back.roles.every((x, i) => x === r[i]), () => 'saved analysis roles differ from the report');
}

/** Compressed clusters previewed by the inspector: a few of them, first, last and between. */
const DECOMPRESS_PER_CASE = 6;

/** The inspector's preview of compressed clusters (bounded output, never throws). */
export function checkDecompression(a: Analysis, bytes: Uint8Array): void {
  const c = a.check.compressed;
  const cs = a.check.clusterSize;
  if (c.n === 0 || cs < 512) return;
  const type = a.structures.header.compressionType === 1 ? 'zstd' : 'zlib';
  const picks = new Set<number>();
  for (let i = 0; i < DECOMPRESS_PER_CASE; i++) picks.add(Math.floor(((c.n - 1) * i) / (DECOMPRESS_PER_CASE - 1)));
  for (const i of picks) {
    const span = storedSpan(c.host[i]!, c.length[i]!, cs);
    const clusters: (Uint8Array | null)[] = [];
    for (let k = span.first; k <= span.last; k++) clusters.push(k * cs < bytes.length ? bytes.subarray(k * cs, Math.min(bytes.length, (k + 1) * cs)) : null);
    const out = decompressCluster(type, assembleStored(c.host[i]!, span.length, cs, span.first, clusters), cs);
    expect(out.bytes === null || out.bytes.length <= cs, () => `compressed cluster at ${c.host[i]} decompressed to ${out.bytes?.length} bytes, more than a cluster`);
    expect(out.problem === null ? out.bytes?.length === cs : typeof out.problem === 'string', () => `compressed cluster at ${c.host[i]}: no problem reported for ${out.bytes?.length ?? 0} bytes`);
  }
}

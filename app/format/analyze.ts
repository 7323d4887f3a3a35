// The whole analysis of one image, in the order the app streams it: header and extensions, then
// snapshots and bitmaps, then the table scans (progress), then roles, check, guest map and space.
// Pure: the worker and the CLI both call analyze() with a ByteSource.

import { Findings, type Finding } from './qcow2/errors';
import type { ByteSource } from './qcow2/source';
import type { Structures } from './qcow2/model';
import { loadHeaderStage, loadStructures, type HeaderStage } from './qcow2/structures';
import { runCheck, type CheckResult } from './check/check';
import type { ClusterUsage, OwnerSummary } from './check/usage';
import type { MapRange } from './guest/block-status';
import { accountSpace, type SpaceAccounting } from './check/space';
import { qemuInfo, type QemuInfoJson } from './qemu-img/info';
import { imageSafety, type Safety } from './safety';
import { softenSeedRefusals } from './qcow2/seed';
import { classifyFreed, type FreedResult } from './freed';

export type Phase = 'header' | 'structures' | 'l2' | 'refcounts' | 'check' | 'map' | 'space' | 'done';

export type AnalysisEvent =
  | { readonly kind: 'header'; readonly stage: HeaderStage }
  | { readonly kind: 'structures'; readonly structures: Structures }
  | { readonly kind: 'progress'; readonly phase: Phase; readonly done: number; readonly total: number }
  | { readonly kind: 'findings'; readonly findings: readonly Finding[] }
  /** Which clusters are in use, from the refcount blocks: before the L2 tables are scanned. */
  | { readonly kind: 'usage'; readonly usage: ClusterUsage }
  /** Owners claimed so far per usage bucket, while the L2 tables are read (CheckOptions.onOwners). */
  | { readonly kind: 'owners'; readonly owners: OwnerSummary }
  /**
   * The role of every host cluster, final (check/check.ts CheckOptions.onRoles): the array the
   * analysis goes on reading, and returns as check.roles; `spare` is memory the check is done with,
   * of at least roles.length bytes, to copy them into. Not sent when the check fails early.
   */
  | { readonly kind: 'roles'; readonly roles: Uint8Array; readonly spare: ArrayBuffer | null };

export interface Analysis {
  readonly fileName: string;
  readonly fileSize: number;
  readonly structures: Structures;
  readonly info: QemuInfoJson;
  readonly check: CheckResult;
  readonly guestMap: readonly MapRange[];
  readonly space: SpaceAccounting;
  /** Every finding (capped per code), and exact totals per code. */
  readonly findings: readonly Finding[];
  readonly findingTotals: Readonly<Record<string, number>>;
  /** Reasons QEMU 7.2 would refuse to open this image (empty when it opens it). */
  readonly qemuRefuses: readonly Finding[];
  /** Whether to accept it from a stranger (absent in saved analyses written before it existed). */
  readonly safety?: Safety;
  /** What the free clusters held (absent in saved analyses written before it existed). */
  readonly freed?: FreedResult;
}

export interface AnalyzeOptions {
  readonly onEvent?: (e: AnalysisEvent) => void;
  readonly signal?: AbortSignal;
  /**
   * Opens a backing file by the name the header of `from` records (qemu-img resolves it relative
   * to `from`'s folder; `from` is the image itself for the first level), for the guest map's depth.
   */
  readonly openBacking?: (name: string, from?: ByteSource) => Promise<ByteSource | null>;
  /** check.storedRefcounts may be one byte per cluster (CheckOptions.narrowRefcounts). */
  readonly narrowRefcounts?: boolean;
}

export class Aborted extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'Aborted';
  }
}

export async function analyze(src: ByteSource, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const f = new Findings();
  const emit = opts.onEvent ?? (() => {});
  const stop = () => {
    if (opts.signal?.aborted) throw new Aborted();
  };
  const progress = (phase: Phase) => (done: number, total: number) => {
    stop();
    emit({ kind: 'progress', phase, done, total });
  };
  const stage = await loadHeaderStage(src, f);
  emit({ kind: 'header', stage });
  stop();
  const structures = await loadStructures(src, stage, f, progress('structures'));
  emit({ kind: 'structures', structures });
  stop();
  const check = await runCheck(src, structures, f, {
    onProgress: progress('l2'),
    onRefcountProgress: progress('refcounts'),
    ...(opts.onEvent ? { onUsage: (usage: ClusterUsage) => emit({ kind: 'usage', usage }), onOwners: (owners: OwnerSummary) => emit({ kind: 'owners', owners }), onRoles: (roles: Uint8Array, spare: ArrayBuffer | null) => emit({ kind: 'roles', roles, spare }) } : {}),
    ...(opts.openBacking ? { openBacking: opts.openBacking } : {}),
    ...(opts.narrowRefcounts ? { narrowRefcounts: true } : {}),
  });
  stop();
  const space = accountSpace(structures, check);
  const freed = await classifyFreed(src, { structures, roles: check.roles, clusterSize: check.clusterSize, refcounts: check.storedRefcounts });
  stop();
  softenSeedRefusals(structures, f.list);
  const findings = f.list;
  emit({ kind: 'findings', findings });
  const safety = await imageSafety(src, { fileSize: src.size, structures, check, findings, findingTotals: Object.fromEntries(f.totals) }, stage.cluster0);
  emit({ kind: 'progress', phase: 'done', done: 1, total: 1 });
  return {
    fileName: src.name,
    fileSize: src.size,
    structures,
    info: qemuInfo(structures),
    check,
    guestMap: check.guestMap,
    space,
    findings,
    findingTotals: Object.fromEntries(f.totals),
    qemuRefuses: findings.filter((x) => x.code === 'QEMU_REFUSES'),
    safety,
    freed,
  };
}

// The message protocol between the page and the analysis worker: tagged unions both ways, and
// runtime guards that every receiver runs before trusting a message (a message that fails its
// guard is a bug report, never silently dropped). Everything here must survive structured clone.
//
// A "job" is one set of dropped files; its files are analysed one after another, top of the
// backing chain first. Every message about a file carries (job, file) so that late messages of a
// cancelled job are recognised and ignored.

import type { Analysis, AnalysisEvent, ClusterUsage, Finding, OwnerSummary, Phase } from '../format';
import { isBitmapMapsMsg, type BitmapMapsMsg, type BitmapRefMsg } from './bitmap-maps';
import { isPackedGuestMap, type WireResult } from './result-wire';

/** Typed arrays with one entry per host cluster: sent apart from the analysis, transferred. */
export type ClusterArrayName = 'roles' | 'storedRefcounts';
/** roles: Uint8Array; storedRefcounts: Uint16Array or Uint32Array (the engine's RefcountArray). */
export type ClusterArray = Uint8Array | Uint16Array | Uint32Array;

/** The analysis as the page receives it: everything but the per-cluster arrays. */
export type AnalysisResult = Omit<Analysis, 'check'> & { readonly check: Omit<Analysis['check'], ClusterArrayName> };

export type HeaderStagePayload = Extract<AnalysisEvent, { kind: 'header' }>['stage'];
export type StructuresPayload = Extract<AnalysisEvent, { kind: 'structures' }>['structures'];

// ---- page → worker ----

export type ToWorker =
  /** Analyse `files` (all dropped together): each file is served as a backing file to the others. */
  | { readonly type: 'analyze'; readonly job: number; readonly files: readonly File[] }
  | { readonly type: 'cancel'; readonly job: number }
  /** Bytes of host cluster `index` of file `file` of the current job. */
  | { readonly type: 'read-cluster'; readonly request: number; readonly job: number; readonly file: number; readonly index: number }
  /** Extents of bitmaps of the current job's files (bitmap-maps.ts); `compare` the first two. */
  | { readonly type: 'bitmap-maps'; readonly request: number; readonly job: number; readonly bitmaps: readonly BitmapRefMsg[]; readonly compare: boolean };

// ---- worker → page ----

interface FileRef {
  readonly job: number;
  /** Index into the job's files. */
  readonly file: number;
}

export type FromWorker =
  /** The order the files will be analysed in (top of each chain first) and who backs whom. */
  | { readonly type: 'plan'; readonly job: number; readonly order: readonly number[]; readonly backing: readonly (number | null)[]; readonly missing: readonly (string | null)[] }
  | (FileRef & { readonly type: 'header'; readonly stage: HeaderStagePayload })
  | (FileRef & { readonly type: 'structures'; readonly structures: StructuresPayload })
  | (FileRef & { readonly type: 'progress'; readonly phase: Phase; readonly done: number; readonly total: number })
  | (FileRef & { readonly type: 'findings'; readonly findings: readonly Finding[] })
  /** Clusters in use per bucket, from the refcount blocks: sent before any L2 table is scanned. */
  | (FileRef & { readonly type: 'usage'; readonly usage: ClusterUsage })
  /** Owners claimed so far per usage bucket, while the L2 tables are read (a later one holds all of an earlier one's). */
  | (FileRef & { readonly type: 'owners'; readonly owners: OwnerSummary })
  /** A batch of a per-cluster array: `chunk` holds entries [start, start + chunk.length) of `total`. */
  /** `roleCounts` (with a whole roles array only): clusters per role byte, 256 entries, so the page need not count them. */
  | (FileRef & { readonly type: 'cluster-array'; readonly name: ClusterArrayName; readonly start: number; readonly total: number; readonly chunk: ClusterArray; readonly roleCounts?: Uint32Array })
  /** The analysis with its guest map packed (result-wire.ts; the client rebuilds it) and the convert estimate. */
  | (FileRef & WireResult & { readonly type: 'result'; readonly ms: number })
  /** The file could not be analysed; `notQcow2` when it is another format (message says which). */
  | (FileRef & { readonly type: 'failed'; readonly code: string; readonly message: string; readonly notQcow2: boolean })
  | { readonly type: 'job-done'; readonly job: number }
  | { readonly type: 'cancelled'; readonly job: number }
  | { readonly type: 'cluster-bytes'; readonly request: number; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly type: 'cluster-error'; readonly request: number; readonly message: string }
  | { readonly type: 'bitmap-maps'; readonly request: number; readonly maps: BitmapMapsMsg }
  | { readonly type: 'bitmap-error'; readonly request: number; readonly message: string }
  /** An error outside any analysis (a bug): shown to the user. */
  | { readonly type: 'internal-error'; readonly message: string };

// ---- guards ----

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isBool = (x: unknown): x is boolean => typeof x === 'boolean';
const isArr = Array.isArray;
const hasFileRef = (m: Obj): boolean => isNum(m.job) && isNum(m.file);

const PHASES: ReadonlySet<string> = new Set<Phase>(['header', 'structures', 'l2', 'refcounts', 'check', 'map', 'space', 'done']);

/** roles come as bytes; stored refcounts as 16- or 32-bit entries (the engine's RefcountArray). */
const isClusterChunk = (name: unknown, chunk: unknown): chunk is ClusterArray =>
  name === 'roles' ? chunk instanceof Uint8Array : name === 'storedRefcounts' && (chunk instanceof Uint16Array || chunk instanceof Uint32Array);

/** A usage summary whose buckets cover exactly its clusters. */
const isUsage = (u: unknown): u is ClusterUsage =>
  isObj(u) && isNum(u.clusters) && isNum(u.perBucket) && u.perBucket >= 1 && u.used instanceof Uint32Array && u.used.length === Math.ceil(u.clusters / u.perBucket) && isNum(u.inUse) && u.inUse >= 0 && u.inUse <= u.clusters;

/** An owner summary: one role mask per bucket (roles below 32), done of total L2 tables. */
const isOwners = (o: unknown): o is OwnerSummary =>
  isObj(o) && isNum(o.perBucket) && o.perBucket >= 1 && o.masks instanceof Uint32Array && isNum(o.roles) && isNum(o.after) && isNum(o.from) && isNum(o.to) && o.from >= 0 && o.from <= o.to && o.to <= o.masks.length && isNum(o.done) && isNum(o.total) && o.done >= 0 && o.done <= o.total;

/** A convert estimate (two bigints) or null. */
const isEstimate = (e: unknown): boolean => e === null || (isObj(e) && typeof e.required === 'bigint' && typeof e.lessThanFile === 'bigint');

/** True when `x` is a well-formed message from the worker. */
export function isFromWorker(x: unknown): x is FromWorker {
  if (!isObj(x) || !isStr(x.type)) return false;
  const m = x;
  switch (m.type) {
    case 'plan':
      return isNum(m.job) && isArr(m.order) && m.order.every(isNum) && isArr(m.backing) && isArr(m.missing);
    case 'header':
      return hasFileRef(m) && isObj(m.stage) && isObj(m.stage.header);
    case 'structures':
      return hasFileRef(m) && isObj(m.structures) && isObj(m.structures.header);
    case 'progress':
      return hasFileRef(m) && isStr(m.phase) && PHASES.has(m.phase) && isNum(m.done) && isNum(m.total);
    case 'findings':
      return hasFileRef(m) && isArr(m.findings) && m.findings.every((f) => isObj(f) && isStr(f.code) && isStr(f.message));
    case 'usage':
      return hasFileRef(m) && isUsage(m.usage);
    case 'owners':
      return hasFileRef(m) && isOwners(m.owners);
    case 'cluster-array':
      return hasFileRef(m) && isNum(m.start) && isNum(m.total) && isClusterChunk(m.name, m.chunk) && m.start + m.chunk.length <= m.total &&
        (m.roleCounts === undefined || (m.name === 'roles' && m.start === 0 && m.chunk.length === m.total && m.roleCounts instanceof Uint32Array && m.roleCounts.length === 256));
    case 'result':
      return hasFileRef(m) && isObj(m.analysis) && isObj(m.analysis.structures) && isObj(m.analysis.check) && isNum(m.ms) && isPackedGuestMap(m.guestMap) && isEstimate(m.estimate);
    case 'failed':
      return hasFileRef(m) && isStr(m.code) && isStr(m.message) && isBool(m.notQcow2);
    case 'job-done':
    case 'cancelled':
      return isNum(m.job);
    case 'cluster-bytes':
      return isNum(m.request) && isNum(m.offset) && m.bytes instanceof Uint8Array;
    case 'cluster-error':
    case 'bitmap-error':
      return isNum(m.request) && isStr(m.message);
    case 'bitmap-maps':
      return isNum(m.request) && isBitmapMapsMsg(m.maps);
    case 'internal-error':
      return isStr(m.message);
    default:
      return false;
  }
}

/** True when `x` is a well-formed message from the page. */
export function isToWorker(x: unknown): x is ToWorker {
  if (!isObj(x) || !isStr(x.type)) return false;
  switch (x.type) {
    case 'analyze':
      return isNum(x.job) && isArr(x.files) && x.files.length > 0 && x.files.every((f) => typeof File !== 'undefined' && f instanceof File);
    case 'cancel':
      return isNum(x.job);
    case 'read-cluster':
      return isNum(x.request) && isNum(x.job) && isNum(x.file) && isNum(x.index) && x.index >= 0;
    case 'bitmap-maps':
      return isNum(x.request) && isNum(x.job) && isArr(x.bitmaps) && x.bitmaps.every((b) => isObj(b) && isNum(b.file) && isNum(b.index)) && isBool(x.compare);
    default:
      return false;
  }
}

/** Describes a guard failure for the error shown to the user. */
export function describeBadMessage(x: unknown): string {
  const type = isObj(x) && isStr(x.type) ? x.type : typeof x;
  return `malformed message from the analysis worker (type ${type})`;
}

// The saved analysis ("qcowscope-analysis", version 1): ONE JSON document for `qcowscope report
// --output=json` and the app's "Download analysis", which the app opens again without the image.
// It holds the parsed structures (not the L1 tables), qemu-img's check and map results, the space
// accounting, every finding, and the role of every host cluster as run-length runs (rle.ts),
// so a 1 TiB image takes kilobytes. Stored refcounts are kept the same way when their runs are
// small (MAX_SAVED_REFCOUNT_BYTES), else left out and said so in `notes`.
//
// parseReport() treats the document as untrusted: bounded size, every field checked by its codec
// (schema.ts), cross-field consistency checked; failures are ReportError, never a crash.

import type { Analysis } from '../analyze';
import { MAX_CHECK_CLUSTERS, type CheckResult } from '../check/check';
import type { QemuCheckJson } from '../qemu-img/check-json';
import type { Finding } from '../qcow2/errors';
import type { MapRange } from '../guest/block-status';
import { qemuInfo, type QemuInfoJson } from '../qemu-img/info';
import { roleCounts } from '../check/cluster-roles';
import type { BitmapDirectory, SnapshotTable, Structures } from '../qcow2/model';
import { NO_OWNERS } from '../check/owners';
import { decodeOwners, encodeOwners, type OwnerParts, type SavedOwners } from './owners-codec';
import { EMPTY_REFTABLE, refcountArray, type RefcountArray, type StoredRefcountArray } from '../qcow2/refcounts';
import { qdictOrder, type QValue } from '../qemu-img/qemu-json';
import { arr, bytes, counts, int, nullable, obj, opt, str, u32s, wide, ReportError, type Codec, type Json } from './codec';
import { MAP_ENCODING, RLE_ENCODING, decodeMap, decodeRuns, encodeMap, encodeRuns, encodedBytes } from './rle';
import * as C from './schema';
import { ROLE_COUNT } from '../check/roles';
import type { SpaceAccounting } from '../check/space';
import type { HeaderStage } from '../qcow2/structures';
import * as S from '../qcow2/spec';
import type { Safety } from '../safety/types';
import { safetyCodec } from './safety-codec';
import { freedCodec, freedRuns } from './freed-codec';
import type { FreedResult } from '../freed/types';

export const REPORT_FORMAT = 'qcowscope-analysis';
export const REPORT_VERSION = 1;
/** Largest saved analysis read (the text): a document is kilobytes to a few megabytes. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/**
 * Bitmap directory entries saved in full (a damaged directory lists up to 65535, ~1 KiB of JSON
 * each); the counts, roles and space totals still cover all of them.
 */
export const MAX_SAVED_BITMAPS = 1024;

/** Snapshots saved in full (a table may list 65536, ~500 bytes of JSON each with their space and info). */
export const MAX_SAVED_SNAPSHOTS = 4096;

/** Stored refcounts are saved only when their encoded runs take at most this many bytes. */
const MAX_SAVED_REFCOUNT_BYTES = 1024 * 1024;
/** Guest map ranges kept: qemu-img map's output up to the engine's own cap. */
const MAX_SAVED_MAP_RANGES = 1 << 17;
const MAX_FINDINGS = 1_000_000;

/** What buildReport needs: an Analysis, or what the app holds of one (refcounts may be gone). */
export interface ReportInput {
  readonly fileName: string;
  readonly fileSize: number;
  readonly structures: Structures;
  readonly info: QemuInfoJson;
  readonly check: Pick<CheckResult, 'json' | 'exitCode' | 'failure' | 'counts' | 'clusterSize' | 'highestCluster' | 'snapshotExclusiveClusters' | 'mapError' | 'mapTruncatedAt' | 'roles'> & {
    readonly storedRefcounts: StoredRefcountArray | null;
  } & Partial<OwnerParts>;
  readonly guestMap: readonly MapRange[];
  readonly space: SpaceAccounting;
  readonly findings: readonly Finding[];
  readonly findingTotals: Readonly<Record<string, number>>;
  /** The safety verdict (saved when present; older documents have none). */
  readonly safety?: Safety;
  /** What the free clusters held (saved as the top-level `freed` runs when present). */
  readonly freed?: FreedResult;
}

/** A saved analysis read back: everything the app shows, in the engine's own shapes. */
export interface SavedAnalysis {
  /** Who wrote the document (e.g. "qcowscope 0.1.0 (cli)"). */
  readonly generator: string;
  /** The header stage as the worker would send it (cluster0 is empty: the bytes are not saved). */
  readonly stage: HeaderStage;
  /**
   * The analysis with the per-cluster roles decoded, and the owners (guest owner runs, L2 table
   * uses, the reftable, the compressed-cluster index) when the document has them. Never saved, so
   * empty: the L1 tables; storedRefcounts too when `refcountsSaved` is false.
   */
  readonly analysis: Omit<Analysis, 'check'> & { readonly check: Omit<Analysis['check'], 'storedRefcounts'> & { readonly storedRefcounts: RefcountArray } };
  readonly refcountsSaved: boolean;
  /** What the writer left out, in words. */
  readonly notes: readonly string[];
}

type SavedStructures = Omit<Structures, 'l1' | 'snapshotL1'>;

const structuresCodec = obj<SavedStructures>({
  fileSize: int(),
  header: C.header,
  extensions: C.extensions,
  backingFile: nullable(str(4096)),
  backingFileBytes: opt(bytes(4096)),
  luks: nullable(C.luksHeader),
  snapshotTable: nullable(obj<SnapshotTable>({ offset: wide, byteLength: int(), snapshots: arr(C.snapshot, S.MAX_SNAPSHOTS) })),
  bitmapDirectory: nullable(obj<BitmapDirectory>({ offset: wide, byteLength: int(), bitmaps: arr(C.bitmap, S.MAX_BITMAPS) })),
});

interface SavedCheck {
  readonly qemuImgCheck: QemuCheckJson | null;
  readonly exitCode: number;
  readonly failure: string | null;
  readonly counts: CheckResult['counts'];
  readonly clusterSize: number;
  readonly highestCluster: number;
  readonly snapshotExclusiveClusters: Uint32Array;
  readonly mapTruncatedAt: number | null;
}

const checkCodec = obj<SavedCheck>({
  qemuImgCheck: nullable(C.qemuCheck),
  exitCode: int(0, 3),
  failure: nullable(str(65_536)),
  counts: C.checkCounts,
  clusterSize: int(512, 2 ** 30),
  highestCluster: int(),
  snapshotExclusiveClusters: u32s(S.MAX_SNAPSHOTS),
  mapTruncatedAt: nullable(wide),
});

interface SavedRuns {
  readonly entries: number;
  readonly encoding: string;
  readonly runs: string;
}
const runsCodec = obj<SavedRuns>({ entries: int(0, MAX_CHECK_CLUSTERS + 1), encoding: str(64), runs: str(MAX_REPORT_BYTES) });

interface SavedMap {
  readonly entries: number;
  readonly encoding: string;
  readonly ranges: string;
  readonly error: string | null;
}
const mapCodec = obj<SavedMap>({ entries: int(0, MAX_SAVED_MAP_RANGES), encoding: str(64), ranges: str(MAX_REPORT_BYTES), error: nullable(str(65_536)) });
const findingsCodec = arr(C.finding, MAX_FINDINGS);
const totalsCodec = counts(100_000, 128);
const notesCodec = arr(str(4096), 64);
const ownersCodec = obj<SavedOwners>({
  encoding: str(64), owner: nullable(str(MAX_REPORT_BYTES)), l2: nullable(str(MAX_REPORT_BYTES)),
  reftable: nullable(str(MAX_REPORT_BYTES)), compressed: nullable(str(MAX_REPORT_BYTES)),
});

/** QEMU-style JSON (bigint beyond 2^53) as plain JSON: such integers become decimal strings. */
function plainJson(v: QValue): Json {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map((x: QValue) => plainJson(x));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v as Json;
}

/** The document for one analysis. `generator` names the writer (app or CLI, and version). */
export function buildReport(a: ReportInput, generator: string): Json {
  const c = a.check;
  const s = a.structures;
  const notes: string[] = ['L1 tables and the bytes of the image are not saved.'];
  const dir = s.bitmapDirectory;
  if (dir && dir.bitmaps.length > MAX_SAVED_BITMAPS) {
    notes.push(`Only the first ${MAX_SAVED_BITMAPS} of the ${dir.bitmaps.length} bitmap directory entries are saved.`);
  }
  // Bitmap tables are saved while they fit one budget (a damaged directory can name one table
  // thousands of times); one note names how many were left out.
  let tableBudget = C.MAX_SAVED_BITMAP_TABLE;
  const unsaved: string[] = [];
  const bitmaps = dir && {
    ...dir,
    bitmaps: dir.bitmaps.slice(0, MAX_SAVED_BITMAPS).map((b) => {
      if (!b.table || b.table.length === 0) return b;
      if (b.table.length <= tableBudget) {
        tableBudget -= b.table.length;
        return b;
      }
      unsaved.push(`'${b.name}' (${b.table.length} entries)`);
      return { ...b, table: null };
    }),
  };
  if (unsaved.length) {
    const named = unsaved.slice(0, 3).join(', ') + (unsaved.length > 3 ? ` and ${unsaved.length - 3} more` : '');
    notes.push(`The tables of ${unsaved.length} bitmap${unsaved.length > 1 ? 's are' : ' is'} not saved: ${named}.`);
  }
  let refcounts: SavedRuns | null = null;
  if (c.storedRefcounts) {
    const runs = encodeRuns(c.storedRefcounts);
    if (encodedBytes(runs) <= MAX_SAVED_REFCOUNT_BYTES) refcounts = { entries: c.storedRefcounts.length, encoding: RLE_ENCODING, runs };
    else notes.push(`Stored refcounts are not saved: their runs would take ${encodedBytes(runs)} bytes.`);
  } else {
    notes.push('Stored refcounts are not saved (the analysis this was made from had none).');
  }
  const owners = c.owner && c.l2Tables && c.reftable && c.compressed
    ? encodeOwners({ clusterSize: c.clusterSize, owner: c.owner, l2Tables: c.l2Tables, reftable: c.reftable, compressed: c.compressed }, c.roles.length)
    : null;
  if (owners) notes.push(...owners.notes);
  const table = s.snapshotTable;
  const manySnapshots = table !== null && table.snapshots.length > MAX_SAVED_SNAPSHOTS;
  if (manySnapshots) notes.push(`Only the first ${MAX_SAVED_SNAPSHOTS} of the ${table.snapshots.length} snapshots are saved.`);
  const structures: SavedStructures = {
    ...s,
    bitmapDirectory: bitmaps,
    snapshotTable: manySnapshots ? { ...table, snapshots: table.snapshots.slice(0, MAX_SAVED_SNAPSHOTS) } : table,
  };
  const info = plainJson(a.info as unknown as QValue) as Record<string, Json>;
  if (Array.isArray(info.snapshots) && info.snapshots.length > MAX_SAVED_SNAPSHOTS) info.snapshots = info.snapshots.slice(0, MAX_SAVED_SNAPSHOTS);
  let space = a.space;
  if (space.bitmaps.length > MAX_SAVED_BITMAPS) space = { ...space, bitmaps: space.bitmaps.slice(0, MAX_SAVED_BITMAPS) };
  if (space.snapshots.length > MAX_SAVED_SNAPSHOTS) space = { ...space, snapshots: space.snapshots.slice(0, MAX_SAVED_SNAPSHOTS) };
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generator,
    file: a.fileName,
    fileSize: a.fileSize,
    notes,
    info,
    structures: structuresCodec.enc(structures),
    check: checkCodec.enc({
      qemuImgCheck: c.json, exitCode: c.exitCode, failure: c.failure, counts: c.counts, clusterSize: c.clusterSize,
      highestCluster: c.highestCluster, snapshotExclusiveClusters: Uint32Array.from(c.snapshotExclusiveClusters), mapTruncatedAt: c.mapTruncatedAt,
    }),
    roles: {
      entries: c.roles.length,
      encoding: RLE_ENCODING,
      runs: encodeRuns(c.roles),
      counts: roleCounts(c.roles, c.clusterSize, a.fileSize).filter((x) => x.clusters > 0)
        .map((x) => ({ role: x.key, label: x.label, clusters: x.clusters, bytes: x.bytes })),
    },
    storedRefcounts: refcounts && runsCodec.enc(refcounts),
    map: mapCodec.enc({ entries: Math.min(a.guestMap.length, MAX_SAVED_MAP_RANGES), encoding: MAP_ENCODING, ranges: encodeMap(a.guestMap.slice(0, MAX_SAVED_MAP_RANGES)), error: c.mapError }),
    space: C.space.enc(space),
    findings: findingsCodec.enc(a.findings.slice(0, MAX_FINDINGS)),
    findingTotals: totalsCodec.enc(a.findingTotals),
    ...(a.safety ? { safety: safetyCodec.enc(a.safety) } : {}),
    ...(owners ? { owners: ownersCodec.enc(owners.owners) } : {}),
    ...(a.freed ? freedCodec.enc(a.freed) : {}),
  };
}

/** True when `text` starts like a saved analysis (cheap: for telling one from an image). */
export function looksLikeReport(head: string): boolean {
  return /^\s*\{\s*"format"\s*:\s*"qcowscope-analysis"/.test(head);
}

function field<T>(doc: Record<string, unknown>, key: string, c: Codec<T>): T {
  if (!Object.prototype.hasOwnProperty.call(doc, key)) throw new ReportError('BAD_FIELD', key, 'missing');
  return c.dec(doc[key], key);
}

const inconsistent = (path: string, why: string): never => {
  throw new ReportError('INCONSISTENT', path, why);
};

function decodeArray<T extends Uint8Array | Uint16Array | Uint32Array>(r: SavedRuns, out: T, maxValue: number, path: string): T {
  if (r.encoding !== RLE_ENCODING) throw new ReportError('BAD_FIELD', `${path}.encoding`, `unknown encoding '${r.encoding}'`);
  return decodeRuns(r.runs, out, maxValue, `${path}.runs`);
}

/** Reads a saved analysis. Throws ReportError (never anything else) when it is not a valid one. */
export function parseReport(text: string): SavedAnalysis {
  if (text.length > MAX_REPORT_BYTES) throw new ReportError('NOT_JSON', '', `larger than ${MAX_REPORT_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReportError('NOT_JSON', '', e instanceof Error ? e.message : 'not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ReportError('NOT_A_REPORT', '', 'not a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.format !== REPORT_FORMAT) throw new ReportError('NOT_A_REPORT', 'format', `not a ${REPORT_FORMAT} document`);
  if (doc.version !== REPORT_VERSION) throw new ReportError('UNSUPPORTED_VERSION', 'version', `version ${String(doc.version)}; this build reads version ${REPORT_VERSION}`);
  try {
    return decode(doc);
  } catch (e) {
    if (e instanceof ReportError) throw e;
    // A codec bug or an engine function meeting a shape it never makes: still a typed error.
    throw new ReportError('INCONSISTENT', '', e instanceof Error ? e.message : String(e));
  }
}

function decode(doc: Record<string, unknown>): SavedAnalysis {
  const generator = field(doc, 'generator', str(256));
  const fileName = field(doc, 'file', str(4096));
  const fileSize = field(doc, 'fileSize', int());
  const notes = Object.prototype.hasOwnProperty.call(doc, 'notes') ? field(doc, 'notes', notesCodec) : [];
  const saved = field(doc, 'structures', structuresCodec);
  if (saved.fileSize !== fileSize) inconsistent('structures.fileSize', `${saved.fileSize}, but fileSize is ${fileSize}`);
  const check = field(doc, 'check', checkCodec);
  const cs = check.clusterSize;
  if ((cs & (cs - 1)) !== 0) inconsistent('check.clusterSize', `${cs} is not a power of two`);
  const rolesDoc = field(doc, 'roles', runsCodec);
  const clusters = Math.ceil(fileSize / cs);
  if (rolesDoc.entries !== 0 && rolesDoc.entries !== clusters) {
    inconsistent('roles.entries', `${rolesDoc.entries} roles for a file of ${clusters} clusters`);
  }
  const roles = decodeArray(rolesDoc, new Uint8Array(rolesDoc.entries), ROLE_COUNT - 1, 'roles');
  const refDoc = field(doc, 'storedRefcounts', nullable(runsCodec));
  if (refDoc && refDoc.entries > rolesDoc.entries + 1) inconsistent('storedRefcounts.entries', `${refDoc.entries} refcounts for ${rolesDoc.entries} clusters`);
  // The array type the engine would use for this image (16 bits up to refcount_bits 16).
  const refs = refDoc && (refDoc.entries === 0 ? new Uint32Array(0) : refcountArray(saved.header.refcountOrder, refDoc.entries));
  const storedRefcounts = refDoc && refs ? decodeArray(refDoc, refs, refs instanceof Uint16Array ? 0xffff : 0xffff_ffff, 'storedRefcounts') : new Uint32Array(0);
  const map = field(doc, 'map', mapCodec);
  if (map.encoding !== MAP_ENCODING) throw new ReportError('BAD_FIELD', 'map.encoding', `unknown encoding '${map.encoding}'`);
  const guestMap = decodeMap(map.ranges, MAX_SAVED_MAP_RANGES, 'map.ranges');
  if (guestMap.length !== map.entries) inconsistent('map.entries', `${map.entries}, but the data holds ${guestMap.length} ranges`);
  const space = field(doc, 'space', C.space);
  if (space.fileSize !== fileSize) inconsistent('space.fileSize', `${space.fileSize}, but fileSize is ${fileSize}`);
  const findings = field(doc, 'findings', findingsCodec);
  const findingTotals = field(doc, 'findingTotals', totalsCodec);
  const safety = Object.prototype.hasOwnProperty.call(doc, 'safety') ? field(doc, 'safety', safetyCodec) : null;
  const freed = freedRuns(doc, fileSize);

  const structures: Structures = { ...saved, l1: new BigUint64Array(0), snapshotL1: [] };
  // Owners are optional (documents written before them have none): absent, clusters have no owner.
  const noOwners = {
    owner: NO_OWNERS, l2Tables: new Map(), reftable: EMPTY_REFTABLE,
    compressed: { n: 0, host: new Float64Array(0), length: new Uint32Array(0), guest: new Float64Array(0) },
  };
  const ownerParts = Object.prototype.hasOwnProperty.call(doc, 'owners') ? decodeOwners(field(doc, 'owners', ownersCodec), clusters, cs, noOwners) : noOwners;
  const checkResult: SavedAnalysis['analysis']['check'] = {
    json: check.qemuImgCheck && (qdictOrder(check.qemuImgCheck as unknown as QValue) as unknown as QemuCheckJson),
    exitCode: check.exitCode as CheckResult['exitCode'],
    failure: check.failure,
    counts: check.counts,
    clusterSize: cs,
    highestCluster: check.highestCluster,
    roles,
    storedRefcounts,
    ...ownerParts,
    snapshotExclusiveClusters: Array.from(check.snapshotExclusiveClusters),
    guestMap,
    mapError: map.error,
    mapTruncatedAt: check.mapTruncatedAt,
  };
  const analysis: SavedAnalysis['analysis'] = {
    fileName,
    fileSize,
    structures,
    info: qemuInfo(structures),
    check: checkResult,
    guestMap: checkResult.guestMap,
    space,
    findings,
    findingTotals,
    qemuRefuses: findings.filter((x) => x.code === 'QEMU_REFUSES'),
    ...(safety ? { safety } : {}),
    ...(freed ? { freed } : {}),
  };
  const stage: HeaderStage = {
    fileSize, header: saved.header, cluster0: new Uint8Array(0), extensions: saved.extensions, backingFile: saved.backingFile, luks: saved.luks, foreign: null,
  };
  return { generator, stage, analysis, refcountsSaved: refDoc !== null, notes };
}

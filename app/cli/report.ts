// `qcowscope report [--output=json] FILE`: the whole analysis as one JSON document — structures,
// the role of every host cluster (counts per role and run-length runs), qemu-img check and map
// results, space accounting, bitmaps and every finding. 64-bit values are strings; raw byte
// fields are hex; the large per-cluster arrays are summarised, never dumped.

import type { Analysis } from '../format/analyze';
import { roleCounts, roleRuns } from '../format/layout';
import { ROLE_INFO } from '../format/roles';
import type { CommandContext } from './main';
import { ImageFiles } from './map';

/** Entries kept from any one table (L1, bitmap table) in the report. */
const MAX_TABLE_ENTRIES = 1 << 20;

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Converts analysis values to plain JSON: bigint → decimal string, bytes → hex, tables → hex strings. */
export function plain(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return toHex(v);
  if (v instanceof BigUint64Array) {
    const out: Json[] = [];
    for (let i = 0; i < Math.min(v.length, MAX_TABLE_ENTRIES); i++) out.push('0x' + v[i]!.toString(16));
    return out;
  }
  if (ArrayBuffer.isView(v)) return `(${(v as unknown as { length: number }).length} values, omitted)`;
  if (v instanceof Map) return [...v.values()].map(plain);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) o[k] = plain(x);
    return o;
  }
  return String(v);
}

/** The report document for one analysis. */
export function analysisReport(a: Analysis): Json {
  const c = a.check;
  const key = (r: number) => ROLE_INFO[r]?.key ?? String(r);
  return {
    file: a.fileName,
    fileSize: a.fileSize,
    info: plain(a.info),
    structures: plain(a.structures),
    check: {
      qemuImgCheck: plain(c.json),
      exitCode: c.exitCode,
      failure: c.failure,
      counts: plain(c.counts),
      clusterSize: c.clusterSize,
      highestCluster: c.highestCluster,
      snapshotExclusiveClusters: plain(c.snapshotExclusiveClusters),
    },
    roles: {
      clusters: c.roles.length,
      counts: roleCounts(c.roles, c.clusterSize, a.fileSize).filter((x) => x.clusters > 0).map((x) => ({ role: x.key, label: x.label, clusters: x.clusters, bytes: x.bytes })),
      runs: roleRuns(c.roles).map(([r, start, count]) => [key(r), start, count]),
    },
    map: { ranges: plain(a.guestMap), error: c.mapError },
    space: plain(a.space),
    bitmaps: plain(a.space.bitmaps),
    qemuRefuses: a.qemuRefuses.map((f) => f.message),
    findings: plain(a.findings),
    findingTotals: plain(a.findingTotals),
  };
}

export async function runReport(ctx: CommandContext): Promise<number> {
  const files = await ImageFiles.open(ctx.file);
  try {
    const a = await files.analyze();
    ctx.out(JSON.stringify(analysisReport(a), null, ctx.output === 'json' ? 2 : 1) + '\n');
    return 0;
  } finally {
    await files.close();
  }
}

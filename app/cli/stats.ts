// `qcowscope stats FILE`: runs the full analysis and prints what `npm run bench` measures — wall
// time, peak memory, bytes and reads issued against the metadata bytes of the image — as JSON.

import { analyze, Role } from '../format';
import { NodeFileSource } from '../format/node';
import type { CommandContext } from './main';

/** Roles whose clusters the engine must read: everything but guest data, free space and the tail. */
const METADATA_ROLES: readonly number[] = [
  Role.HEADER, Role.L1_ACTIVE, Role.L1_SNAPSHOT, Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED,
  Role.REFCOUNT_TABLE, Role.REFCOUNT_BLOCK, Role.SNAPSHOT_TABLE, Role.BITMAP_DIRECTORY, Role.BITMAP_TABLE,
  Role.BITMAP_DATA, Role.LUKS_HEADER,
];
/** 1 for a metadata role, by role byte (a table: this runs once per host cluster). */
const IS_METADATA = new Uint8Array(256);
for (const r of METADATA_ROLES) IS_METADATA[r] = 1;

export async function runStats(ctx: CommandContext): Promise<number> {
  const t0 = performance.now();
  const src = await NodeFileSource.open(ctx.file);
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 10);
  try {
    // Sampled by the timer and at each stage (not at every progress event: rss() reads /proc).
    const a = await analyze(src, { onEvent: (e) => e.kind !== 'progress' && sample() });
    sample();
    const roles = a.check.roles;
    let metadataClusters = 0;
    for (let i = 0; i < roles.length; i++) metadataClusters += IS_METADATA[roles[i]!]!;
    const cs = a.structures.header.clusterSize;
    const lastCluster = Math.floor((a.fileSize - 1) / cs);
    // The last cluster may be partial: count the bytes really there.
    const partial = lastCluster >= 0 && IS_METADATA[roles[lastCluster] ?? 0] ? (lastCluster + 1) * cs - a.fileSize : 0;
    ctx.out(JSON.stringify({
      file: ctx.file,
      seconds: (performance.now() - t0) / 1000,
      peakMiB: peak / 2 ** 20,
      hostClusters: roles.length,
      clusterSize: cs,
      metadataBytes: metadataClusters * cs - partial,
      bytesRead: src.bytesRead,
      reads: src.reads,
      exitCode: a.check.exitCode,
    }));
    return 0;
  } finally {
    clearInterval(timer);
    await src.close();
  }
}

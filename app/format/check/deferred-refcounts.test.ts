// check_oflag_copied for data clusters past the end of the file whose refcount block is in it: the
// L2 scan defers them until that block is read (StoredRefcounts.ensure), in the middle of reading
// the L2 tables. Checked against the live qemu-img through both ways readRanges reads: a Node file
// (synchronous reads, the CLI's path) and a byte array (promises).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheck } from './check';
import { BytesSource, Findings, loadHeaderStage, loadStructures, type ByteSource } from '../qcow2';
import { NodeFileSource } from '../qcow2/source-node';
import { qemuCheckJsonText } from '../qemu-img';
import { COPIED, craftImage } from '../../test-support/craft-image';
import { hasQemuImg, qemuCheck } from '../../test-support/qemu-tools';

const CS = 65536;
/** 16-bit refcounts, 64 KiB clusters: a refcount block covers 32768 clusters (2 GiB). */
const PER_BLOCK = 32768;

/**
 * Two L2 tables; each maps one cluster in the file and one 2 GiB past its end, which the second
 * refcount block (extra cluster 2, in the file) covers with refcount 2 (the first table's: an
 * OFLAG_COPIED error known only once that block is read) or 1.
 */
function pastEndWithBlock() {
  return craftImage({
    clusterBits: 16, refcountOrder: 4, l1Entries: 2, extraClusters: 5,
    fill: (dv, l1, cluster) => {
      dv.setBigUint64(CS + 8, BigInt(cluster(2)));
      dv.setBigUint64(l1, COPIED | BigInt(cluster(0)));
      dv.setBigUint64(l1 + 8, COPIED | BigInt(cluster(1)));
      dv.setBigUint64(cluster(0), COPIED | BigInt(cluster(3)));
      dv.setBigUint64(cluster(0) + 8, COPIED | BigInt((PER_BLOCK + 5) * CS));
      dv.setBigUint64(cluster(1), COPIED | BigInt(cluster(4)));
      dv.setBigUint64(cluster(1) + 8, COPIED | BigInt((PER_BLOCK + 9) * CS));
      dv.setUint16(cluster(2) + 2 * 5, 2);
      dv.setUint16(cluster(2) + 2 * 9, 1);
      // The second table's cluster in the file has refcount 2 too: its error must come after the
      // first table's deferred one, as in QEMU (which checks table by table).
      dv.setUint16(2 * CS + 2 * (cluster(4) / CS), 2);
    },
  });
}

async function check(src: ByteSource) {
  const f = new Findings();
  const c = await runCheck(src, await loadStructures(src, await loadHeaderStage(src, f), f), f);
  return { c, f };
}

describe.runIf(hasQemuImg())('refcounts of clusters past the end, read during the L2 scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-deferred-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('match the live qemu-img, read from a Node file and from bytes alike', async () => {
    const img = pastEndWithBlock();
    const file = 'past-end.qcow2';
    writeFileSync(join(dir, file), img.bytes);
    const q = qemuCheck(dir, file);
    const oflag = q.stderr.split('\n').filter((l) => l.startsWith('ERROR OFLAG_COPIED data cluster'));
    // qemu-img reads refcount 2 from the block for the first table's cluster past the end.
    expect(oflag).toEqual([
      `ERROR OFLAG_COPIED data cluster: l2_entry=${(COPIED | BigInt((PER_BLOCK + 5) * CS)).toString(16)} refcount=2`,
      `ERROR OFLAG_COPIED data cluster: l2_entry=${(COPIED | BigInt(img.firstExtra + 4 * CS)).toString(16)} refcount=2`,
    ]);
    const node = await NodeFileSource.open(join(dir, file));
    try {
      for (const src of [node, new BytesSource(img.bytes, file)]) {
        const { c, f } = await check(src);
        expect(qemuCheckJsonText(c.json!)).toBe(q.stdout);
        expect(c.exitCode).toBe(q.rc);
        const ours = f.list.filter((x) => x.code === 'OFLAG_COPIED').map((x) => x.message.split(' — ')[0]);
        expect(ours).toEqual(oflag);
      }
    } finally {
      await node.close();
    }
  });
});

// Live differential test against qemu-img 7.2 and 10.0 (test-support/qemu-bins.ts), each where it
// is installed: images the qemu-img / qemu-io on PATH make from fixed
// seeds (app/test-support/random-images.ts, kind `allocation`), every other one damaged afterwards; our check JSON, exit code and
// per-cluster lines, and our map JSON (as that version prints it) must equal qemu-img's. The seeds are chosen to cover, between
// them: 512 B to 2 MiB clusters, refcount widths 1 to 64, v2, extended L2, raw and qcow2 backing
// files, compression, snapshots, bitmaps, dirty lazy-refcount images, and damage (unaligned and
// reserved-bit entries, refcount blocks unaligned or zeroed, shared and overlapping tables,
// entries past the end of the file, subcluster bitmaps QEMU rejects).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuCheckJsonText } from './check-json';
import { guestMapJson } from './map-json';
import { analyzePath } from '../../test-support/analyze-sample';
import { hasQemuImg, qemuCheck, qemuMap } from '../../test-support/qemu-tools';
import { makeRandomImage } from '../../test-support/random-images';
import { QEMU_BINS } from '../../test-support/qemu-bins';

const SEEDS = [1, 2, 3, 5, 6, 7, 11, 12, 19, 22, 26, 44];

for (const q of QEMU_BINS) describe.runIf(hasQemuImg() && q.available)(`random images against the live qemu-img ${q.version}`, () => {
  const dir = mkdtempSync(join(tmpdir(), `qcowscope-diff-${q.version}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(SEEDS)('seed %i', async (seed) => {
    const img = makeRandomImage(dir, seed, { kind: 'allocation', damage: seed % 2 === 0 });
    const what = `${img.describe}${img.damage.length ? ` | damaged: ${img.damage.join(', ')}` : ''}`;
    const a = await analyzePath(img.path);
    const qc = qemuCheck(dir, img.name, q.qemuImg);
    const qm = qemuMap(dir, img.name, q.qemuImg);
    expect(a.check.json ? qemuCheckJsonText(a.check.json) : '', what).toBe(qc.stdout);
    expect(a.check.exitCode, what).toBe(qc.rc);
    if (a.qemuRefuses.length > 0) {
      expect(qm.rc, what).toBe(1);
      return;
    }
    const ours = a.findings.map((f) => f.message);
    for (const line of qc.stderr.split('\n').filter((l) => /^(ERROR|Leaked|Can't get refcount)/.test(l)).slice(0, 500)) {
      expect(ours.some((m) => m.startsWith(line)), `${line} — ${what}`).toBe(true);
    }
    expect(guestMapJson({ ranges: a.guestMap, error: a.check.mapError }, q.version), what).toBe(qm.stdout);
    expect(a.check.mapError === null, what).toBe(qm.rc === 0);
  });
});

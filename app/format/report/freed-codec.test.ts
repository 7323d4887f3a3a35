// The freed runs survive the saved analysis: written by buildReport, read back by parseReport
// equal, listed again in the Markdown report of the saved document; a run past the end is refused.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePath } from '../../test-support/analyze-sample';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';
import { buildReport, parseReport } from './saved-analysis';
import { reportMarkdown } from './markdown';

describe.runIf(hasQemuImg())('freed runs in the saved analysis', () => {
  it('round trip, and the report of the saved document lists them', async () => {
    await withTmpDir(async (dir) => {
      const p = join(dir, 'f.qcow2');
      mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', p, '64M'], { cwd: dir });
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 1M', p], { cwd: dir });
      mustRun('qemu-img', ['bitmap', '--add', p, 'big'], { cwd: dir });
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 2 8M 1M', p], { cwd: dir });
      mustRun('qemu-img', ['bitmap', '--remove', p, 'big'], { cwd: dir });
      const a = await analyzePath(p);
      expect(a.freed!.runs.length).toBeGreaterThan(0);
      expect(a.freed!.runs.some((r) => r.freedBy === "table of removed bitmap 'big'")).toBe(true);
      const doc = JSON.parse(JSON.stringify(buildReport(a, 'test'))) as Record<string, unknown>;
      expect(doc.freed).toEqual(a.freed!.runs);
      const back = parseReport(JSON.stringify(doc));
      expect(back.analysis.freed).toEqual(a.freed);
      const md = reportMarkdown(back.analysis, 'a saved analysis');
      expect(md).toContain('### Free clusters and what they held');
      expect(md).toContain("table of removed bitmap 'big'");
      const bad = { ...doc, freed: [{ ...a.freed!.runs[0]!, offset: a.fileSize }] };
      expect(() => parseReport(JSON.stringify(bad))).toThrow(/freed\[0\]/);
    });
  });
});

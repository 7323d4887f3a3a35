// The safety verdict on one crafted image per reason and note (test-support/safety-cases.ts),
// made by the live qemu-img: verdict, reason codes, names, and that every reason says its
// consequence and remedy. Plus the sample images, and the CLI's JSON lines and exit codes.

import { describe, expect, it } from 'vitest';
import { fileSafety } from './file-node';
import { withTmpDir } from '../../test-support/random-images';
import { hasQemuImg } from '../../test-support/qemu-tools';
import { SAFETY_CASES } from '../../test-support/safety-cases';

describe.runIf(hasQemuImg())('safety verdict on crafted images', () => {
  for (const c of SAFETY_CASES) {
    it(c.name, async () => {
      await withTmpDir(async (dir) => {
        const s = await fileSafety(c.make(dir));
        const codes = s.reasons.map((r) => r.code);
        expect(s.verdict, JSON.stringify(s.reasons, null, 1)).toBe(c.verdict);
        if (c.exact) expect(codes).toEqual(c.codes);
        else expect(codes).toEqual(expect.arrayContaining([...c.codes]));
        expect(s.reasons.length === 0).toBe(c.verdict === 'safe');
        for (const r of s.reasons) {
          expect(r.message.length).toBeGreaterThan(10);
          expect(r.consequence).toMatch(/\.$/);
          expect(r.remedy.length).toBeGreaterThan(10);
        }
        if (c.named) expect(s.reasons.some((r) => r.name === c.named)).toBe(true);
        for (const n of c.notes ?? []) expect(s.notes.map((x) => x.code)).toContain(n);
      });
    }, 60_000);
  }
});

// Refusal parity with the live qemu-img 7.2 on damaged images: every sample cut short (at cluster
// boundaries, 8 bytes past them, inside each structure) and changed one field at a time. For each
// case `qemu-img info` / `qemu-img check` (--output=json) and our `info` / `check` (JSON and
// human, run in-process) must give the same exit code, the same JSON on stdout and the same first
// line on stderr. PARITY_CASES=N sets the cases per sample and kind (default 6; fixed seed);
// PARITY_ONLY=NAME runs one sample.

import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemuImg } from '../test-support/qemu-tools';
import { SAMPLES, listSamples, samplePath } from '../test-support/samples';
import { cutCases, fieldCases, type DamageCase } from './parity-cases';
import { compareWithQemuImg as compare } from './parity-compare';

const PER_KIND = Number(process.env.PARITY_CASES ?? 6);
const SEED = 0x13;

describe.runIf(hasQemuImg())('refusal parity with qemu-img on damaged samples (live)', () => {
  let dir = '';
  const ran = { cases: 0, disagreements: 0 };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qcowscope-parity-'));
    // Backing files and external data files, found by the names the samples record.
    for (const f of readdirSync(SAMPLES)) if (!f.endsWith('.gz')) symlinkSync(join(SAMPLES, f), join(dir, f));
    const only = process.env.PARITY_ONLY;
  for (const name of listSamples().filter((n) => !only || n === only)) {
      try {
        symlinkSync(samplePath(name), join(dir, `${name}.qcow2`));
      } catch {
        // already linked from sample-images/
      }
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    console.log(`refusal parity: ${ran.cases} damaged images compared with qemu-img (${PER_KIND} per sample and kind), ${ran.disagreements} disagreements`);
  });

  const run = async (name: string, cases: DamageCase[]) => {
    const file = join(dir, `parity-${name}.qcow2`);
    const bad: string[] = [];
    for (const c of cases) {
      writeFileSync(file, c.bytes);
      const d = await compare(file);
      ran.cases++;
      if (d) {
        ran.disagreements++;
        bad.push(`${name}, ${c.name}:\n${d}`);
      }
    }
    expect(bad.join('\n\n')).toBe('');
  };

  const only = process.env.PARITY_ONLY;
  for (const name of listSamples().filter((n) => !only || n === only)) {
    it(`${name}: cut short`, async () => {
      const image = new Uint8Array(readFileSync(samplePath(name)));
      await run(name, cutCases(image, PER_KIND, SEED));
    }, 600_000);
    it(`${name}: one field changed`, async () => {
      const image = new Uint8Array(readFileSync(samplePath(name)));
      await run(name, fieldCases(image, PER_KIND, SEED));
    }, 600_000);
  }
});

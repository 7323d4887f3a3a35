// The roles announced before the analysis ends (AnalysisEvent 'roles', CheckOptions.onRoles) are
// the result's roles: announced once, before the findings (so before the freed-cluster
// classification and the safety check), as the very array check.roles returns, and byte for byte
// what it holds at the end. The page draws the owners' map from a copy taken at that moment, so any
// write to the roles after it (a leak, an orphaned or cut cluster settled later) would show as a
// map that changes. Checked on every sample and on images made by qemu-img whose roles the check's
// last passes change (leaks, orphaned clusters, a last cluster cut by the end of the file).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis, AnalysisEvent } from '../analyze';
import { analyzePath } from '../../test-support/analyze-sample';
import { hasQemuImg } from '../../test-support/qemu-tools';
import { SAMPLES, listSamples, samplePath } from '../../test-support/samples';
import { makeVerdictImages, type VerdictImages } from '../../test-support/verdict-images';
import { Role } from './roles';

interface Seen {
  readonly a: Analysis;
  /** Copies of the roles at each 'roles' event, with the array itself. */
  readonly announced: { readonly copy: Uint8Array; readonly array: Uint8Array }[];
  /** Event kinds in order. */
  readonly kinds: AnalysisEvent['kind'][];
}

async function watch(path: string, alsoIn?: string): Promise<Seen> {
  const announced: Seen['announced'][number][] = [];
  const kinds: AnalysisEvent['kind'][] = [];
  const a = await analyzePath(path, alsoIn, (e) => {
    kinds.push(e.kind);
    if (e.kind === 'roles') announced.push({ copy: e.roles.slice(), array: e.roles });
  });
  return { a, announced, kinds };
}

function expectFinalEarly({ a, announced, kinds }: Seen): void {
  expect(announced).toHaveLength(1);
  const [{ copy, array }] = announced as [Seen['announced'][number]];
  expect(array).toBe(a.check.roles);
  expect(copy.length).toBe(a.check.roles.length);
  // Byte for byte (a per-element diff of 16 M entries would be unreadable): the first difference.
  const first = copy.findIndex((r, k) => r !== a.check.roles[k]);
  expect(first, `role of cluster ${first} changed after it was announced`).toBe(-1);
  expect(kinds.indexOf('roles')).toBeLessThan(kinds.indexOf('findings'));
  // After the early map's summary (when there is one): the roles come with the check's end.
  expect(kinds.indexOf('roles')).toBeGreaterThan(kinds.indexOf('usage'));
}

const count = (roles: Uint8Array, role: number): number => roles.reduce((n, r) => n + (r === role ? 1 : 0), 0);

describe('the roles announced early are the final roles', () => {
  it.each(listSamples())('%s', async (name) => {
    const seen = await watch(samplePath(name), SAMPLES);
    if (seen.a.check.roles.length === 0) {
      // The check failed before any role was settled: nothing is announced (the result carries them).
      expect(seen.announced).toHaveLength(0);
      return;
    }
    expectFinalEarly(seen);
  });

  it('covers roles settled in the refcount compare (the leak sample has leaked clusters)', async () => {
    const seen = await watch(samplePath('leak'), SAMPLES);
    expect(count(seen.a.check.roles, Role.LEAKED)).toBeGreaterThan(0);
    expectFinalEarly(seen);
  });
});

describe.runIf(hasQemuImg())('on images qemu-img made and a script cut or patched', () => {
  let dir = '';
  let img: VerdictImages;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qcowscope-final-roles-'));
    img = makeVerdictImages(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['inBitmapDirectory', [Role.ORPHANED, Role.PAST_END]],
    ['inL2', [Role.PAST_END]],
    ['half', []],
    ['atCluster', []],
    ['leaked', [Role.LEAKED]],
    ['overcounted', [Role.OVERCOUNTED]],
    ['bothLeaks', [Role.LEAKED, Role.OVERCOUNTED]],
    ['dirty', []],
    ['full', []],
  ] as const)('%s', async (which, settledLate) => {
    const seen = await watch(img[which]);
    for (const role of settledLate) expect(count(seen.a.check.roles, role), `role ${role}`).toBeGreaterThan(0);
    if (settledLate.includes(Role.PAST_END as never)) expect(seen.a.check.roles.at(-1)).toBe(Role.PAST_END);
    expectFinalEarly(seen);
  });
});

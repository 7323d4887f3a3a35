// The verdict on images people really bring, made by qemu-img/qemu-io and cut or patched by script
// (test-support/verdict-images.ts), each checked against the live qemu-img: cut short at several
// points, dirty after a crash, bitmaps left in use, a missing backing file, leaks of both kinds,
// and the seed's zero-offset empty bitmap.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzePath, analyzeSample } from '../../test-support/analyze-sample';
import { hasQemuImg } from '../../test-support/qemu-tools';
import { listSamples, samplePath } from '../../test-support/samples';
import { patchFile } from '../../test-support/craft';
import { makeVerdictImages, type VerdictImages } from '../../test-support/verdict-images';
import { Role, ROLE_INFO } from '../check/roles';
import { describeCluster } from '../check/cluster-roles';
import { sizeText } from '../check/truncation';
import { entryPastEnd } from '../qcow2/zero-fill';
import { reportMarkdown } from './markdown';
import { buildReport, parseReport } from './saved-analysis';
import { analysisVerdict } from './verdict';

const hasTool = hasQemuImg();

function qemuCheck(path: string): { rc: number; json: { leaks?: number; corruptions?: number } | null; stderr: string } {
  const r = spawnSync('qemu-img', ['check', '--output=json', '-U', path], { encoding: 'utf8' });
  let json = null;
  try {
    json = JSON.parse(r.stdout) as { leaks?: number; corruptions?: number };
  } catch {
    json = null;
  }
  return { rc: r.status ?? -1, json, stderr: r.stderr };
}

const rolesOf = (roles: Uint8Array, role: number) => roles.reduce((n, r) => n + (r === role ? 1 : 0), 0);

describe.runIf(hasTool)('the verdict on images made by qemu-img and qemu-io', () => {
  let dir = '';
  let img: VerdictImages;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qcowscope-verdict-'));
    img = makeVerdictImages(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the whole image (data, snapshots, bitmaps) is clean, as qemu-img check says', async () => {
    const a = await analyzePath(img.full);
    expect(qemuCheck(img.full).rc).toBe(0);
    expect(analysisVerdict(a)).toEqual({ kind: 'clean', severity: 'ok', text: 'clean', more: [] });
    expect(a.structures.bitmapDirectory?.bitmaps.map((b) => b.name)).toEqual(['daily', 'weekly', 'monthly', 'yearly']);
  });

  const cuts: [keyof VerdictImages, RegExp][] = [
    ['half', /data clusters? lie/],
    ['inBitmapDirectory', /the bitmap directory/],
    ['inL2', /\b1 L2 table\b/],
    ['atCluster', /data clusters? lie/],
    ['inExtensions', /the header extensions/],
  ];
  it.each(cuts)('cut short (%s): ONE finding, the verdict leads with it, zeros are not bitmaps or snapshots', async (which, names) => {
    const path = img[which];
    const a = await analyzePath(path);
    const v = analysisVerdict(a);
    expect(v.kind).toBe('truncated');
    expect(v.severity).toBe('error');
    expect(v.text.startsWith(`Truncated at ${sizeText(a.fileSize)}: `)).toBe(true);
    expect(v.text).toMatch(names);
    expect(v.text).toMatch(/past the end/);
    expect(a.findingTotals['FILE_TRUNCATED']).toBe(1);
    // qemu-img agrees the file is damaged: it refuses it or counts corruptions / check errors.
    expect(qemuCheck(path).rc).not.toBe(0);
    // No cluster is called leaked while the tables that could reference it are missing.
    expect(rolesOf(a.check.roles, Role.LEAKED)).toBe(0);
    const md = reportMarkdown(a);
    expect(md).toContain(`**Verdict:** ${v.text.replace(/_/g, '\\_')}`);
    const bitmaps = a.structures.bitmapDirectory?.bitmaps ?? [];
    const real = bitmaps.filter((b) => !entryPastEnd(b, a.fileSize));
    const section = /### Bitmaps\n\n([^#]*)/.exec(md)?.[1] ?? '';
    expect(section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| name')).length).toBe(real.length);
    if ((a.structures.bitmapDirectory?.bitmaps ?? []).some((b) => entryPastEnd(b, a.fileSize))) {
      expect(md).toMatch(/bitmap directory entr(y|ies) lie/);
      expect(md).not.toContain('zero-offset empty');
    }
  });

  it('cut inside the bitmap directory: bitmap clusters it no longer reaches have an unknown owner, not "leaked"', async () => {
    const a = await analyzePath(img.inBitmapDirectory);
    const q = qemuCheck(img.inBitmapDirectory);
    expect(q.rc).toBe(1); // QEMU refuses it: the zeros past the end are no valid bitmap
    expect(rolesOf(a.check.roles, Role.ORPHANED)).toBeGreaterThan(0);
    expect(a.space.categories.find((c) => c.key === 'orphaned')!.clusters).toBe(rolesOf(a.check.roles, Role.ORPHANED));
    expect(a.check.roles[a.check.roles.length - 1]).toBe(Role.PAST_END);
    const v = analysisVerdict(a);
    expect(v.more.join('\n')).toMatch(/tables that may reference them lie past the end of the file/);
    expect(v.more.join('\n')).not.toMatch(/a repair frees them/);
  });

  it.each(['inBitmapDirectory', 'inL2', 'dirty', 'bothLeaks', 'bitmapInUse'] as const)('a saved analysis of %s keeps its roles (new ones too) and its verdict', async (which) => {
    const a = await analyzePath(img[which]);
    const saved = parseReport(JSON.stringify(buildReport(a, 'qcowscope test'))).analysis;
    expect(Buffer.from(saved.check.roles).equals(Buffer.from(a.check.roles))).toBe(true);
    expect(analysisVerdict(saved)).toEqual(analysisVerdict(a));
  });

  it.each([
    ['the active L1 table', 40],
    ['the refcount table', 48],
  ] as const)('%s pointed 1 TiB past the end is damage, not a cut file', async (_what, field) => {
    const copy = join(dir, `wild-${field}.qcow2`);
    copyFileSync(img.full, copy);
    patchFile(copy, (b) => {
      b.writeBigUInt64BE(1n << 40n, field);
    });
    const a = await analyzePath(copy);
    expect(a.findingTotals['FILE_TRUNCATED'] ?? 0).toBe(0);
    expect(analysisVerdict(a).kind).not.toBe('truncated');
    expect(qemuCheck(copy).rc).not.toBe(0);
  });

  it('cut inside an L2 table: that table is the cut cluster; its data past the end is counted', async () => {
    const a = await analyzePath(img.inL2);
    expect(a.check.roles[a.check.roles.length - 1]).toBe(Role.PAST_END);
    const pastEof = a.findingTotals['PAST_EOF'] ?? 0;
    expect(pastEof).toBeGreaterThan(0);
    expect(analysisVerdict(a).more).toContain(`qemu-img check counts ${a.check.counts.corruptions.toLocaleString('en-US')} corruptions (references past the end of the file: ${pastEof.toLocaleString('en-US')})`);
  });

  it('a lazy-refcounts image left dirty: the mismatches are expected, amber', async () => {
    const a = await analyzePath(img.dirty);
    const q = qemuCheck(img.dirty);
    expect(q.rc).toBe(2);
    const v = analysisVerdict(a);
    expect(v.kind).toBe('dirty');
    expect(v.severity).toBe('warning');
    expect(v.text).toContain(`qemu-img check's ${q.json!.corruptions} errors are refcounts not written yet`);
    expect(v.text).toContain('QEMU repairs them on its next read-write open');
  });

  it("a dirty image's clusters whose refcounts were not written keep their owners: no damage on the map", async () => {
    // The clusters qemu-img check names with a refcount below their references.
    const low = (path: string) => {
      const r = spawnSync('qemu-img', ['check', '-U', path], { encoding: 'utf8' });
      return [...`${r.stdout}${r.stderr}`.matchAll(/ERROR cluster (\d+) refcount=(\d+) reference=(\d+)/g)].filter((m) => Number(m[2]) < Number(m[3])).map((m) => Number(m[1]));
    };
    const a = await analyzePath(img.dirty);
    const behind = low(img.dirty);
    expect(behind.length).toBeGreaterThan(0);
    for (const k of behind) expect(ROLE_INFO[a.check.roles[k]!]!.damage, `cluster ${k}: ${ROLE_INFO[a.check.roles[k]!]!.label}`).toBe(false);
    // The guest data qemu-io wrote before it was killed is guest data.
    expect(behind.filter((k) => a.check.roles[k] === Role.DATA).length).toBeGreaterThan(0);
    // The inspector says why its refcount is 0.
    const zero = behind.find((k) => a.check.storedRefcounts[k] === 0)!;
    expect(describeCluster(a, zero)).toMatch(/refcount 0 \(not written yet: lazy refcounts, dirty bit set\) — data of guest offset/);
    expect(rolesOf(a.check.roles, Role.CORRUPT)).toBe(0);
    expect(a.space.categories.find((c) => c.key === 'damaged')?.clusters ?? 0).toBe(0);
    // The same image with its dirty bit cleared: nothing explains those refcounts, they are damage.
    const clean = join(dir, 'dirty-bit-cleared.qcow2');
    copyFileSync(img.dirty, clean);
    patchFile(clean, (b) => void b.writeUInt32BE(b.readUInt32BE(76) & ~1, 76));
    const b = await analyzePath(clean);
    expect(low(clean)).toEqual(behind);
    for (const k of behind) expect(b.check.roles[k], `cluster ${k}`).toBe(Role.CORRUPT);
    expect(describeCluster(b, zero)).not.toMatch(/not written yet/);
    expect(analysisVerdict(b).kind).toBe('corrupt');
  });

  it('a dirty image cut inside a data cluster whose refcount was never written: truncated', async () => {
    // Nothing in the refcounts says the file was longer (the crash left them unwritten); the data
    // cluster the end of the file cuts through does.
    const map = JSON.parse(spawnSync('qemu-img', ['map', '--output=json', '-U', img.dirty], { encoding: 'utf8' }).stdout) as { offset?: number; length: number; data: boolean }[];
    const end = map.filter((r) => r.data && r.offset !== undefined).reduce((m, r) => Math.max(m, r.offset! + r.length), 0);
    const cut = join(dir, 'dirty-cut-in-data.qcow2');
    copyFileSync(img.dirty, cut);
    truncateSync(cut, end - 32768);
    const a = await analyzePath(cut);
    const k = a.check.roles.length - 1;
    expect(a.check.storedRefcounts[k]).toBe(0);
    const v = analysisVerdict(a);
    expect(v.kind).toBe('truncated');
    expect(v.text).toMatch(/^Truncated at .*\d+ data clusters? lies? past the end/);
    expect(a.check.roles[k]).toBe(Role.PAST_END);
    // qemu-img check on the cut file agrees that it is not clean.
    expect(qemuCheck(cut).rc).not.toBe(0);
  });

  it('extended L2: a file may end inside a cluster, but not inside an allocated subcluster', async () => {
    const ext = join(dir, 'ext-2m.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=2M,extended_l2=on', ext, '1G']).status).toBe(0);
    expect(spawnSync('qemu-io', ['-c', 'write -P 1 0 100k', '-c', 'write -P 2 5M 64k', ext]).status).toBe(0);
    const size = statSync(ext).size;
    expect(size % (2 << 20)).not.toBe(0);
    expect(analysisVerdict(await analyzePath(ext)).kind).toBe('clean');
    const cut = join(dir, 'ext-2m-cut.qcow2');
    copyFileSync(ext, cut);
    truncateSync(cut, size - 20000);
    expect(qemuCheck(cut).rc).toBe(0);
    const v = analysisVerdict(await analyzePath(cut));
    expect(v.kind).toBe('truncated');
    expect(v.text).toMatch(/^Truncated at .*1 data cluster lies past the end/);
  });

  it('a bitmap left in use by a crash: named, stale, amber', async () => {
    const a = await analyzePath(img.bitmapInUse);
    const info = spawnSync('qemu-img', ['info', '--output=json', '-U', img.bitmapInUse], { encoding: 'utf8' });
    expect(info.stdout).toContain('"in-use"');
    const v = analysisVerdict(a);
    expect(v).toMatchObject({ kind: 'bitmaps-in-use', severity: 'warning' });
    expect(v.text).toBe("Bitmap 'backup-0' was not saved cleanly: its contents are stale and QEMU will refuse to use it until it is removed");
  });

  it('an overlay whose backing file is gone: amber, not a green "clean"', async () => {
    const a = await analyzePath(img.missingBacking);
    expect(qemuCheck(img.missingBacking).rc).not.toBe(0);
    const v = analysisVerdict(a);
    expect(v).toMatchObject({ kind: 'backing-missing', severity: 'warning' });
    expect(v.text).toContain("'gone-base.qcow2' is missing");
  });

  it.each([
    ['leaked', 1, 0, /^1 leaked cluster: nothing references it; a repair frees it$/],
    ['overcounted', 0, 1, /^1 cluster in use with a refcount too high .*a repair frees nothing$/],
    ['bothLeaks', 1, 1, /^2 leaked clusters by qemu-img's count: 1 referenced by nothing \(a repair frees it\), 1 in use with a refcount too high \(a repair frees nothing\)$/],
  ] as const)('leaks (%s): qemu-img counts both kinds; we split them', async (which, leaked, over, text) => {
    const path = img[which];
    const a = await analyzePath(path);
    const q = qemuCheck(path);
    expect(q.rc).toBe(3);
    expect(q.json!.leaks).toBe(leaked + over);
    expect(rolesOf(a.check.roles, Role.LEAKED)).toBe(leaked);
    expect(rolesOf(a.check.roles, Role.OVERCOUNTED)).toBe(over);
    const v = analysisVerdict(a);
    expect(v).toMatchObject({ kind: 'leaks', severity: 'warning' });
    expect(v.text).toMatch(text);
    // What the split promises: a repair frees the leaked cluster and none of the over-counted ones.
    const copy = join(dir, `${which}-repaired.qcow2`);
    copyFileSync(path, copy);
    expect(spawnSync('qemu-img', ['check', '-q', '-r', 'leaks', copy]).status).toBe(0);
    const r = await analyzePath(copy);
    const freed = (k: number) => r.check.roles[k] === Role.FREE || r.check.roles[k] === Role.TAIL || k >= r.check.roles.length;
    a.check.roles.forEach((role, k) => {
      if (role === Role.LEAKED) expect(freed(k), `leaked cluster ${k} is freed`).toBe(true);
      if (role === Role.OVERCOUNTED) expect(freed(k), `over-counted cluster ${k} stays in use`).toBe(false);
    });
  });
});

describe.runIf(hasTool)('the seed: zero-offset empty bitmaps are no error', () => {
  it("says both sides: consistent, and QEMU's refusal in its own words", async () => {
    const a = await analyzeSample('seed-zero-offset-bitmap');
    const q = spawnSync('qemu-img', ['info', '-U', samplePath('seed-zero-offset-bitmap')], { encoding: 'utf8' });
    expect(q.status).toBe(1);
    const qemuSays = q.stderr.trim().replace(/^qemu-img: Could not open '[^']*': /, '');
    const v = analysisVerdict(a);
    expect(v).toMatchObject({ kind: 'seed', severity: 'warning' });
    expect(v.text).toBe(`Consistent: 0 leaks, 0 corruptions. Bitmap 'empty' is a zero-offset empty bitmap (the proposal this tool follows); QEMU 7.2 refuses to open the image: ${qemuSays}`);
    expect(a.findings.filter((f) => f.severity === 'error')).toEqual([]);
    // qemu-img check still refuses it: our check says so (parity), the verdict is amber.
    expect(a.check.exitCode).toBe(1);
  });

  it('a refusal for any other reason stays an error', async () => {
    const a = await analyzeSample('seed-offset-one-bitmap');
    expect(analysisVerdict(a)).toMatchObject({ kind: 'refused', severity: 'error' });
  });
});

describe('no sample image is called truncated', () => {
  it.each(listSamples())('%s', async (name) => {
    const a = await analyzeSample(name);
    expect(a.findingTotals['FILE_TRUNCATED'] ?? 0).toBe(0);
    expect(rolesOf(a.check.roles, Role.ORPHANED) + rolesOf(a.check.roles, Role.PAST_END)).toBe(0);
  });
});

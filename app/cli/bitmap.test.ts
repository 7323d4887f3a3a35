// `qcowscope bitmap` against QEMU's own export, live: for every sample with bitmaps and for
// fixed-seed random images made for it (app/test-support/bitmap-images.ts), each bitmap's
// extents equal byte for byte what `nbdinfo --map=qemu:dirty-bitmap:NAME [--json]` prints for
// `qemu-nbd -r -B NAME`; bitmaps QEMU will not export are printed with the reason qemu-nbd gives;
// --minus/--and/--or equal set arithmetic on QEMU's maps; --allocation equals QEMU's dirty map
// split by `qemu-img map` and agrees with nbdinfo's base:allocation map of the same export.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main';
import { buildBitmapImage } from '../test-support/bitmap-images';
import { hasNbdinfo, hasQemuNbd, nbdMap, overlay, type NbdExtent } from '../test-support/nbd';
import { makeDense, withTmpDir } from '../test-support/random-images';
import { hasQemuImg } from '../test-support/qemu-tools';
import { listSamples, samplePath } from '../test-support/samples';
import { patchFile } from '../test-support/craft';

interface Out {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

async function cli(...args: string[]): Promise<Out> {
  let out = '';
  let err = '';
  const rc = await main(['bitmap', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { rc, out, err };
}

interface Listed {
  readonly name: string;
  readonly 'qemu-exports': boolean;
  readonly 'qemu-refusal'?: string;
  readonly 'dirty-bytes': number;
}

/** The reason in qemu-nbd's stderr (its last message that is not a warning), without prefixes. */
function qemuReason(stderr: string): string {
  const last = [...stderr.matchAll(/qemu-nbd: (?!warning:)([^\n]*)/g)].pop()?.[1] ?? '';
  return last.replace(/^Failed to blk_new_open '[^']*': /, '');
}

const SET_OPS = {
  minus: (a: number, b: number | undefined) => (a === 1 && b === 0 ? 1 : 0),
  and: (a: number, b: number | undefined) => (a === 1 && b === 1 ? 1 : 0),
  or: (a: number, b: number | undefined) => (a === 1 || b === 1 ? 1 : 0),
} as const;

/** Type of qemu-img map's data ranges over a host hole ("data": true, "zero": true). */
const HOLE = 5;

/**
 * qemu-img map --output=json as extents: data 1, zero 3, unallocated 4, and HOLE where QEMU found a
 * hole of the host file inside an allocated cluster (metadata preallocation, an external data file).
 */
function qemuAllocation(dir: string, file: string, qemuImg: string): NbdExtent[] {
  const r = spawnSync(qemuImg, ['map', '--output=json', '-U', file], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const ranges = JSON.parse(r.stdout) as { start: number; length: number; present: boolean; zero: boolean; data: boolean }[];
  return ranges.map((x) => ({ offset: x.start, length: x.length, type: x.data ? (x.zero ? HOLE : 1) : x.present ? 3 : 4 }));
}

/** Checks every bitmap of `path` (cwd `dir`) against QEMU; returns how many maps were compared. */
async function compareImage(dir: string, path: string, qemuNbd = 'qemu-nbd', qemuImg = 'qemu-img'): Promise<number> {
  const listing = await cli('--output=json', path);
  expect(listing.rc).toBe(0);
  const bitmaps = JSON.parse(listing.out) as Listed[];
  const maps = new Map<string, NbdExtent[]>();
  let compared = 0;
  for (const b of bitmaps) {
    const context = `qemu:dirty-bitmap:${b.name}`;
    const q = nbdMap(path, context, [b.name], true, qemuNbd);
    const ours = await cli('--output=json', '--name', b.name, path);
    expect(ours.rc).toBe(0);
    if (q.extents) {
      expect({ bitmap: b.name, exports: b['qemu-exports'] }).toEqual({ bitmap: b.name, exports: true });
      expect(ours.out, `${path} ${b.name}`).toBe(q.text);
      // Only notes QEMU has no word for (all-ones table entries: valid, read by QEMU) on stderr.
      expect(ours.err.split('\n').filter((l) => l !== '' && !l.includes('say "all ones"'))).toEqual([]);
      expect(JSON.parse(ours.out).filter((e: NbdExtent) => e.type === 1).reduce((s: number, e: NbdExtent) => s + e.length, 0)).toBe(b['dirty-bytes']);
      maps.set(b.name, q.extents);
      compared++;
      if (compared === 1) {
        const text = nbdMap(path, context, [b.name], false, qemuNbd);
        expect((await cli('--name', b.name, path)).out).toBe(text.text);
      }
    } else {
      // QEMU refuses: we say so on one stderr line, with QEMU's own reason, and still print the map.
      const reason = qemuReason(q.stderr);
      expect(reason, q.stderr).not.toBe('');
      expect(b['qemu-exports']).toBe(false);
      expect(b['qemu-refusal']).toContain(reason);
      const lines = ours.err.split('\n').filter((l) => l.includes('would not export'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(reason);
      const printed = JSON.parse(ours.out) as NbdExtent[];
      expect(printed.length).toBeGreaterThan(0);
    }
  }
  // Set arithmetic and the allocation split on the first three bitmaps (bounds the run time).
  const names = [...maps.keys()].slice(0, 3);
  for (const a of names) {
    for (const b of names) {
      if (a === b) continue;
      for (const op of ['minus', 'and', 'or'] as const) {
        const want = overlay(maps.get(a)!, maps.get(b)!, SET_OPS[op]);
        const got = JSON.parse((await cli('--output=json', '--name', a, `--${op}`, b, path)).out) as NbdExtent[];
        expect(got.map(({ offset, length, type }) => ({ offset, length, type })), `${a} --${op} ${b}`).toEqual(want);
      }
    }
  }
  const first = names[0];
  if (first !== undefined) {
    const alloc = qemuAllocation(dir, path, qemuImg);
    const base = nbdMap(path, 'base:allocation', [first], true, qemuNbd).extents!;
    for (const name of names) {
      const got = JSON.parse((await cli('--output=json', '--name', name, '--allocation', path)).out) as NbdExtent[];
      // A File sees no host holes: dirty data over one is dirty data (1) here.
      const want = overlay(maps.get(name)!, alloc, (d, m) => (d === 1 ? (m === HOLE ? 1 : m!) : 0));
      expect(got.map(({ offset, length, type }) => ({ offset, length, type })), `${name} --allocation`).toEqual(want);
      // base:allocation: data reads as data (0), or zero (2) over a host hole; zero and unallocated
      // read as hole,zero (3). Encoded ours·10 + map type, then checked against base's type.
      const withMap = overlay(got, alloc, (o, m) => o * 10 + m!);
      const ok = (om: number, q: number | undefined) => {
        const o = Math.floor(om / 10);
        if (o === 1) return q === 0 || (q === 2 && om % 10 === HOLE);
        if (o === 3 || o === 4) return q === 3;
        return true;
      };
      const bad = overlay(withMap, base, (om, q) => (ok(om, q) ? 0 : 1));
      expect(bad.filter((e) => e.type === 1), `${name} --allocation vs base:allocation`).toEqual([]);
    }
  }
  return compared;
}

describe.runIf(hasQemuNbd && hasNbdinfo)('bitmap extents = qemu-nbd + nbdinfo (samples)', () => {
  const samples = listSamples().filter((n) => /^(bitmaps|bitmap-|seed-)/.test(n));
  it('finds the bitmap samples', () => expect(samples.length).toBeGreaterThanOrEqual(5));
  for (const name of samples) {
    it(name, async () => {
      const path = samplePath(name);
      await compareImage(join(path, '..'), path);
    }, 60_000);
  }
});

describe.runIf(hasQemuNbd && hasNbdinfo)('bitmaps QEMU ignores, and QEMU 10', () => {
  it('autoclear bit clear: qemu-nbd finds no bitmap; we print it and say why', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'x.qcow2');
      copyFileSync(samplePath('seed-base'), path);
      patchFile(path, (b) => void b.writeBigUInt64BE(b.readBigUInt64BE(88) & ~1n, 88));
      await compareImage(dir, path);
    });
  }, 60_000);

  const qemu10 = '/opt/qemu10/usr/bin/qemu-nbd';
  it.runIf(existsSync(qemu10))('the bitmaps sample equals QEMU 10\'s export too', async () => {
    const path = samplePath('bitmaps');
    expect(await compareImage(join(path, '..'), path, qemu10)).toBe(6);
  }, 60_000);
});

describe.runIf(hasQemuNbd && hasNbdinfo && hasQemuImg())('--allocation and host holes', () => {
  it('says when QEMU would report holes inside data clusters as zeros, and not for a dense copy', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'm.qcow2');
      const must = (cmd: string, args: string[]) => expect(spawnSync(cmd, args, { cwd: dir }).status).toBe(0);
      must('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', path, '8M']);
      must('qemu-img', ['bitmap', '--add', path, 'b']);
      must('qemu-io', ['-f', 'qcow2', path, '-c', 'write -P 1 0 4k']);
      const sparse = await cli('--output=json', '--name', 'b', '--allocation', path);
      expect(sparse.err).toMatch(/has holes, and QEMU reports any inside a data cluster as zeros/);
      // QEMU: the written 4 KiB are data, the rest of the 64 KiB granule a hole read as zero.
      const base = nbdMap(path, 'base:allocation', ['b']).extents!;
      expect(base.slice(0, 2).map((e) => [e.offset, e.type])).toEqual([[0, 0], [4096, 2]]);
      expect(base[0]!.length).toBe(4096);
      expect(JSON.parse(sparse.out)[0]).toMatchObject({ offset: 0, length: 65536, type: 1, description: 'dirty data' });
      const dense = join(dir, 'd.qcow2');
      copyFileSync(path, dense);
      makeDense(dense);
      expect((await cli('--output=json', '--name', 'b', '--allocation', dense)).err).toBe('');
    });
  }, 60_000);
});

const QEMU10_BIN = '/opt/qemu10/usr/bin/';
const hasQemu10 = ['qemu-img', 'qemu-io', 'qemu-nbd'].every((t) => existsSync(QEMU10_BIN + t));

/** Seeds per release: every cluster size and both extreme granularities on 7.2 (seeds 1..6 take them in turn). */
const RANDOM_CASES: readonly { seed: number; bin: string }[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((seed) => ({ seed, bin: '' })),
  ...(hasQemu10 ? [13, 14, 15, 16].map((seed) => ({ seed, bin: QEMU10_BIN })) : []),
];

describe.runIf(hasQemuNbd && hasNbdinfo && hasQemuImg())('bitmap extents = qemu-nbd + nbdinfo (random images)', () => {
  it.runIf(!hasQemu10)('qemu-img 10.0 is missing at /opt/qemu10: its random images are skipped', () => {
    console.warn('bitmap.test: no qemu 10.0 tools at /opt/qemu10/usr/bin; random bitmap images are made by 7.2 only');
  });
  for (const { seed, bin } of RANDOM_CASES) {
    it(`seed ${seed}${bin ? ' (QEMU 10.0)' : ''}`, async () => {
      await withTmpDir(async (dir) => {
        let recipe: readonly string[] = [];
        try {
          const img = buildBitmapImage(dir, seed, bin);
          recipe = img.recipe;
          const path = join(dir, img.file);
          expect(await compareImage(dir, path, `${bin}qemu-nbd`, `${bin}qemu-img`)).toBe(img.bitmaps.length);
          // The writes went through the bitmaps: the first one (added before any write) is dirty.
          const listed = JSON.parse((await cli('--output=json', path)).out) as Listed[];
          expect(listed.find((b) => b.name === img.bitmaps[0])!['dirty-bytes']).toBeGreaterThan(0);
          if (img.bitmaps.length >= 2) {
            // FILE2:NAME names a bitmap of another image: the same answer as within one image.
            const copy = join(dir, 'copy.qcow2');
            copyFileSync(path, copy);
            const [a, b] = img.bitmaps;
            const within = await cli('--output=json', '--name', a!, '--minus', b!, path);
            const across = await cli('--output=json', '--name', a!, '--minus', `${copy}:${b!}`, path);
            expect(across.out).toBe(within.out);
          }
        } catch (e) {
          throw new Error(`seed ${seed}${bin ? ` (tools in ${bin})` : ''}: ${recipe.join(' | ')}\n${String(e)}`);
        }
      });
    }, 90_000);
  }
});

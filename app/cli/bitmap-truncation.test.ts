// `qcowscope bitmap` on bitmap images cut short at many byte offsets: never a crash; every bitmap
// still listed is printed over its whole disk; every clean or dirty range printed equals the intact
// image's (bits past the end of the file are never made up as clean); when the cut falls inside a
// bitmap's table or data clusters, some range is unknown and stderr names the bitmap and a file
// offset. The seed-base sample with its bitmap tables and data moved past the directory (so that
// cuts leave the directory and lose bits; cut at every structure edge ± a few bytes and every 512
// bytes) and fixed-seed random bitmap images made by qemu-img, moved the same way (cut at 120
// offsets each; the seed and the offset are in every failure message).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings, loadHeaderStage, loadStructures } from '../format';
import { NodeFileSource } from '../format/node';
import { buildBitmapImage } from '../test-support/bitmap-images';
import { overlay, type NbdExtent } from '../test-support/nbd';
import { prng } from '../test-support/prng';
import { hasQemuImg } from '../test-support/qemu-tools';
import { withTmpDir } from '../test-support/random-images';
import { samplePath } from '../test-support/samples';
import { extensionData } from '../test-support/craft';
import { main } from './main';

async function cli(...args: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const rc = await main(['bitmap', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { rc, out, err };
}

interface Intact {
  readonly name: string;
  readonly extents: NbdExtent[];
  /** End of the last byte of its table and of the bits in its data clusters in the file. */
  readonly lastByte: number;
  /** File offsets where its table and data clusters begin and end (cut candidates). */
  readonly edges: number[];
}

/** Each bitmap of the intact image: its extents as printed and where its table and data lie. */
async function intact(path: string): Promise<Intact[]> {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const s = await loadStructures(src, await loadHeaderStage(src, f), f);
    const cs = s.header.clusterSize;
    const out: Intact[] = [];
    for (const b of s.bitmapDirectory?.bitmaps ?? []) {
      const printed = await cli('--output=json', '--name', b.name, path);
      expect(printed.rc).toBe(0);
      const extents = JSON.parse(printed.out) as NbdExtent[];
      const last = extents[extents.length - 1]!;
      const bitBytes = Math.ceil((last.offset + last.length) / 2 ** b.granularityBits / 8);
      const t = Number(b.tableOffset);
      const edges = [t, t + b.tableSize * 8];
      // The bytes of each data cluster that hold bits of the disk (the last one may hold fewer).
      for (const [k, e] of (b.table ?? []).entries()) {
        const off = Number(e & BME_TABLE_ENTRY_OFFSET_MASK);
        if (off !== 0) edges.push(off, off + Math.min(cs, bitBytes - k * cs));
      }
      out.push({ name: b.name, extents, lastByte: Math.max(...edges), edges });
    }
    return out;
  } finally {
    await src.close();
  }
}

const BITMAPS_EXTENSION = 0x23852875;
/** Bits 9..55 of a bitmap table entry: the data cluster's offset (spec, "Bitmap table"). */
const BME_TABLE_ENTRY_OFFSET_MASK = 0x00fffffffffffe00n;

/**
 * `image` with every bitmap's table and data clusters copied to the end of the file (after the
 * bitmap directory) and the directory and tables pointing at the copies: the table before its data
 * for even bitmaps (a cut there loses data clusters only), after it for odd ones.
 */
function relocateBitmaps(image: Buffer): Buffer {
  const cs = 2 ** image.readUInt32BE(20);
  const ext = extensionData(image, BITMAPS_EXTENSION);
  const count = image.readUInt32BE(ext);
  const dir = Number(image.readBigUInt64BE(ext + 16));
  const parts: Buffer[] = [image, Buffer.alloc((cs - (image.length % cs)) % cs)];
  let end = image.length + parts[1]!.length;
  /** Appends room for `length` bytes (whole clusters); returns its offset and buffer. */
  const append = (length: number): { at: number; buf: Buffer } => {
    const buf = Buffer.alloc(Math.ceil(length / cs) * cs);
    parts.push(buf);
    end += buf.length;
    return { at: end - buf.length, buf };
  };
  for (let i = 0, p = dir; i < count; i++) {
    const tableOffset = Number(image.readBigUInt64BE(p));
    const tableSize = image.readUInt32BE(p + 8);
    const table = Buffer.from(image.subarray(tableOffset, tableOffset + tableSize * 8));
    const early = i % 2 === 0 ? append(table.length) : null;
    for (let k = 0; k < tableSize; k++) {
      const e = table.readBigUInt64BE(k * 8);
      const off = Number(e & BME_TABLE_ENTRY_OFFSET_MASK);
      if (off === 0) continue;
      const copy = append(cs);
      image.copy(copy.buf, 0, off, off + cs);
      table.writeBigUInt64BE((e & ~BME_TABLE_ENTRY_OFFSET_MASK) | BigInt(copy.at), k * 8);
    }
    const at = early ?? append(table.length);
    table.copy(at.buf);
    image.writeBigUInt64BE(BigInt(at.at), p);
    const nameSize = image.readUInt16BE(p + 18);
    const extra = image.readUInt32BE(p + 20);
    p += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  return Buffer.concat(parts);
}

/** Checks the image cut at `cut` against the intact bitmaps; `what` names the case in failures. */
async function checkCut(bytes: Buffer, cut: number, dir: string, bitmaps: readonly Intact[], what: string): Promise<number> {
  let lostBits = 0;
  const path = join(dir, 'cut.qcow2');
  writeFileSync(path, bytes.subarray(0, cut));
  const msg = `${what}, cut at ${cut}`;
  const listing = await cli('--output=json', path);
  if (listing.rc !== 0) {
    // The image could not be read as qcow2 at all (cut inside the header): a message, no output.
    expect(listing.err, msg).not.toBe('');
    expect(listing.out, msg).toBe('');
    return 0;
  }
  const listed = new Set((JSON.parse(listing.out) as { name: string }[]).map((b) => b.name));
  for (const b of bitmaps) {
    if (!listed.has(b.name)) continue;
    const r = await cli('--output=json', '--name', b.name, path);
    expect(r.rc, `${msg}: ${r.err}`).toBe(0);
    const got = JSON.parse(r.out) as NbdExtent[];
    // Contiguous over the same disk.
    let pos = 0;
    for (const e of got) {
      expect(e.offset, msg).toBe(pos);
      pos += e.length;
    }
    const last = b.extents[b.extents.length - 1]!;
    expect(pos, msg).toBe(last.offset + last.length);
    // Clean and dirty only where the intact image says the same.
    const wrong = overlay(got, b.extents, (x, y) => (x === 2 || x === y ? 0 : 1)).filter((e) => e.type === 1);
    expect(wrong, `${msg}: bitmap ${b.name} printed bits the intact image does not have`).toEqual([]);
    const unknown = got.filter((e) => e.type === 2).reduce((s, e) => s + e.length, 0);
    if (cut < b.lastByte) {
      expect(unknown, `${msg}: bitmap ${b.name} lies partly past the end, nothing unknown`).toBeGreaterThan(0);
    }
    if (unknown > 0) {
      expect(r.err, msg).toMatch(new RegExp(`bitmap "${b.name}": .*0x[0-9a-f]+`));
      lostBits++;
    }
  }
  return lostBits;
}

describe('bitmap extents of images cut short', () => {
  it('seed-base, bitmaps moved past the directory, cut at every structure edge ± 8 bytes and every 512 bytes', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'x.qcow2');
      writeFileSync(path, relocateBitmaps(readFileSync(samplePath('seed-base'))));
      const bytes = readFileSync(path);
      const bitmaps = await intact(path);
      expect(bitmaps.length).toBeGreaterThan(0);
      const cuts = new Set<number>();
      for (let c = 0; c < bytes.length; c += 512) cuts.add(c);
      for (const b of bitmaps) for (const e of b.edges) for (let d = -8; d <= 8; d += 4) if (e + d > 0 && e + d < bytes.length) cuts.add(e + d);
      let lost = 0;
      for (const c of cuts) lost += await checkCut(bytes, c, dir, bitmaps, 'seed-base');
      // Most cuts leave the directory and lose some bitmap's bits (the property is not vacuous).
      expect(lost).toBeGreaterThan(50);
    });
  }, 300_000);

  for (const seed of [2, 7]) {
    it.runIf(hasQemuImg())(`random bitmap image (seed ${seed}), bitmaps moved past the directory, cut at 120 offsets`, async () => {
      await withTmpDir(async (dir) => {
        const img = buildBitmapImage(dir, seed);
        writeFileSync(join(dir, img.file), relocateBitmaps(readFileSync(join(dir, img.file))));
        const bytes = readFileSync(join(dir, img.file));
        const bitmaps = await intact(join(dir, img.file));
        const r = prng(seed * 7919);
        const edges = bitmaps.flatMap((b) => b.edges);
        const cuts = new Set<number>();
        while (cuts.size < 120) {
          const c = r() < 0.5 ? edges[Math.floor(r() * edges.length)]! + Math.floor(r() * 17) - 8 : Math.floor(r() * bytes.length);
          if (c > 0 && c < bytes.length) cuts.add(c);
        }
        let lost = 0;
        for (const c of cuts) lost += await checkCut(bytes, c, dir, bitmaps, `seed ${seed} (${img.recipe.slice(0, 2).join(' | ')})`);
        expect(lost, `seed ${seed}`).toBeGreaterThan(10);
      });
    }, 300_000);
  }
});

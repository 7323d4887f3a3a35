// The inspector's preview of compressed clusters on the compressed samples: every compressed guest
// cluster found by the analysis decompresses to the bytes make.sh wrote there.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, BytesSource, assembleStored, decompressCluster, storedSpan, compressedIn, placeOf } from '../format';
import { samplePath } from '../test-support/samples';
import { splitClusterArrays } from '../worker/split';

/** The "file content" make.sh writes into the compressed samples: `seq 1 40000`. */
const TEXT = new TextEncoder().encode(Array.from({ length: 40000 }, (_, i) => `${i + 1}\n`).join(''));

/** What make.sh wrote at each guest cluster of the compressed sources (pattern byte or text offset). */
const SOURCE: Record<string, (guest: number) => { fill: number } | { text: number }> = {
  // 0xc0 at 0–128k, text at 1M–1M+192k, 0xc1 at 3M, text at 5M, 0xc2 at 8128k.
  'compressed-zlib': (g) => (g < 0x20000 ? { fill: 0xc0 } : g < 0x100000 + 0x30000 && g >= 0x100000 ? { text: g - 0x100000 } : g === 0x300000 ? { fill: 0xc1 } : g === 0x500000 ? { text: 0 } : { fill: 0xc2 }),
  'compressed-zstd': (g) => SOURCE['compressed-zlib']!(g),
  // -c -P 0xd0 at 0, text at 128k and 192k (offset 0 of the text both times), 0xd3 at 4M.
  'compressed-mixed': (g) => (g === 0 ? { fill: 0xd0 } : g === 0x20000 || g === 0x30000 ? { text: 0 } : { fill: 0xd3 }),
};

describe('decompressCluster on the compressed samples', () => {
  it.each(Object.keys(SOURCE))('%s: every compressed guest cluster decompresses to the bytes make.sh wrote', async (name) => {
    const bytes = new Uint8Array(readFileSync(samplePath(name)));
    const a = await analyze(new BytesSource(bytes, name));
    const r = { ...a, check: splitClusterArrays(a.check).rest };
    const cs = a.structures.header.clusterSize;
    const type = a.structures.header.compressionType === 1 ? 'zstd' : 'zlib';
    expect(type).toBe(name.endsWith('zstd') ? 'zstd' : 'zlib');
    const seen = new Set<number>();
    for (let k = 0; k * cs < bytes.length; k++) {
      const pieces = compressedIn(r, k);
      if (pieces.length === 0) continue;
      if (pieces.some((p) => Math.floor(p.host / cs) === k)) expect(placeOf(r, k)?.kind).toBe('compressed');
      for (const p of pieces) {
        if (seen.has(p.guest)) continue;
        seen.add(p.guest);
        const span = storedSpan(p.host, p.length, cs);
        const clusters = [];
        for (let c = span.first; c <= span.last; c++) clusters.push(c * cs < bytes.length ? bytes.subarray(c * cs, (c + 1) * cs) : null);
        const out = decompressCluster(type, assembleStored(p.host, span.length, cs, span.first, clusters), cs);
        expect(out.problem, `guest 0x${p.guest.toString(16)}`).toBeNull();
        const src = SOURCE[name]!(p.guest);
        const want = 'fill' in src ? new Uint8Array(cs).fill(src.fill) : TEXT.subarray(src.text, src.text + cs);
        expect(out.bytes!.length).toBe(cs);
        expect(Buffer.from(out.bytes!).equals(Buffer.from(want)), `guest 0x${p.guest.toString(16)}`).toBe(true);
      }
    }
    expect(seen.size).toBe(a.check.counts.compressedClusters);
  });
});


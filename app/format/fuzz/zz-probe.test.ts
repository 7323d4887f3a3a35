import { it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { samplePath, ROOT } from '../testing/samples';
import { patchSample } from './cases';
import { buildFuzzEngine, runIsolated } from './isolated';
import { locate } from './locate';
import { writeUint } from './mutate';
const S = (n: string) => new Uint8Array(readFileSync(samplePath(n)));
it('probe', async () => {
  const eng = '/tmp/h7/eng.mjs';
  await buildFuzzEngine(ROOT, eng);
  const base = S('bitmaps');
  const l = locate(base);
  console.log(l.fields.filter((f) => f.name.startsWith('bitmap') || f.name.includes('directory') || f.name.includes('nb_bitmaps')).map((f) => `${f.name}@${f.offset}`).join(' '));
  console.log(l.tables.map((t) => `${t.name}@${t.offset}x${t.entries}`).join(' '));
  const c1 = patchSample(base, { 'bitmap[0].table_size': 0x7fffffff });
  console.log('tablesize', JSON.stringify(runIsolated(eng, c1, 'x', 5000)).slice(0, 300));
  const c1b = patchSample(base, { 'bitmap[0].table_size': 0x7fffffff, 'bitmap[0].table_offset': BigInt(base.length + 65536 * 4) });
  console.log('tablesize past eof', JSON.stringify(runIsolated(eng, c1b, 'x', 5000)).slice(0, 300));
  // many bitmaps sharing one table: a new directory appended to the file.
  const n = 65535;
  const entry = 32;
  const dirOff = Math.ceil(base.length / 65536) * 65536;
  const out = new Uint8Array(dirOff + n * entry);
  out.set(base);
  const tableAt = l.tables.find((t) => t.kind === 'l2')!.offset;
  for (let i = 0; i < n; i++) {
    const p = dirOff + i * entry;
    writeUint(out, p, 8, BigInt(tableAt));
    writeUint(out, p + 8, 4, 8192n);
    writeUint(out, p + 12, 4, 0n);
    out[p + 16] = 1; out[p + 17] = 16;
    writeUint(out, p + 18, 2, 2n);
    out[p + 24] = 0x61 + (i % 26); out[p + 25] = 0x61 + ((i / 26) % 26);
  }
  const ext = l.fields.find((f) => f.name.endsWith('.nb_bitmaps'))!.offset;
  writeUint(out, ext, 4, BigInt(n));
  writeUint(out, ext + 8, 8, BigInt(n * entry));
  writeUint(out, ext + 16, 8, BigInt(dirOff));
  writeFileSync('/tmp/h7/p/manybitmaps.qcow2', out);
  console.log('many bitmaps', JSON.stringify(runIsolated(eng, out, 'x', 10000)).slice(0, 400));
}, 300000);

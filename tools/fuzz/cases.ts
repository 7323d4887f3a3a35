// Regression cases as code: a sample image plus named field and table-entry assignments (names
// as locate.ts lists them), so a crasher found by the fuzzer is kept as one readable line instead
// of a binary file. E.g. patchSample(bytes, { 'header.l1_size': 0x8000_0000n }).

import { locate } from './locate';
import { writeUint } from './mutate';

/** Field names ('header.nb_snapshots') or table entries ('entry:active L1 table:0', '…:*' for all). */
export type Patch = Readonly<Record<string, bigint | number>>;

/** A copy of `bytes` with the assignments applied; an unknown name is a bug in the test (throws). */
export function patchSample(bytes: Uint8Array, patch: Patch): Uint8Array {
  const layout = locate(bytes);
  const out = bytes.slice();
  for (const [name, value] of Object.entries(patch)) {
    const v = BigInt(value);
    const m = /^entry:(.+):(\d+|\*)$/.exec(name);
    if (m) {
      const t = layout.tables.find((x) => x.name === m[1]);
      if (!t) throw new Error(`no table '${m[1]}' in this image (have: ${layout.tables.map((x) => x.name).join(', ')})`);
      const [from, to] = m[2] === '*' ? [0, t.entries] : [Number(m[2]), Number(m[2]) + 1];
      for (let i = from; i < to; i++) writeUint(out, t.offset + i * t.entrySize, Math.min(8, t.entrySize), v);
      continue;
    }
    const f = layout.fields.find((x) => x.name === name);
    if (!f) throw new Error(`no field '${name}' in this image`);
    writeUint(out, f.offset, f.size, v);
  }
  return out;
}

/**
 * A copy of an image with a bitmaps extension whose directory is replaced by `count` entries that
 * all name one table of `tableSize` entries at `tableOffset` (a new directory appended at the end).
 */
export function bitmapsSharingOneTable(bytes: Uint8Array, count: number, tableOffset: number, tableSize: number): Uint8Array {
  const layout = locate(bytes);
  const nb = layout.fields.find((x) => /^ext\[\d+\]\.nb_bitmaps$/.test(x.name));
  if (!nb) throw new Error('this image has no bitmaps extension');
  const entry = 32;
  const dirOffset = Math.ceil(bytes.length / layout.clusterSize) * layout.clusterSize;
  const out = new Uint8Array(dirOffset + count * entry);
  out.set(bytes);
  for (let i = 0; i < count; i++) {
    const p = dirOffset + i * entry;
    writeUint(out, p, 8, BigInt(tableOffset));
    writeUint(out, p + 8, 4, BigInt(tableSize));
    out[p + 16] = 1;
    out[p + 17] = 16;
    writeUint(out, p + 18, 2, 4n);
    writeUint(out, p + 24, 4, BigInt(0x61616161 + (i % 26) + ((Math.floor(i / 26) % 26) << 8) + ((Math.floor(i / 676) % 26) << 16) + ((Math.floor(i / 17576) % 26) << 24)));
  }
  writeUint(out, nb.offset, 4, BigInt(count));
  writeUint(out, nb.offset + 8, 8, BigInt(count * entry));
  writeUint(out, nb.offset + 16, 8, BigInt(dirOffset));
  return out;
}

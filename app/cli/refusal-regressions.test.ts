// Refusal-parity regressions, one line each: a sample, cut short or with fields changed, on which
// our `info` / `check` once differed from the live qemu-img 7.2 (exit code, JSON, first stderr line).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { patchSample, type Patch } from '../../tools/fuzz/cases';
import { locate } from '../../tools/fuzz/locate';
import { hasQemuImg } from '../test-support/qemu-tools';
import { samplePath } from '../test-support/samples';
import { compareWithQemuImg } from './parity-compare';

/** A cut: at a byte, or at an offset into the region locate() names. */
type Cut = number | { readonly region: string; readonly plus: number };

const CASES: readonly [why: string, sample: string, patch: Patch, cut?: Cut][] = [
  ['cluster_bits 0: refused, "Unsupported cluster size: 2^0"', 'v3', { 'header.cluster_bits': 0 }],
  ['a header cut after its version reads zero-filled: "qcow2 header too short"', 'v3', {}, 90],
  ['zeros past the end in the bitmap directory: "Bitmap \'\' doesn\'t satisfy the constraints" first', 'bitmaps', {}, { region: 'bitmap directory', plus: 0 }],
  ['LUKS, check without the key: "Parameter \'encrypt.key-secret\' is required for cipher"', 'luks', {}],
  ['LUKS with an unknown feature: the feature refusal comes before the key', 'luks', { 'header.incompatible_features': 0x270000 }],
  ['check opens an external data file relative to the working directory', 'data-file', {}],
  ['check skips the snapshot table refusals and fails on its own: "ERROR snapshot table offset invalid"', 'v2', { 'header.snapshots_offset': 0x90200 }],
  ['check on 70000 snapshots: "ERROR snapshot table too large", then Check failed: File too large', 'v3', { 'header.nb_snapshots': 70000 }],
  ['a file cut mid-sector ends at the next 512 for check\'s past-the-end test', 'empty', {}, 131080],
  ['check\'s counting lines in QEMU\'s traversal order (L1 entry, its L2 table, that table\'s entries)', 'snapshots', {}, 1310728],
  ['the legacy AES method: check needs the key too', 'refcount-1', { 'header.crypt_method': 1 }],
  ['check validates the snapshot table offset with no snapshots', 'refcount-1', { 'header.snapshots_offset': 0x90200 }],
  ['bit 0 of an L1 entry is reserved: "ERROR found L1 entry with reserved bits set"', 'v3', { 'entry:active L1 table:0': 0x8000000000040001n }],
  ['the bitmaps autoclear bit clear: qemu-img warns while it opens, on stderr, first', 'bitmaps', { 'header.autoclear_features': 0 }],
  ['check opens the backing file relative to the image: a missing one is refused', 'overlay', {}],
  ['an L2 table cut one byte in reads zero-filled: its first entry keeps that byte', 'compressed-zstd', {}, 262145],
  ['an extended L2 table cut 8 bytes in reads zero-filled', 'extended-l2', {}, 262152],
  ['a refcount block offset past BDRV_MAX_LENGTH: its refcounts cannot be read (EIO), check errors', 'v3', { 'entry:refcount table:0': 0x8000000000020000n }],
  ['a backing file name cut by the end of the file ends at its first NUL', 'overlay', {}, 533],
  ['a backing file name all zeros (past the end) opens no backing file', 'overlay-raw', {}, 324],
  ['check reads the snapshot table in QEMU\'s order: "Too much extra metadata" before "too big"', 'refcount-64', { 'snapshot[0].extra_data_size': 0xffffffff }],
];

describe.runIf(hasQemuImg())('refusal-parity regressions against the live qemu-img', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-refusal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.each(CASES)('%s', async (_why, sample, patch, cut) => {
    let bytes = patchSample(new Uint8Array(readFileSync(samplePath(sample))), patch);
    if (cut !== undefined) {
      const at = typeof cut === 'number' ? cut : locate(bytes).regions.find((r) => r.name === cut.region)!.offset + cut.plus;
      bytes = bytes.subarray(0, at);
    }
    const file = join(dir, `${sample}.qcow2`);
    writeFileSync(file, bytes);
    expect(await compareWithQemuImg(file)).toBe('');
  });
});

// LUKS header: the luks sample against qemu-img info, and crafted headers (each check QEMU makes
// in qcrypto_block_luks_check_header / _parse_header) against the live qemu-img.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Findings } from './errors';
import { LUKS_SLOT_ENABLED, parseLuksHeader } from './luks';
import { NodeFileSource } from './source-node';
import { loadHeaderStage } from './structures';
import { reference, samplePath } from '../../test-support/samples';
import { compareWithQemu, extensionData, patchFile } from '../../test-support/craft';
import { hasQemuImg, mustRunRetried } from '../../test-support/qemu-tools';
import { EXT_CRYPTO_HEADER } from './spec';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

interface LuksInfo {
  'payload-offset': number;
  'master-key-iters': number;
  uuid: string;
  slots: { active: boolean; iters?: number; 'key-offset': number }[];
}

describe('the luks sample', () => {
  it('reads the header qemu-img describes', async () => {
    const want = reference<{ 'format-specific': { data: { encrypt: LuksInfo } } }>('luks', 'info.json')!['format-specific'].data.encrypt;
    const src = await NodeFileSource.open(samplePath('luks'));
    const f = new Findings();
    const { luks } = await loadHeaderStage(src, f);
    await src.close();
    expect(luks!.payloadOffset * 512).toBe(want['payload-offset']);
    expect(luks!.masterKeyIterations).toBe(want['master-key-iters']);
    expect(luks!.uuid).toBe(want.uuid);
    expect(luks!.slots.map((s) => [s.active, s.active ? s.iterations : undefined, s.keyMaterialOffset * 512]))
      .toEqual(want.slots.map((s) => [s.active, s.iters, s['key-offset']]));
    expect(f.list.filter((x) => x.code === 'QEMU_REFUSES')).toEqual([]);
  });

  it('says why a damaged header cannot be read', () => {
    const f = new Findings();
    expect(parseLuksHeader(new Uint8Array(100), 4096, 4096, f)).toBeNull();
    expect(f.count('LUKS_TRUNCATED')).toBe(1);
    const g = new Findings();
    const h = parseLuksHeader(new Uint8Array(592), 4096, 100, g)!;
    expect(h.slots.every((s) => !s.active && s.iterations === 0)).toBe(true);
    expect(g.list.map((x) => x.message)).toEqual(['Request for data outside of extension header', 'Volume is not in LUKS format']);
    expect(LUKS_SLOT_ENABLED).toBe(0x00ac71f3);
  });
});

describe.runIf(hasQemuImg())('crafted LUKS headers against qemu-img', () => {
  let dir = '';
  let base = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qcowscope-luks-'));
    mustRunRetried(dir, ['create', '-q', '-f', 'qcow2', '--object', 'secret,id=sec0,data=x',
      '-o', 'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10', 'base.qcow2', '1M']);
    base = join(dir, 'base.qcow2');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const luksAt = (b: Buffer) => Number(b.readBigUInt64BE(extensionData(b, EXT_CRYPTO_HEADER)));
  const setString = (b: Buffer, at: number, s: string, width = 32) => {
    b.fill(0, at, at + width);
    b.write(s, at, 'latin1');
  };
  const cases: [string, (b: Buffer, l: number) => void][] = [
    ['unchanged', () => {}],
    ['bad magic', (b, l) => void b.writeUInt8(0, l + 1)],
    ['version 2', (b, l) => void b.writeUInt16BE(2, l + 6)],
    ['cipher name not terminated', (b, l) => void b.fill(0x61, l + 8, l + 40)],
    ['payload overlapping the header', (b, l) => void b.writeUInt32BE(4, l + 104)],
    ['master key iterations 0', (b, l) => void b.writeUInt32BE(0, l + 164)],
    ['slot 0 stripes 3999', (b, l) => void b.writeUInt32BE(3999, l + 208 + 44)],
    ['slot 1 state corrupted', (b, l) => void b.writeUInt32BE(0x1234, l + 208 + 48)],
    ['slot 0 active with 0 iterations', (b, l) => void b.writeUInt32BE(0, l + 208 + 4)],
    ['slot 2 key material inside the header', (b, l) => void b.writeUInt32BE(4, l + 208 + 96 + 40)],
    ['slot 7 key material inside the payload', (b, l) => void b.writeUInt32BE(b.readUInt32BE(l + 104), l + 208 + 7 * 48 + 40)],
    ['slots 3 and 4 overlapping', (b, l) => void b.writeUInt32BE(b.readUInt32BE(l + 208 + 3 * 48 + 40), l + 208 + 4 * 48 + 40)],
    ['cipher mode without an IV generator', (b, l) => setString(b, l + 40, 'xts')],
    ['unknown IV generator', (b, l) => setString(b, l + 40, 'xts-foo')],
    ['unknown IV hash', (b, l) => setString(b, l + 40, 'cbc-essiv:sha3')],
    ['essiv without a hash', (b, l) => setString(b, l + 40, 'cbc-essiv')],
    ['essiv with sha256 on aes-256', (b, l) => {
      setString(b, l + 40, 'cbc-essiv:sha256');
      b.writeUInt32BE(32, l + 108);
    }],
    ['essiv with sha1 on aes-128', (b, l) => {
      setString(b, l + 40, 'cbc-essiv:sha1');
      b.writeUInt32BE(16, l + 108);
    }],
    ['essiv with sha1 on cast5', (b, l) => {
      setString(b, l + 8, 'cast5');
      setString(b, l + 40, 'cbc-essiv:sha1');
      b.writeUInt32BE(16, l + 108);
    }],
    ['essiv with md5 on serpent-256', (b, l) => {
      setString(b, l + 8, 'serpent');
      setString(b, l + 40, 'cbc-essiv:md5');
      b.writeUInt32BE(32, l + 108);
    }],
    ['unknown cipher mode', (b, l) => setString(b, l + 40, 'ofb-plain64')],
    ['unknown hash', (b, l) => setString(b, l + 72, 'sha3')],
    ['unknown cipher', (b, l) => setString(b, l + 8, 'rot13')],
    ['key size the cipher does not have', (b, l) => void b.writeUInt32BE(40, l + 108)],
    ['serpent', (b, l) => setString(b, l + 8, 'serpent')],
    ['extension shorter than the header', (b) => void b.writeBigUInt64BE(500n, extensionData(b, EXT_CRYPTO_HEADER) + 8)],
  ];
  it.each(cases)('%s', async (label, patch) => {
    const path = join(dir, `${label.replace(/\W+/g, '-')}.qcow2`);
    copyFileSync(base, path);
    patchFile(path, (b) => patch(b, luksAt(b)));
    expect(await compareWithQemu(path)).toBeNull();
  });
});

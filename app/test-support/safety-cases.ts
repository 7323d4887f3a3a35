// One crafted image per safety reason and note (app/format/safety), made by the live qemu-img and
// byte patches (craft-safety.ts), with the verdict and reason codes each must get. Shared by the
// engine's test and the cross-check against OpenStack's format inspector.

import type { NoteCode, SafetyCode, SafetyVerdict } from '../format/safety';
import {
  BITMAPS_EXTENSION, SECRET, addUnknownExtension, appendAligned, bitmapEntryLength, clusterSize, create, cut, dataCluster,
  findExtension, l2Entry, patch, refcountEntry, repeated, run, setBackingName, snapshotEntryLength,
} from './craft-safety';

export interface SafetyCase {
  readonly name: string;
  readonly make: (dir: string) => string;
  readonly verdict: SafetyVerdict;
  /** Reason codes the verdict must list; with `exact`, exactly these. */
  readonly codes: readonly SafetyCode[];
  readonly exact?: boolean;
  readonly notes?: readonly NoteCode[];
  /** The name or format a reason must carry. */
  readonly named?: string;
}

const plain = (dir: string, name: string, io: readonly string[] = ['write -P 7 0 64k']) => create(dir, name, [], '1M', io);
const backing = (name: string, backingName: string, code: SafetyCode): SafetyCase => ({
  name, verdict: 'unsafe', codes: [code], exact: true, named: backingName,
  make: (dir) => patch(plain(dir, `${name}.qcow2`), (b) => setBackingName(b, backingName)),
});
/** A plain image with `bytes` written at `at` (in the header cluster) or appended as the last 512 bytes. */
const polyglot = (format: string, bytes: Buffer, at: number | 'tail'): SafetyCase => ({
  name: `polyglot-${format}`, verdict: 'unsafe', codes: ['polyglot'], exact: true,
  make: (dir) => patch(plain(dir, `polyglot-${format}.qcow2`), (b) => {
    if (at !== 'tail') return void bytes.copy(b, at);
    const footer = Buffer.alloc(512);
    bytes.copy(footer);
    return Buffer.concat([b, footer]);
  }),
});
const foreign = (name: string, fmt: string, args: readonly string[], code: SafetyCode, named: string): SafetyCase => ({
  name, verdict: 'refused', codes: [code], exact: true, named, make: (dir) => create(dir, `${name}.img`, args, '1M', [], fmt),
});
const header = (name: string, fn: (b: Buffer) => void, verdict: SafetyVerdict, codes: SafetyCode[], exact = true): SafetyCase => ({
  name, verdict, codes, exact, make: (dir) => patch(plain(dir, `${name}.qcow2`), fn),
});
const ascii = (s: string) => Buffer.from(s, 'latin1');

export const SAFETY_CASES: readonly SafetyCase[] = [
  // Safe, with notes.
  { name: 'plain', verdict: 'safe', codes: [], exact: true, make: (dir) => plain(dir, 'plain.qcow2') },
  { name: 'leaks', verdict: 'safe', codes: [], exact: true, notes: ['leaks'],
    // A cluster appended after the image with refcount 1 and no reference.
    make: (dir) => patch(plain(dir, 'leaks.qcow2'), (b) => {
      const { buf, at } = appendAligned(b, Buffer.alloc(clusterSize(b), 0x6c));
      buf.writeUInt16BE(1, refcountEntry(buf, at / clusterSize(buf)));
      return buf;
    }) },
  { name: 'unknown-extension', verdict: 'safe', codes: [], exact: true, notes: ['unknown-extension'], make: (dir) => patch(plain(dir, 'ext.qcow2'), addUnknownExtension) },
  { name: 'extended-l2', verdict: 'safe', codes: [], exact: true, notes: ['extended-l2'], make: (dir) => create(dir, 'extl2.qcow2', ['-o', 'extended_l2=on'], '1M', ['write -P 7 0 64k']) },
  { name: 'encrypted', verdict: 'safe', codes: [], exact: true, notes: ['encrypted'],
    make: (dir) => create(dir, 'luks.qcow2', [...SECRET, '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10']) },
  { name: 'dirty', verdict: 'safe', codes: [], exact: true, notes: ['dirty'],
    make: (dir) => patch(create(dir, 'dirty.qcow2', ['-o', 'lazy_refcounts=on'], '1M', ['write -P 7 0 64k']), (b) => void (b[79]! |= 1)) },

  // Backing files of every kind.
  { name: 'backing-relative', verdict: 'unsafe', codes: ['backing-relative'], exact: true, named: 'base.qcow2',
    make: (dir) => (create(dir, 'base.qcow2'), create(dir, 'overlay.qcow2', ['-b', 'base.qcow2', '-F', 'qcow2'])) },
  backing('backing-absolute', '/etc/passwd', 'backing-absolute'),
  backing('backing-escapes', '../../../etc/shadow', 'backing-escapes'),
  backing('backing-escapes-inner', 'images/../../secret.img', 'backing-escapes'),
  backing('backing-json', 'json:{"driver":"file","filename":"/etc/passwd"}', 'backing-json'),
  ...['nbd://attacker.example:10809/disk', 'http://attacker.example/disk.img', 'https://attacker.example/disk.img', 'ftp://attacker.example/d',
    'ssh://root@attacker.example/d', 'iscsi://attacker.example/iqn.2024-01.x:t/0', 'file:/etc/passwd']
    .map((n) => backing(`backing-${n.slice(0, n.indexOf(':'))}`, n, 'backing-protocol')),

  // External data files.
  { name: 'data-file', verdict: 'unsafe', codes: ['data-file'], exact: true, named: 'guest.data', make: (dir) => create(dir, 'df.qcow2', ['-o', 'data_file=guest.data']) },
  { name: 'data-file-raw-absolute', verdict: 'unsafe', codes: ['data-file'], exact: true, named: '/etc/passwd',
    make: (dir) => patch(create(dir, 'dfa.qcow2', ['-o', 'data_file=guest.data,data_file_raw=on']), (b) => {
      const at = findExtension(b, 0x44415441);
      const name = ascii('/etc/passwd');
      b.writeUInt32BE(name.length, at + 4);
      b.fill(0, at + 8, at + 8 + 16);
      name.copy(b, at + 8);
    }) },

  // Polyglots: a second format's signature where its probers look.
  polyglot('iso-8001', ascii('\x01CD001\x01'), 0x8000),
  polyglot('iso-8801', ascii('\x01CD001\x01'), 0x8800),
  polyglot('udf-9001', ascii('\x00NSR02\x01'), 0x9000),
  polyglot('mbr', Buffer.from([0x55, 0xaa]), 510),
  polyglot('gpt', Buffer.concat([Buffer.from([0x55, 0xaa]), ascii('EFI PART')]), 510),
  polyglot('vdi', Buffer.from([0x7f, 0x10, 0xda, 0xbe]), 64),
  polyglot('vhd-footer', ascii('conectix\x00\x00\x00\x02'), 'tail'),
  polyglot('dmg-footer', ascii('koly'), 'tail'),

  // Corruptions.
  { name: 'refcount-too-low', verdict: 'unsafe', codes: ['refcount-too-low'], make: (dir) => patch(plain(dir, 'rc.qcow2'), (b) => void b.writeUInt16BE(0, refcountEntry(b, dataCluster(b)))) },
  { name: 'overlapping-references', verdict: 'unsafe', codes: ['overlapping-references'], exact: true,
    // Guest cluster 0 points at its own L2 table; refcount 2 and no COPIED flags, so qemu-img check sees nothing.
    make: (dir) => patch(plain(dir, 'overlap.qcow2'), (b) => {
      const l1 = Number(b.readBigUInt64BE(40));
      const l2 = b.readBigUInt64BE(l1) & 0x00ff_ffff_ffff_fe00n;
      b.writeUInt16BE(0, refcountEntry(b, dataCluster(b)));
      b.writeBigUInt64BE(l2, l1);
      b.writeBigUInt64BE(l2, l2Entry(b, 0));
      b.writeUInt16BE(2, refcountEntry(b, Number(l2) / clusterSize(b)));
    }) },
  { name: 'reference-past-end', verdict: 'unsafe', codes: ['reference-past-end'],
    make: (dir) => patch(plain(dir, 'past.qcow2'), (b) => void b.writeBigUInt64BE((1n << 63n) | BigInt(b.length + 16 * clusterSize(b)), l2Entry(b, 0))) },
  { name: 'truncated', verdict: 'unsafe', codes: ['truncated'], exact: true,
    make: (dir) => {
      const p = plain(dir, 'cut.qcow2');
      return cut(p, Number(readU64(p, 40)));
    } },

  // Sizes out of proportion.
  { name: 'huge-l1', verdict: 'unsafe', codes: ['huge-l1'], exact: true, make: (dir) => create(dir, 'bigl1.qcow2', ['-o', 'cluster_size=512'], '40G') },
  { name: 'huge-refcount-table', verdict: 'unsafe', codes: ['huge-refcount-table'],
    make: (dir) => patch(plain(dir, 'bigrt.qcow2'), (b) => {
      const cs = clusterSize(b);
      const table = Buffer.alloc(80 * cs);
      b.copy(table, 0, Number(b.readBigUInt64BE(48)), Number(b.readBigUInt64BE(48)) + cs);
      const { buf, at } = appendAligned(b, table);
      buf.writeBigUInt64BE(BigInt(at), 48);
      buf.writeUInt32BE(80, 56);
      return buf;
    }) },
  { name: 'many-snapshots', verdict: 'unsafe', codes: ['many-snapshots'],
    make: (dir) => {
      const p = plain(dir, 'snaps.qcow2');
      run(dir, 'qemu-img', ['snapshot', '-c', 's1', 'snaps.qcow2']);
      return patch(p, (b) => {
        const at = Number(b.readBigUInt64BE(64));
        const { buf, at: table } = appendAligned(b, repeated(b, at, snapshotEntryLength(b, at), 10_001));
        buf.writeUInt32BE(10_001, 60);
        buf.writeBigUInt64BE(BigInt(table), 64);
        return buf;
      });
    } },
  { name: 'many-bitmaps', verdict: 'unsafe', codes: ['many-bitmaps'],
    make: (dir) => {
      const p = plain(dir, 'bitmaps.qcow2');
      runBitmap(dir, 'bitmaps.qcow2', []);
      return patch(p, (b) => {
        const ext = findExtension(b, BITMAPS_EXTENSION) + 8;
        const dir0 = Number(b.readBigUInt64BE(ext + 16));
        const len = bitmapEntryLength(b, dir0);
        const { buf, at } = appendAligned(b, repeated(b, dir0, len, 10_001));
        buf.writeUInt32BE(10_001, ext);
        buf.writeBigUInt64BE(BigInt(len * 10_001), ext + 8);
        buf.writeBigUInt64BE(BigInt(at), ext + 16);
        return buf;
      });
    } },
  { name: 'huge-bitmaps', verdict: 'unsafe', codes: ['huge-bitmaps'], exact: true,
    make: (dir) => (create(dir, 'bigbm.qcow2', [], '2T'), runBitmap(dir, 'bigbm.qcow2', ['-g', '512'])) },
  { name: 'compressed-oversized', verdict: 'unsafe', codes: ['compressed-oversized'],
    make: (dir) => patch(create(dir, 'comp.qcow2', [], '1M', ['write -c -P 7 0 64k', 'write -P 8 64k 64k']), (b) => {
      const at = l2Entry(b, 0);
      const shift = 62n - BigInt(b.readUInt32BE(20) - 8);
      const e = b.readBigUInt64BE(at);
      b.writeBigUInt64BE(e | (((1n << BigInt(b.readUInt32BE(20) - 8)) - 1n) << shift), at);
    }) },

  // What QEMU refuses.
  header('unknown-incompatible-bit', (b) => void (b[78]! |= 0x04), 'refused', ['unknown-incompatible-features']),
  header('unaligned-l1', (b) => void b.writeBigUInt64BE(b.readBigUInt64BE(40) + 512n, 40), 'refused', ['unaligned-table'], false),
  header('corrupt-bit', (b) => void (b[79]! |= 0x02), 'refused', ['corrupt-bit']),
  header('legacy-aes', (b) => void b.writeUInt32BE(1, 32), 'refused', ['legacy-aes']),
  { name: 'zero-offset-bitmap', verdict: 'refused', codes: ['zero-offset-bitmap'], exact: true,
    make: (dir) => {
      const p = create(dir, 'zero.qcow2');
      runBitmap(dir, 'zero.qcow2', []);
      return patch(p, (b) => {
        const at = Number(b.readBigUInt64BE(findExtension(b, BITMAPS_EXTENSION) + 8 + 16));
        b.writeBigUInt64BE(0n, at);
        b.writeUInt32BE(0, at + 8);
      });
    } },
  { name: 'truncated-header', verdict: 'refused', codes: ['truncated-header'], exact: true, make: (dir) => cut(plain(dir, 'short.qcow2'), 60) },

  // Not qcow2.
  foreign('qcow1', 'qcow', [], 'qcow1', 'qcow'),
  foreign('vmdk', 'vmdk', [], 'not-qcow2', 'vmdk'),
  foreign('vmdk-descriptor', 'vmdk', ['-o', 'subformat=monolithicFlat'], 'not-qcow2', 'vmdk-descriptor'),
  foreign('vhd', 'vpc', [], 'not-qcow2', 'vhd'),
  foreign('vhdx', 'vhdx', [], 'not-qcow2', 'vhdx'),
  foreign('vdi', 'vdi', [], 'not-qcow2', 'vdi'),
  foreign('qed', 'qed', [], 'not-qcow2', 'qed'),
  foreign('parallels', 'parallels', [], 'not-qcow2', 'parallels'),
  foreign('luks', 'luks', [...SECRET, '-o', 'key-secret=s0,iter-time=10'], 'not-qcow2', 'luks'),
  { name: 'raw-iso', verdict: 'refused', codes: ['not-qcow2'], exact: true, named: 'iso9660',
    make: (dir) => patch(create(dir, 'disc.iso', [], '64K', [], 'raw'), (b) => void ascii('\x01CD001\x01').copy(b, 0x8000)) },
];

function readU64(path: string, at: number): bigint {
  let v = 0n;
  patch(path, (b) => void (v = b.readBigUInt64BE(at)));
  return v;
}

function runBitmap(dir: string, name: string, args: readonly string[]): string {
  run(dir, 'qemu-img', ['bitmap', '--add', ...args, name, 'b0']);
  return `${dir}/${name}`;
}

// craft.mjs — qcow2 samples that qemu-img will not write: copy a qemu-made image and
// patch a few bytes. Plain Node ESM, no dependencies; make.sh runs it after the base
// images exist. All qcow2 integers are big-endian. Usage: node craft.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OFFSET_MASK = 0x00fffffffffffe00n; // bits 9..55 of L1/L2/bitmap-table entries
const BITMAPS_EXT = 0x23852875;

class Qcow2 {
  constructor(file) {
    const b = (this.buf = readFileSync(join(here, file)));
    if (b.readUInt32BE(0) !== 0x514649fb) throw new Error(`${file}: not qcow2`);
    this.version = b.readUInt32BE(4);
    this.cs = 2 ** b.readUInt32BE(20); // cluster size
    this.l1Size = b.readUInt32BE(36);
    this.l1Offset = this.u64(40);
    this.rtOffset = this.u64(48); // refcount table
    this.refcountBits = this.version >= 3 ? 2 ** b.readUInt32BE(96) : 16;
    this.headerLength = this.version >= 3 ? b.readUInt32BE(100) : 72;
  }
  u64(off) { return Number(this.buf.readBigUInt64BE(off)); } // offsets fit in 2^53
  setU64(off, v) { this.buf.writeBigUInt64BE(BigInt(v), off); }
  entryOffset(off) { return Number(this.buf.readBigUInt64BE(off) & OFFSET_MASK); }

  // Header extensions follow the header: u32 type, u32 length, data padded to 8; type 0 ends.
  extension(type) {
    for (let p = this.headerLength; p + 8 <= this.cs; ) {
      const t = this.buf.readUInt32BE(p), len = this.buf.readUInt32BE(p + 4);
      if (t === 0) break;
      if (t === type) return p + 8;
      p += 8 + Math.ceil(len / 8) * 8;
    }
    throw new Error(`no header extension 0x${type.toString(16)}`);
  }

  // Bitmap directory entries: 24 fixed bytes, extra data, name; padded to 8.
  bitmaps() {
    const ext = this.extension(BITMAPS_EXT);
    const count = this.buf.readUInt32BE(ext);
    let p = this.u64(ext + 16); // directory_offset (after nb_bitmaps, reserved, directory_size)
    const list = [];
    for (let i = 0; i < count; i++) {
      const nameSize = this.buf.readUInt16BE(p + 18), extra = this.buf.readUInt32BE(p + 20);
      list.push({
        entry: p, // file offset of the directory entry
        tableOffset: this.u64(p),
        tableSize: this.buf.readUInt32BE(p + 8),
        name: this.buf.toString('utf8', p + 24 + extra, p + 24 + extra + nameSize),
      });
      p += Math.ceil((24 + extra + nameSize) / 8) * 8;
    }
    return list;
  }
  bitmap(name) {
    const bm = this.bitmaps().find((b) => b.name === name);
    if (!bm) throw new Error(`no bitmap ${name}`);
    return bm;
  }

  // Refcount of host cluster `c`: table entry -> block, then an entry of refcountBits bits.
  // Widths below 8 bits pack LSB first inside a byte; 8..64 are big-endian bytes.
  refcountSlot(c) {
    const perBlock = (this.cs * 8) / this.refcountBits;
    const block = this.entryOffset(this.rtOffset + 8 * Math.floor(c / perBlock));
    if (!block) throw new Error(`cluster ${c}: no refcount block`);
    return { block, bit: (c % perBlock) * this.refcountBits };
  }
  refcount(c) {
    const { block, bit } = this.refcountSlot(c), w = this.refcountBits;
    if (w < 8) return (this.buf[block + (bit >> 3)] >> (bit & 7)) & ((1 << w) - 1);
    let v = 0;
    for (let i = 0; i < w / 8; i++) v = v * 256 + this.buf[block + bit / 8 + i];
    return v;
  }
  setRefcount(c, v) {
    const { block, bit } = this.refcountSlot(c), w = this.refcountBits;
    if (w < 8) {
      const at = block + (bit >> 3), mask = ((1 << w) - 1) << (bit & 7);
      this.buf[at] = (this.buf[at] & ~mask) | ((v << (bit & 7)) & mask);
      return;
    }
    for (let i = w / 8 - 1; i >= 0; i--, v = Math.floor(v / 256)) this.buf[block + bit / 8 + i] = v % 256;
  }

  // Host offset of the first normal (uncompressed, allocated) data cluster of the active L1.
  firstDataCluster() {
    for (let i = 0; i < this.l1Size; i++) {
      const l2 = this.entryOffset(this.l1Offset + 8 * i);
      for (let j = 0; l2 && j < this.cs / 8; j++) {
        const e = this.buf.readBigUInt64BE(l2 + 8 * j);
        if (!(e & (1n << 62n)) && e & OFFSET_MASK) return Number(e & OFFSET_MASK);
      }
    }
    throw new Error('no data cluster');
  }

  save(file) {
    writeFileSync(join(here, file), this.buf);
    console.log(`craft.mjs: wrote ${file}`);
  }
}

// --- seed: "empty" gets bitmap_table_offset 0 / size 0; its table cluster is freed.
{
  const img = new Qcow2('seed-base.qcow2');
  const bm = img.bitmap('empty');
  img.setRefcount(bm.tableOffset / img.cs, 0);
  img.setU64(bm.entry, 0); // bitmap_table_offset
  img.buf.writeUInt32BE(0, bm.entry + 8); // bitmap_table_size
  img.save('seed-zero-offset-bitmap.qcow2');
}

// --- seed: every entry of "fine"'s bitmap table becomes 1 ("all ones", no data cluster);
// the data clusters it pointed at are freed (refcount 0). The table itself stays.
{
  const img = new Qcow2('seed-base.qcow2');
  const bm = img.bitmap('fine');
  for (let i = 0; i < bm.tableSize; i++) {
    const at = bm.tableOffset + 8 * i, data = img.entryOffset(at);
    if (data) img.setRefcount(data / img.cs, 0);
    img.setU64(at, 1);
  }
  img.save('seed-all-ones-bitmap.qcow2');
}

// --- the patch's open question: bitmap_table_offset 1 (size 0) = "all bits set" for
// "nightly"; its table cluster and data clusters are freed.
{
  const img = new Qcow2('seed-base.qcow2');
  const bm = img.bitmap('nightly');
  for (let i = 0; i < bm.tableSize; i++) {
    const data = img.entryOffset(bm.tableOffset + 8 * i);
    if (data) img.setRefcount(data / img.cs, 0);
  }
  img.setRefcount(bm.tableOffset / img.cs, 0);
  img.setU64(bm.entry, 1);
  img.buf.writeUInt32BE(0, bm.entry + 8);
  img.save('seed-offset-one-bitmap.qcow2');
}

// --- leaks: the header cluster's refcount goes 1 -> 2, and one cluster appended at the
// end of the file gets refcount 1 with nothing referencing it (a crash after allocation).
{
  const img = new Qcow2('v3.qcow2');
  img.setRefcount(0, img.refcount(0) + 1);
  const end = Math.ceil(img.buf.length / img.cs) * img.cs;
  img.buf = Buffer.concat([img.buf, Buffer.alloc(end + img.cs - img.buf.length, 0x6c)]);
  img.setRefcount(end / img.cs, 1);
  img.save('leak.qcow2');
}

// --- corruption: the first data cluster's refcount drops 1 -> 0 while L2 still uses it.
{
  const img = new Qcow2('v3.qcow2');
  img.setRefcount(img.firstDataCluster() / img.cs, 0);
  img.save('corrupt-refcount.qcow2');
}

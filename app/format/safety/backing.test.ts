// How backing names are read (QEMU's path_has_protocol and path resolution), and the signature
// scan's offsets, on hand-written bytes (the crafted images in safety.test.ts cover them end to end).

import { describe, expect, it } from 'vitest';
import { classifyBackingName } from './backing';
import { findSignatures } from './signatures';

describe('classifyBackingName', () => {
  it.each([
    ['base.qcow2', 'relative'], ['images/base.qcow2', 'relative'], ['a/../base.qcow2', 'relative'], ['./base', 'relative'],
    ['../base.qcow2', 'escapes'], ['a/../../b', 'escapes'], ['/var/lib/images/base', 'absolute'],
    ['json:{"file.filename":"/etc/passwd"}', 'json'], ['nbd://h:10809/x', 'protocol'], ['file:/etc/passwd', 'protocol'],
    // A ':' after a '/' is part of a path, as in QEMU.
    ['dir/a:b', 'relative'], ['/abs/x:y', 'absolute'],
  ])('%s is %s', (name, kind) => {
    expect(classifyBackingName(name).kind).toBe(kind);
  });
  it('names the protocol', () => {
    expect(classifyBackingName('https://x/y').protocol).toBe('https');
  });
});

describe('findSignatures', () => {
  const head = (n = 40 * 1024) => new Uint8Array(n);
  it('finds ISO at each of its offsets, MBR/GPT, VDI, and footers only in the last 512 bytes', () => {
    const b = head();
    b.set([0x51, 0x46, 0x49, 0xfb]);
    for (const at of [0x8801, 0x9001]) b.set([...'CD001'].map((c) => c.charCodeAt(0)), at);
    b.set([0x55, 0xaa], 510);
    const tail = new Uint8Array(512);
    tail.set([...'conectix'].map((c) => c.charCodeAt(0)));
    const sigs = findSignatures(b, tail, 1 << 20);
    expect(sigs.map((s) => [s.format, s.offset])).toEqual([['qcow', 0], ['iso9660', 0x8801], ['iso9660', 0x9001], ['partition-table', 510], ['vhd', (1 << 20) - 512]]);
  });
  it('a magic one byte off is not a signature; a short file has no tail footer', () => {
    const b = head();
    b.set([...'CD001'].map((c) => c.charCodeAt(0)), 0x8002);
    expect(findSignatures(b, new Uint8Array(100), 100)).toEqual([]);
  });
});

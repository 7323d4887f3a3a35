// Hostile strings and numbers for the fuzzer and the hardening tests: names that are markup,
// control characters, bidi overrides, NULs and invalid UTF-8 (an image's names are shown by the
// page and printed by the CLI), and the boundary values a 1-, 2-, 4- or 8-byte field is tried with.

const utf8 = new TextEncoder();

/** The name every XSS test looks for: shown as text, it must never become an element. */
export const MARKUP_NAME = '<img src=x onerror=alert(1)>';

/** Names as byte strings: most are UTF-8 text, a few are deliberately not valid UTF-8. */
export const HOSTILE_NAMES: readonly Uint8Array[] = [
  MARKUP_NAME,
  '<script>alert(1)</script>',
  '"><svg onload=alert(1)>',
  "'; alert(1); '",
  'javascript:alert(1)',
  '{{constructor.constructor("alert(1)")()}}',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '\u202egpj.exe',
  'a\u2066b\u2069c\u200f\u200e\u061c',
  '\x1b[31mred\x1b[0m\x1b]0;title\x07',
  '\r\nSet-Cookie: x=1\r\n',
  'tab\there\vand\ffeed',
  '%s%n%x%p',
  '\u0000',
  'nul\u0000inside',
  '\ufeff\ufffe\uffff',
  '😀👩‍👩‍👧‍👦',
  'x'.repeat(1023),
  '<'.repeat(46),
].map((s) => utf8.encode(s)).concat([
  Uint8Array.of(0xff, 0xfe, 0xfd),
  Uint8Array.of(0xc0, 0x80, 0xc0, 0xaf),
  Uint8Array.of(0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf),
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
  Uint8Array.of(0xe2, 0x80),
  Uint8Array.of(0x3c, 0x00, 0x73, 0x00, 0x63, 0x00),
  Uint8Array.from({ length: 32 }, (_, i) => i),
  Uint8Array.of(0x7f, 0x80, 0x9f, 0xa0),
]);

export const U64_MAX = (1n << 64n) - 1n;

/** Boundary values for a field `bytes` wide (before truncation to its width). */
export function boundaryValues(bytes: 1 | 2 | 4 | 8): bigint[] {
  const top = (1n << BigInt(bytes * 8)) - 1n;
  const common = [0n, 1n, 2n, 7n, 8n, 9n, 16n, 63n, 64n, 255n, top, top - 1n, top >> 1n, (top >> 1n) + 1n];
  if (bytes === 1) return common;
  const wide = [511n, 512n, 513n, 1023n, 1024n, 1025n, 4096n, 65535n, 65536n, 65537n];
  if (bytes === 2) return common.concat(wide);
  const u32 = [0x7fff_ffffn, 0x8000_0000n, 0xffff_fffen, 0xffff_ffffn, 0x2000_0000n, 0x0040_0000n, 0x0040_0001n, 0x0010_0000n, 0x0800_0000n];
  if (bytes === 4) return common.concat(wide, u32);
  return common.concat(wide, u32, [
    0x1_0000_0000n, 0x1_0000_0200n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 512n, (1n << 56n) - 512n, 1n << 56n,
    1n << 62n, 1n << 63n, (1n << 63n) + 512n, U64_MAX - 511n,
  ]);
}

/** Field-specific values, tried in addition to the generic ones (names as in locate.ts). */
export const FIELD_VALUES: Readonly<Record<string, readonly bigint[]>> = {
  'header.magic': [0n, 0x514649fan, 0x514649fbn, 0x4b444d56n],
  'header.version': [0n, 1n, 2n, 3n, 4n, 0xffff_ffffn],
  'header.cluster_bits': [0n, 8n, 9n, 12n, 14n, 16n, 20n, 21n, 22n, 30n, 31n, 32n, 63n, 64n],
  'header.crypt_method': [0n, 1n, 2n, 3n],
  'header.refcount_order': [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 64n],
  'header.header_length': [0n, 72n, 100n, 103n, 104n, 105n, 108n, 112n, 4096n, 65536n, 65544n],
  'header.compression_type': [0n, 1n, 2n],
  'header.nb_snapshots': [65535n, 65536n, 65537n],
  'header.l1_size': [0x40_0000n, 0x40_0001n, 0x8000_0000n],
  'header.refcount_table_clusters': [128n, 129n, 0x10_0000n],
  'header.incompatible_features': [1n, 2n, 4n, 8n, 16n, 32n, 0x1fn, 1n << 63n],
  'header.autoclear_features': [1n, 2n, 3n],
  'header.compatible_features': [1n],
};

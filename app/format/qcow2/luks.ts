// The LUKS v1 header that qcow2's full disk encryption extension points at (spec: "Full disk
// encryption header pointer"; layout from the LUKS 1.2 on-disk format, as QEMU's
// crypto/block-luks.c reads it). No key is needed: this is what `qemu-img info` shows without one.
// Also QEMU 7.2's header checks (qcrypto_block_luks_check_header / _parse_header), reported as
// 'QEMU_REFUSES' findings in QEMU's wording.

import { Findings } from './errors';
import type { LuksHeader, LuksKeySlot } from './model';
import { Reader, decodeCString } from './reader';

export const LUKS_HEADER_BYTES = 592;
const LUKS_KEY_SLOTS = 8;
export const LUKS_SLOT_ENABLED = 0x00ac71f3;
const LUKS_SLOT_DISABLED = 0x0000dead;
const LUKS_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]; // "LUKS\xba\xbe"
const LUKS_STRIPES = 4000;
const SECTOR = 512;
/** Key slots start at byte 4096: the header occupies the first 8 sectors. */
const HEADER_SECTORS = 8;

/** Names QEMU reports for a LUKS header (QCryptoBlockInfoLUKS). */
export interface LuksAlgorithms {
  readonly cipherAlg: string;
  readonly cipherMode: string;
  readonly ivgenAlg: string;
  /** Only for the essiv IV generator. */
  readonly ivgenHashAlg: string | null;
  readonly hashAlg: string;
}

const CIPHER_SIZES: Record<string, Record<number, string>> = {
  aes: { 16: 'aes-128', 24: 'aes-192', 32: 'aes-256' },
  cast5: { 16: 'cast5-128' },
  serpent: { 16: 'serpent-128', 24: 'serpent-192', 32: 'serpent-256' },
  twofish: { 16: 'twofish-128', 24: 'twofish-192', 32: 'twofish-256' },
  sm4: { 16: 'sm4' },
};
const CIPHER_MODES = new Set(['ecb', 'cbc', 'xts', 'ctr']);
const HASH_DIGEST: Record<string, number> = { md5: 16, sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64, ripemd160: 20 };
const IVGENS = new Set(['plain', 'plain64', 'essiv']);

/** The 8 raw key-slot 'active' words and the raw header fields QEMU checks. */
interface RawLuks {
  readonly magicOk: boolean;
  readonly cipherNameTerminated: boolean;
  readonly cipherModeTerminated: boolean;
  readonly hashSpecTerminated: boolean;
  readonly activeWords: readonly number[];
}

/**
 * Parses the LUKS header from `bytes` (the first bytes of the LUKS header area, zero-filled where
 * the file ends, as QEMU reads them). `offset`/`length` are the area the extension names.
 * Adds QEMU_REFUSES findings for each reason QEMU 7.2 would refuse it.
 */
export function parseLuksHeader(bytes: Uint8Array, offset: number, length: number, f: Findings): LuksHeader | null {
  const structure = 'LUKS header';
  const refuse = (at: number, msg: string) => f.error('QEMU_REFUSES', structure, offset + at, msg);
  if (length < LUKS_HEADER_BYTES) refuse(0, 'Request for data outside of extension header');
  if (bytes.length < LUKS_HEADER_BYTES) {
    f.error('LUKS_TRUNCATED', structure, offset, `the LUKS header needs ${LUKS_HEADER_BYTES} bytes, only ${bytes.length} were read`);
    return null;
  }
  const r = new Reader(bytes.subarray(0, LUKS_HEADER_BYTES), offset, structure);
  const slots: LuksKeySlot[] = [];
  const activeWords: number[] = [];
  for (let i = 0; i < LUKS_KEY_SLOTS; i++) {
    const at = 208 + 48 * i;
    const active = r.u32(at);
    activeWords.push(active);
    slots.push({ index: i, active: active === LUKS_SLOT_ENABLED, iterations: r.u32(at + 4), keyMaterialOffset: r.u32(at + 40), stripes: r.u32(at + 44) });
  }
  const terminated = (at: number) => r.slice(at, 32).includes(0);
  const h: LuksHeader = {
    offset,
    length,
    version: r.u16(6),
    cipherName: decodeCString(r.slice(8, 32)),
    cipherMode: decodeCString(r.slice(40, 32)),
    hashSpec: decodeCString(r.slice(72, 32)),
    payloadOffset: r.u32(104),
    keyBytes: r.u32(108),
    masterKeyIterations: r.u32(164),
    uuid: decodeCString(r.slice(168, 40)),
    slots,
  };
  const raw: RawLuks = {
    magicOk: LUKS_MAGIC.every((b, i) => bytes[i] === b),
    cipherNameTerminated: terminated(8),
    cipherModeTerminated: terminated(40),
    hashSpecTerminated: terminated(72),
    activeWords,
  };
  const problem = checkLuksHeader(h, raw) ?? parseLuksAlgorithms(h).error;
  if (problem) refuse(problem.at, problem.message);
  return h;
}

/**
 * Sectors a key slot's anti-forensic material takes, rounded up to the header size (as cryptsetup),
 * with QEMU's unsigned 32-bit arithmetic (key_bytes * stripes wraps; so does the result).
 */
function splitKeySectors(keyBytes: number, stripes: number): number {
  const bytes = (BigInt(keyBytes) * BigInt(stripes)) & 0xffff_ffffn;
  const sectors = (bytes + BigInt(SECTOR) - 1n) / BigInt(SECTOR);
  return Number(((sectors + BigInt(HEADER_SECTORS) - 1n) / BigInt(HEADER_SECTORS)) * BigInt(HEADER_SECTORS)) >>> 0;
}
/** `a + b` in C unsigned int. */
const addU32 = (a: number, b: number): number => (a + b) >>> 0;

/** QEMU's qcrypto_block_luks_check_header: the first problem, or null. */
function checkLuksHeader(h: LuksHeader, raw: RawLuks): { at: number; message: string } | null {
  if (!raw.magicOk) return { at: 0, message: 'Volume is not in LUKS format' };
  if (h.version !== 1) return { at: 6, message: `LUKS version ${h.version} is not supported` };
  if (!raw.cipherNameTerminated) return { at: 8, message: 'LUKS header cipher name is not NUL terminated' };
  if (!raw.cipherModeTerminated) return { at: 40, message: 'LUKS header cipher mode is not NUL terminated' };
  if (!raw.hashSpecTerminated) return { at: 72, message: 'LUKS header hash spec is not NUL terminated' };
  if (h.payloadOffset < HEADER_SECTORS) return { at: 104, message: 'LUKS payload is overlapping with the header' };
  if (h.masterKeyIterations === 0) return { at: 164, message: 'LUKS key iteration count is zero' };
  for (const s of h.slots) {
    const at = 208 + 48 * s.index;
    const i = s.index;
    if (s.stripes !== LUKS_STRIPES) return { at: at + 44, message: `Keyslot ${i} is corrupted (stripes ${s.stripes | 0} != ${LUKS_STRIPES})` };
    const word = raw.activeWords[i];
    if (word !== LUKS_SLOT_DISABLED && word !== LUKS_SLOT_ENABLED) return { at, message: `Keyslot ${i} state (active/disable) is corrupted` };
    if (s.active && s.iterations === 0) return { at: at + 4, message: `Keyslot ${i} iteration count is zero` };
    const start = s.keyMaterialOffset;
    const len = splitKeySectors(h.keyBytes, s.stripes);
    if (start < HEADER_SECTORS) return { at: at + 40, message: `Keyslot ${i} is overlapping with the LUKS header` };
    if (addU32(start, len) > h.payloadOffset) return { at: at + 40, message: `Keyslot ${i} is overlapping with the encrypted payload` };
    for (const t of h.slots.slice(i + 1)) {
      const start2 = t.keyMaterialOffset;
      const len2 = splitKeySectors(h.keyBytes, t.stripes);
      if (addU32(start, len) > start2 && addU32(start2, len2) > start) return { at: at + 40, message: `Keyslots ${i} and ${t.index} are overlapping in the header` };
    }
  }
  return null;
}

/**
 * QEMU's qcrypto_block_luks_parse_header: splits cipher_mode "<mode>-<ivgen>[:<hash>]" and maps
 * names to QEMU's algorithm names, or says why QEMU refuses them.
 */
export function parseLuksAlgorithms(h: LuksHeader): { algorithms: LuksAlgorithms | null; error: { at: number; message: string } | null } {
  const fail = (at: number, message: string) => ({ algorithms: null, error: { at, message } });
  const dash = h.cipherMode.indexOf('-');
  if (dash < 0) return fail(40, `Unexpected cipher mode string format '${h.cipherMode}'`);
  const mode = h.cipherMode.slice(0, dash);
  let ivgen = h.cipherMode.slice(dash + 1);
  let ivhash: string | null = null;
  const colon = ivgen.indexOf(':');
  if (colon >= 0) {
    ivhash = ivgen.slice(colon + 1);
    ivgen = ivgen.slice(0, colon);
    if (!(ivhash in HASH_DIGEST)) return fail(40, `Hash algorithm '${ivhash}' not supported`);
  }
  if (!CIPHER_MODES.has(mode)) return fail(40, `Cipher mode '${mode}' not supported`);
  const keyBytes = mode === 'xts' ? Math.floor(h.keyBytes / 2) : h.keyBytes;
  const cipherAlg = CIPHER_SIZES[h.cipherName]?.[keyBytes];
  if (!cipherAlg) return fail(8, `Algorithm '${h.cipherName}' with key size ${keyBytes} bytes not supported`);
  if (!(h.hashSpec in HASH_DIGEST)) return fail(72, `Hash algorithm '${h.hashSpec}' not supported`);
  if (!IVGENS.has(ivgen)) return fail(40, `IV generator '${ivgen}' not supported`);
  if (ivgen === 'essiv') {
    if (ivhash === null) return fail(40, 'Missing IV generator hash specification');
    const problem = essivProblem(h.cipherName, cipherAlg, HASH_DIGEST[ivhash] ?? 0);
    if (problem) return fail(40, problem);
  }
  return {
    algorithms: { cipherAlg, cipherMode: mode, ivgenAlg: ivgen, ivgenHashAlg: ivgen === 'essiv' ? ivhash : null, hashAlg: h.hashSpec },
    error: null,
  };
}

/** The ESSIV cipher needs a key as long as the hash digest (qcrypto_block_luks_essiv_cipher). */
function essivProblem(cipherName: string, cipherAlg: string, digestLen: number): string | null {
  const sizes = CIPHER_SIZES[cipherName] ?? {};
  if (sizes[digestLen] === cipherAlg) return null;
  const family: Record<string, string> = { aes: 'AES', serpent: 'Serpent', twofish: 'Twofish' };
  const name = family[cipherName];
  if (!name) return `Cipher ${cipherAlg} not supported with essiv`;
  return sizes[digestLen] ? null : `No ${name} cipher with key size ${digestLen} available`;
}

import { describe, expect, it } from 'vitest';
import { ROLE_COUNT, ROLE_INFO, Role, type RoleInfo } from '../format';
import { BACKGROUND, ROLE_COLOR, packRgba, patternTile, rgb } from './palette';

// Colour-vision-deficiency simulation (Machado, Oliveira & Fernandes 2009, severity 1.0) on linear
// sRGB, then CIELAB distance (ΔE*76) under D65.
const CVD: Readonly<Record<string, readonly number[]>> = {
  normal: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  protan: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
  deutan: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
  tritan: [1.255528, -0.076749, -0.178779, -0.078411, 0.930809, 0.147602, 0.004733, 0.691367, 0.3039],
};

function lab(css: string, vision: string): [number, number, number] {
  const lin = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = rgb(css).map(lin) as [number, number, number];
  const m = CVD[vision]!;
  const cl = (v: number) => Math.min(1, Math.max(0, v));
  const R = cl(m[0]! * r + m[1]! * g + m[2]! * b);
  const G = cl(m[3]! * r + m[4]! * g + m[5]! * b);
  const B = cl(m[6]! * r + m[7]! * g + m[8]! * b);
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const X = f((0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047);
  const Y = f(0.2126 * R + 0.7152 * G + 0.0722 * B);
  const Z = f((0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883);
  return [116 * Y - 16, 500 * (X - Y), 200 * (Y - Z)];
}

function deltaE(a: string, b: string, vision = 'normal'): number {
  const p = lab(a, vision);
  const q = lab(b, vision);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** Roles that cover most of a typical image: a damage cluster must stand out against these. */
const COMMON = new Set<number>([
  Role.DATA, Role.DATA_SHARED, Role.DATA_SNAPSHOT, Role.COMPRESSED, Role.FREE, Role.TAIL,
  Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED, Role.REFCOUNT_BLOCK, Role.BITMAP_DATA,
]);
const color = (r: RoleInfo) => ROLE_COLOR[r.id]!;
const damage = ROLE_INFO.filter((r) => r.damage);
const plain = ROLE_INFO.filter((r) => !r.damage);

function worst(pairs: [RoleInfo, RoleInfo][], vision: string): { d: number; what: string } {
  let w = { d: Infinity, what: '' };
  for (const [a, b] of pairs) {
    const d = deltaE(color(a), color(b), vision);
    if (d < w.d) w = { d, what: `${a.key}/${b.key}` };
  }
  return w;
}

describe('palette', () => {
  it('has a valid colour for every role and no two roles alike (ΔE ≥ 16)', () => {
    expect(ROLE_COLOR).toHaveLength(ROLE_COUNT);
    for (const c of ROLE_COLOR) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    const pairs = ROLE_INFO.flatMap((a, i) => ROLE_INFO.slice(i + 1).map((b) => [a, b] as [RoleInfo, RoleInfo]));
    const w = worst(pairs, 'normal');
    expect(w.d, w.what).toBeGreaterThanOrEqual(16);
  });

  it('sets damage far apart from every other role (ΔE ≥ 45)', () => {
    const w = worst(damage.flatMap((a) => plain.map((b) => [a, b] as [RoleInfo, RoleInfo])), 'normal');
    expect(w.d, w.what).toBeGreaterThanOrEqual(45);
  });

  it('keeps damage apart from the common roles for colour-blind readers', () => {
    const pairs = damage.flatMap((a) => plain.filter((b) => COMMON.has(b.id)).map((b) => [a, b] as [RoleInfo, RoleInfo]));
    for (const [vision, min] of [['protan', 20], ['deutan', 20], ['tritan', 25]] as const) {
      const w = worst(pairs, vision);
      expect(w.d, `${vision} ${w.what}`).toBeGreaterThanOrEqual(min);
    }
  });

  it('keeps the common roles apart from one another for colour-blind readers (ΔE ≥ 9)', () => {
    const common = plain.filter((r) => COMMON.has(r.id));
    const pairs = common.flatMap((a, i) => common.slice(i + 1).map((b) => [a, b] as [RoleInfo, RoleInfo]));
    for (const vision of ['protan', 'deutan', 'tritan']) {
      const w = worst(pairs, vision);
      expect(w.d, `${vision} ${w.what}`).toBeGreaterThanOrEqual(9);
    }
  });

  it('draws every role visibly on the background (ΔE ≥ 35)', () => {
    for (const r of ROLE_INFO) expect(deltaE(color(r), BACKGROUND), r.key).toBeGreaterThanOrEqual(35);
  });

  it('gives each damage role its own pattern, and no other role one', () => {
    const tiles = damage.map((r) => patternTile(r.id));
    for (const t of tiles) {
      expect(t).not.toBeNull();
      const ink = t!.reduce((a, b) => a + b, 0);
      expect(ink).toBeGreaterThan(4);
      expect(ink).toBeLessThan(40);
    }
    const keys = tiles.map((t) => t!.join(''));
    expect(new Set(keys).size).toBe(damage.length);
    for (const r of plain) expect(patternTile(r.id)).toBeNull();
  });

  it('packs colours in ImageData byte order', () => {
    const px = new Uint8Array(new Uint32Array([packRgba(0x12, 0x34, 0x56, 0xff, true)]).buffer);
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) expect([...px]).toEqual([0x12, 0x34, 0x56, 0xff]);
    expect(packRgba(0x12, 0x34, 0x56, 0xff, false)).toBe(0x123456ff);
  });
});

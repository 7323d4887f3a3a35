// Which qemu-img's output we reproduce: a profile per supported release. 7.2 is Debian 12's; 10.0 is
// what current distributions ship (and bookworm-backports). Between them qemu-img's info gained the
// file node under "children" (and a "Child node '/file':" block), LUKS's "detached-header" (9.0) and
// a new snapshot table layout; map gained a "compressed" key and stopped merging ranges across
// compressed/uncompressed boundaries. Each difference lives in its own small file here.

export type QemuVersion = '7.2' | '10.0';

export const QEMU_VERSIONS: readonly QemuVersion[] = ['7.2', '10.0'];

/** The profile the page uses when the user has not chosen one. */
export const DEFAULT_QEMU_VERSION: QemuVersion = '10.0';

export function isQemuVersion(v: string): v is QemuVersion {
  return (QEMU_VERSIONS as readonly string[]).includes(v);
}

/**
 * The profile closest to a qemu-img release: "qemu-img version 7.2.22 (Debian …)" → '7.2'. Releases
 * before 8.0 print as 7.2 does; 8.0 and later are nearer 10.0 (8.0 brought the children list).
 * Null when the text names no version.
 */
export function profileForBanner(banner: string): QemuVersion | null {
  const m = /version (\d+)\.(\d+)/.exec(banner);
  if (!m) return null;
  return Number(m[1]) < 8 ? '7.2' : '10.0';
}

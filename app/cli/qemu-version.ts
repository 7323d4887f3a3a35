// The CLI's default --qemu-version: the profile of the qemu-img on PATH (from `qemu-img --version`),
// else 10.0, what current distributions ship.

import { DEFAULT_QEMU_VERSION, profileForBanner, type QemuVersion } from '../format';
import { nodeBuiltin } from './builtin';

let detected: QemuVersion | undefined;

/** The profile of the installed qemu-img, or 10.0 when there is none (asked once per process). */
export function defaultQemuVersion(): QemuVersion {
  if (detected === undefined) {
    // Loaded here, not at start: child_process brings much of Node's networking and streams with it.
    const { spawnSync } = nodeBuiltin('node:child_process');
    const r = spawnSync('qemu-img', ['--version'], { encoding: 'utf8', timeout: 10_000 });
    detected = (r.status === 0 && typeof r.stdout === 'string' ? profileForBanner(r.stdout) : null) ?? DEFAULT_QEMU_VERSION;
  }
  return detected;
}

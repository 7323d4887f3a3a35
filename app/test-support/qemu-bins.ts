// Test helper: the qemu-img binaries the differential tests compare against, one per profile.
// 7.2 is the qemu-img on PATH (Debian 12's qemu-utils) when it is 7.2; 10.0 is $QEMU_IMG_10, else
// /opt/qemu10/usr/bin/qemu-img (bookworm-backports' qemu-utils unpacked there, as .ci/run does).
// Tests gate on `available` with describe.runIf: a missing binary skips them, visibly.

import { spawnSync } from 'node:child_process';
import { profileForBanner, type QemuVersion } from '../format/qemu-img/version';

export interface QemuBin {
  readonly version: QemuVersion;
  /** The qemu-img executable (a path, or a name looked up on PATH). */
  readonly qemuImg: string;
  /** Whether it runs and is the release the profile stands for. */
  readonly available: boolean;
}

function probe(version: QemuVersion, qemuImg: string): QemuBin {
  const r = spawnSync(qemuImg, ['--version'], { encoding: 'utf8' });
  const banner = r.status === 0 ? r.stdout : '';
  const exact = new RegExp(`^qemu-img version ${version.replace('.', '\\.')}\\.`, 'm').test(banner);
  return { version, qemuImg, available: exact && profileForBanner(banner) === version };
}

/** Where qemu-img 10.0 is looked for. */
export const qemuImg10Path = (): string => process.env.QEMU_IMG_10 || '/opt/qemu10/usr/bin/qemu-img';

export const QEMU_7_2: QemuBin = probe('7.2', 'qemu-img');
export const QEMU_10_0: QemuBin = probe('10.0', qemuImg10Path());

/** Both profiles' binaries, 7.2 first. */
export const QEMU_BINS: readonly QemuBin[] = [QEMU_7_2, QEMU_10_0];

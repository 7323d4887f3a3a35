// Runs first in `npm test`: says exactly how to install a tool the tests need when it is missing.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const problems = [];
const has = (cmd) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (!existsSync('/usr/bin/chromium') && !process.env.PLAYWRIGHT_CHROMIUM) {
  problems.push('Chromium is missing (browser tests need it): sudo apt-get install -y chromium');
}
if (!has('qemu-img') || !has('qemu-io')) {
  problems.push('qemu-img/qemu-io are missing (differential tests need them): sudo apt-get install -y qemu-utils');
}
if (!existsSync('node_modules')) problems.push('Dependencies are not installed: npm ci');
// qemu-img 10.0 is optional: the tests that need it are skipped (describe.runIf); CI installs it.
const qemu10 = process.env.QEMU_IMG_10 || '/opt/qemu10/usr/bin/qemu-img';
if (!has(qemu10)) {
  console.warn(`warning: no qemu-img 10.0 at ${qemu10} (set QEMU_IMG_10 to use another); the tests against it are skipped.\n`
    + '  To get it beside 7.2 (as .ci/run does): add the bookworm-backports suite to apt\'s sources, then\n'
    + '  apt-get update && apt-get download qemu-utils/bookworm-backports && dpkg -x qemu-utils_*.deb /opt/qemu10');
}
if (problems.length) {
  console.error('npm test cannot run yet:\n  - ' + problems.join('\n  - '));
  process.exit(1);
}

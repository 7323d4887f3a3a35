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
if (problems.length) {
  console.error('npm test cannot run yet:\n  - ' + problems.join('\n  - '));
  process.exit(1);
}

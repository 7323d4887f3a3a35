// `npm test`: every check in order — preflight, typecheck, lint, build, unit and differential tests
// (Vitest), browser tests (Playwright) — each step's wall time as it ends, then a table of the
// steps' times with the total, and one closing line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const steps = [
  ['preflight', 'node', ['tools/scripts/preflight.mjs']],
  ['typecheck', 'npm', ['run', '-s', 'typecheck']],
  ['lint', 'npm', ['run', '-s', 'lint']],
  ['build', 'npm', ['run', '-s', 'build']],
  ['unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.cache/vitest.json']],
  ['e2e', 'npx', ['playwright', 'test', '--reporter=list,json']],
];
mkdirSync('.cache', { recursive: true });
let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;
const times = [];
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const started = performance.now();
for (const [name, cmd, args] of steps) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const env = { ...process.env };
  if (name === 'e2e') env.PLAYWRIGHT_JSON_OUTPUT_NAME = '.cache/playwright.json';
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  const ms = performance.now() - t0;
  times.push([name, ms]);
  console.log(`=== ${name}: ${secs(ms)}`);
  if (name === 'unit' && existsSync('.cache/vitest.json')) {
    const j = JSON.parse(readFileSync('.cache/vitest.json', 'utf8'));
    passed += j.numPassedTests ?? 0;
    failed += j.numFailedTests ?? 0;
    skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  }
  if (name === 'e2e' && existsSync('.cache/playwright.json')) {
    const s = JSON.parse(readFileSync('.cache/playwright.json', 'utf8')).stats ?? {};
    passed += (s.expected ?? 0) + (s.flaky ?? 0);
    failed += s.unexpected ?? 0;
    skipped += s.skipped ?? 0;
  }
  if (r.status !== 0) {
    console.error(`\n${name} failed (exit ${r.status ?? r.signal})`);
    ok = false;
    if (!['unit', 'e2e'].includes(name)) break;
    failed += failed === 0 ? 1 : 0;
  }
}
console.log('\n=== time per step');
for (const [name, ms] of times) console.log(`${name.padEnd(10)} ${secs(ms).padStart(8)}`);
console.log(`${'total'.padEnd(10)} ${secs(performance.now() - started).padStart(8)}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && passed > 0 ? 0 : 1);

// `node tools/scripts/report-diff.mjs save|compare DIR [--cli FILE] [IMAGE...]`: proves a change to
// the engine or the CLI left its output byte-identical. `save` runs the CLI's `report --output=json`,
// `report` (Markdown), `check --output=json` and `map --output=json` on every image in sample-images/
// and on each IMAGE given (a bench image, say), and writes the outputs and exit codes to DIR;
// `compare` runs the same again and compares byte for byte with DIR, printing each difference and
// exiting 1 when there is one. Run `save` with the build before the change, `compare` after.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const mode = argv.shift();
const dir = argv.shift();
let cli = join(root, 'dist-cli', 'qcowscope.mjs');
const extra = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--cli') cli = resolve(argv[++i] ?? '');
  else extra.push(resolve(argv[i]));
}
if ((mode !== 'save' && mode !== 'compare') || !dir) {
  process.stderr.write('usage: node tools/scripts/report-diff.mjs save|compare DIR [--cli FILE] [IMAGE...]\n');
  process.exit(2);
}

const samples = readdirSync(join(root, 'sample-images')).filter((f) => f.endsWith('.qcow2')).sort()
  .map((f) => join(root, 'sample-images', f));
const RUNS = [
  ['report.json', ['report', '--output=json']],
  ['report.md', ['report']],
  ['check.json', ['check', '--output=json']],
  ['map.json', ['map', '--output=json']],
];

mkdirSync(dir, { recursive: true });
let differ = 0;
let compared = 0;
for (const img of [...samples, ...extra]) {
  for (const [suffix, args] of RUNS) {
    const r = spawnSync(process.execPath, [cli, ...args, img], { maxBuffer: 2 ** 31 - 1, cwd: root });
    // The exit code and stderr are part of the output; the path is printed as given, so it is absolute here.
    const got = Buffer.concat([Buffer.from(`rc=${r.status}\n--- stderr\n`), r.stderr, Buffer.from('--- stdout\n'), r.stdout]);
    const name = join(dir, `${basename(img)}.${suffix}`);
    if (mode === 'save') {
      writeFileSync(name, got);
      continue;
    }
    compared++;
    const want = readFileSync(name);
    if (!want.equals(got)) {
      differ++;
      let at = 0;
      while (at < want.length && want[at] === got[at]) at++;
      process.stdout.write(`DIFFERS ${basename(img)} ${suffix}: first difference at byte ${at}\n` +
        `  before: ${JSON.stringify(want.subarray(at, at + 80).toString())}\n  after:  ${JSON.stringify(got.subarray(at, at + 80).toString())}\n`);
    }
  }
}
if (mode === 'save') process.stdout.write(`saved ${RUNS.length} outputs of ${samples.length + extra.length} images to ${dir}\n`);
else process.stdout.write(`${compared - differ} of ${compared} outputs byte-identical\n`);
process.exit(differ ? 1 : 0);

// `npm run build:cli` (`node tools/scripts/build-cli.mjs [DIR]`): builds the CLI into dist-cli/ (or DIR) — qcowscope.cjs (app/cli/bin.ts and everything it
// imports, one CommonJS bundle), qcowscope.cache (V8's code cache for it) and qcowscope.mjs (the
// program: a few lines that compile the bundle with that cache and run it). Node 20 has no
// module.enableCompileCache, and compiling the 390 KB bundle on every start, then each function
// it runs, is a measurable part of a short command (docs/performance.md, "start-up").
//
// The cache is made by a training run at build time (the CLI's commands on a few sample images,
// in one process, output discarded): it holds the bytecode of every function those runs
// compiled. It is used only with the bundle it was made from (a build id in both) and by the V8
// that made it with the same flags; anything else is rejected by V8 (script.cachedDataRejected)
// and the bundle is compiled as without it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The command lines of the training run (sample images: the repository has them). */
const samples = ['bitmap-in-use', 'compressed-mixed', 'overlay', 'extended-l2', 'corrupt-refcount'].map((n) => join(root, 'sample-images', `${n}.qcow2`));
const TRAIN = samples.flatMap((f) => [
  ['report', '--output=json', f], ['report', f], ['check', '--output=json', '--qemu-version=10.0', f],
  ['map', '--output=json', '--qemu-version=10.0', f], ['info', '--output=json', '--qemu-version=10.0', f], ['info', '--qemu-version=10.0', f],
]);

/** The program (dist-cli/qcowscope.mjs); BUILD is replaced by the bundle's id. */
const PROGRAM = `// qcowscope's command line (built by tools/scripts/build-cli.mjs): compiles qcowscope.cjs with the
// V8 code cache qcowscope.cache when that cache was made from this bundle by this V8, then runs it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// Set by the \`qcowscope\` script beside this program (huge pages for the per-cluster arrays).
const HUGE = 'glibc.malloc.hugetlb=1';
const tunables = process.env.GLIBC_TUNABLES ?? '';

const BUILD = '@BUILD@';
const bundle = fileURLToPath(new URL('qcowscope.cjs', import.meta.url));
const cacheFile = fileURLToPath(new URL('qcowscope.cache', import.meta.url));
// app/cli/young-generation.ts's flag, set here, before compiling: the cache records V8's flags.
setFlagsFromString('--semi-space-growth-factor=1');
let cachedData;
try {
  // The build id, the data's length (8 hex digits), the data: a cache from another build, or cut
  // short, is not offered to V8 (which trusts the data as it trusts the bundle's own bytes).
  const c = readFileSync(cacheFile);
  const head = BUILD.length + 8;
  if (c.toString('latin1', 0, BUILD.length) === BUILD && Number.parseInt(c.toString('latin1', BUILD.length, head), 16) === c.length - head) cachedData = c.subarray(head);
} catch {
  // No cache: compile without one.
}
const script = new Script('(function (exports, require, module, __filename, __dirname) {' + readFileSync(bundle, 'utf8') + '\\n})', {
  filename: bundle, ...(cachedData ? { cachedData } : {}),
});
const load = process.getBuiltinModule ? (id) => process.getBuiltinModule(id) : (await import('node:module')).createRequire(bundle);
const module = { exports: {} };
script.runInThisContext()(module.exports, load, module, bundle, fileURLToPath(new URL('.', import.meta.url)));
const train = process.env.QCOWSCOPE_TRAIN;
if (train) {
  const quiet = { out() {}, outBytes() {}, err() {} };
  for (const argv of JSON.parse(train)) await module.exports.main(argv, quiet);
  const data = script.createCachedData();
  // Written whole, then renamed: a reader never sees part of it.
  writeFileSync(cacheFile + '.tmp', Buffer.concat([Buffer.from(BUILD + data.length.toString(16).padStart(8, '0'), 'latin1'), data]));
  renameSync(cacheFile + '.tmp', cacheFile);
} else {
  if (process.env.QCOWSCOPE_CACHE_DEBUG) process.stderr.write(\`code cache: \${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none'}; huge pages \${tunables.includes(HUGE) ? 'asked' : 'not asked'}\\n\`);
  await module.exports.runProgram();
}
`;

/**
 * The command (dist-cli/qcowscope) on Linux and other Unix systems: runs qcowscope.mjs with glibc's
 * transparent huge pages asked for. A report on a big image fills per-cluster arrays of tens of MB
 * whose first touch is one page fault per 4 KiB (about 20 µs each on a VM: 80 ms for 16 MB); in
 * the kernel's THP "madvise" mode glibc backs them with 2 MiB pages only when told before the
 * process starts (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc 2.35 and later; others ignore it).
 * A caller's own setting of that tunable is kept (docs/performance.md, "Session 10").
 * NODE_EXTRA_CA_CERTS is dropped: Node parses that file of TLS certificates as it starts, before
 * any of our code (38 ms of a 97 ms start here, with Debian's 144-certificate bundle), and the
 * CLI makes no network connection, so it never uses them (docs/performance.md, "Session 11").
 */
const COMMAND = `#!/bin/sh
# qcowscope's command line (built by tools/scripts/build-cli.mjs): qcowscope.mjs run by Node with
# glibc's transparent huge pages asked for (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), unless the
# caller set that tunable, and without NODE_EXTRA_CA_CERTS (Node would parse those certificates
# as it starts; qcowscope makes no network connection). QCOWSCOPE_NODE: the node to run (default:
# node on PATH).
case ":\${GLIBC_TUNABLES-}:" in
  *:glibc.malloc.hugetlb=*) ;;
  *) GLIBC_TUNABLES="\${GLIBC_TUNABLES:+\$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1"; export GLIBC_TUNABLES ;;
esac
unset NODE_EXTRA_CA_CERTS
exec "\${QCOWSCOPE_NODE:-node}" "$(dirname "$0")/qcowscope.mjs" "$@"
`;

/** Builds the CLI into `out` (default dist-cli/). */
export async function buildCli(out = join(root, 'dist-cli')) {
  const { build } = await import('esbuild');
  mkdirSync(out, { recursive: true });
  const bundle = join(out, 'qcowscope.cjs');
  await build({
    entryPoints: [join(root, 'app/cli/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    logLevel: 'warning',
    // main.ts and young-generation.ts act only when their own ESM bundle is the program.
    define: { 'import.meta.url': 'undefined' },
    // fflate's Node build loads worker_threads at start (for an asynchronous API we do not use).
    alias: { fflate: 'fflate/browser' },
  });
  const id = `qcowscope-${createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 24)}`;
  const program = join(out, 'qcowscope.mjs');
  const cache = join(out, 'qcowscope.cache');
  rmSync(cache, { force: true });
  writeFileSync(program, PROGRAM.replace('@BUILD@', id));
  writeFileSync(join(out, 'qcowscope'), COMMAND, { mode: 0o755 });
  const r = spawnSync(process.execPath, [program], { env: { ...process.env, QCOWSCOPE_TRAIN: JSON.stringify(TRAIN) }, encoding: 'utf8' });
  // Without a cache the CLI works as well, only starts slower: say so, do not fail the build.
  if (r.status !== 0) process.stderr.write(`build-cli: the code cache was not made (exit ${r.status}): ${r.stderr}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli(process.argv[2] ?? undefined);

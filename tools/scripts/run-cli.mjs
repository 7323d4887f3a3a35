// `npm run -s cli -- <command> [--output=json|human] FILE`: runs the bundled CLI
// (dist-cli/qcowscope.mjs), rebuilding it first (build-cli.mjs) when it is missing or older
// than any source under app/format or app/cli. Prints nothing of its own unless the build fails,
// so `--output=json` output stays pure JSON. Exits with the CLI's exit code.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(root, 'dist-cli', 'qcowscope.mjs');

/** Newest modification time of the .ts files under `dir` (recursively). */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export { buildCli } from './build-cli.mjs';
import { buildCli } from './build-cli.mjs';

export function cliIsStale() {
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  return ['app/format', 'app/cli'].some((d) => newestSource(join(root, d)) > built);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (cliIsStale()) {
    try {
      await buildCli();
    } catch (e) {
      process.stderr.write(`run-cli: building ${bundle} failed: ${e instanceof Error ? e.message : e}\n`);
      process.exit(1);
    }
  }
  // As dist-cli/qcowscope runs it: glibc's huge pages asked for, unless the caller set that
  // tunable, and no extra CA certificates for Node to parse as it starts.
  const t = process.env.GLIBC_TUNABLES ?? '';
  const { NODE_EXTRA_CA_CERTS: _certs, ...rest } = process.env;
  const env = /(^|:)glibc\.malloc\.hugetlb=/.test(t) ? rest : { ...rest, GLIBC_TUNABLES: t ? `${t}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1' };
  const r = spawnSync(process.execPath, [bundle, ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

// `node tools/scripts/bench-cli.mjs IMAGE [RUNS] [CLI ...]`: `qemu-img check --output=json IMAGE`
// and `CLI report --output=json IMAGE` for each CLI given (a .mjs run by node, or dist-cli/qcowscope; default dist-cli/qcowscope),
// run in turns (check, cli 1, cli 2, …; one warm-up round, then RUNS rounds, default 7) so that a
// shared machine's load falls on each alike. Prints per command the median wall and CPU (user +
// system, getrusage of the child) seconds and both as a ratio of qemu-img check's medians: compare
// builds of the CLI before and after a change, in the same run.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [image, runsArg, ...clis] = process.argv.slice(2);
if (!image) {
  process.stderr.write('usage: node tools/scripts/bench-cli.mjs IMAGE [RUNS] [CLI.mjs ...]\n');
  process.exit(2);
}
const RUNS = Number(runsArg ?? 7);
const bundles = clis.length ? clis.map((c) => resolve(c)) : [join(root, 'dist-cli', 'qcowscope')];
const RUSAGE = `import resource,subprocess,sys,time
t=time.perf_counter(); r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); t=time.perf_counter()-t
u=resource.getrusage(resource.RUSAGE_CHILDREN)
print(t, u.ru_utime+u.ru_stime, r.returncode)`;
const commands = [['qemu-img check', 'qemu-img', ['check', '--output=json', image]],
  // A .mjs is run by this node; anything else (dist-cli/qcowscope, the script) is run as it is.
  ...bundles.map((b) => [`report ${b.replace(root + '/', '')}`, ...(b.endsWith('.mjs') ? [process.execPath, [b, 'report', '--output=json', image]] : [b, ['report', '--output=json', image]])])];
const once = ([, cmd, args]) => {
  const [wall, cpu] = spawnSync('python3', ['-c', RUSAGE, cmd, ...args]).stdout.toString().trim().split(/\s+/).map(Number);
  return { wall, cpu };
};
const runs = commands.map(() => []);
for (const c of commands) once(c);
for (let i = 0; i < RUNS; i++) commands.forEach((c, j) => runs[j].push(once(c)));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = runs.map((r) => ({ wall: median(r.map((x) => x.wall)), cpu: median(r.map((x) => x.cpu)) }));
commands.forEach(([name], j) => {
  const m = med[j];
  const ratio = j === 0 ? '' : `  = ${(m.wall / med[0].wall).toFixed(2)} × check's wall, ${(m.cpu / med[0].cpu).toFixed(2)} × its CPU`;
  process.stdout.write(`${name.padEnd(40)} wall ${m.wall.toFixed(3)} s  CPU ${m.cpu.toFixed(3)} s${ratio}\n`);
});
process.stdout.write(`${RUNS} rounds in turns; load average now ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);

// qcowscope's command line: `qcowscope <command> [--output=json|human] FILE`. The same engine as
// the browser app (app/format), run over a Node file. Commands live in a registry: adding one is
// one line in COMMANDS (a module function taking a CommandContext and returning an exit code).

import { pathToFileURL } from 'node:url';
import { FindingCode, Qcow2Error } from '../format';
import { runInfo } from './info';
import { runCheckCommand } from './check';
import { runMap } from './map';
import { runReport } from './report';
import { runStats } from './stats';

type OutputFormat = 'json' | 'human';

export interface CommandContext {
  /** The image path exactly as given (qemu-img prints it as is). */
  readonly file: string;
  readonly output: OutputFormat;
  /** Arguments after the command other than --output and FILE (command-specific flags). */
  readonly args: readonly string[];
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

type Command = (ctx: CommandContext) => Promise<number>;

interface CommandEntry {
  readonly run: Command;
  readonly summary: string;
}

/** The commands. check / map / report are registered by their owners, one line each. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  info: { run: runInfo, summary: "the image's header, snapshots, bitmaps and encryption, as qemu-img info" },
  check: { run: runCheckCommand, summary: 'refcount consistency, as qemu-img check (same exit codes), plus our findings' },
  map: { run: runMap, summary: 'guest ranges and where they are stored, as qemu-img map [--backing FILE]' },
  report: { run: runReport, summary: 'the whole analysis as one JSON document' },
  stats: { run: runStats, summary: 'time, peak memory and bytes read of a full analysis, as JSON (npm run bench)' },
};

const USAGE = () => [
  'usage: qcowscope <command> [--output=json|human] FILE',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`),
  '',
  '--output=json prints exactly the JSON qemu-img 7.2 prints (apart from host-dependent sizes).',
].join('\n');

interface Parsed {
  readonly command: string;
  readonly file: string;
  readonly output: OutputFormat;
  readonly args: string[];
}

function parseArgs(argv: readonly string[]): Parsed | string {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') return '';
  if (!(command in COMMANDS)) return `unknown command '${command}'`;
  let output: OutputFormat = 'human';
  const positional: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = a === '--output' ? rest[++i] : a.startsWith('--output=') ? a.slice('--output='.length) : undefined;
    if (value !== undefined) {
      if (value !== 'json' && value !== 'human') return `--output must be json or human, not '${value}'`;
      output = value;
    } else if (a === '--backing' && i + 1 < rest.length) {
      args.push(`--backing=${rest[++i]!}`);
    } else if (a.startsWith('-') && a !== '-') {
      args.push(a);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 1) return positional.length ? `expected one FILE, got ${positional.length}` : 'missing FILE';
  return { command, file: positional[0]!, output, args };
}

/** Runs the CLI; returns the exit code (0 ok, 1 the image could not be read, 2 usage). */
async function main(argv: readonly string[], io = { out: (t: string) => void process.stdout.write(t), err: (t: string) => void process.stderr.write(t) }): Promise<number> {
  const p = parseArgs(argv);
  if (typeof p === 'string') {
    if (p) io.err(`qcowscope: ${p}\n`);
    io.err(USAGE() + '\n');
    return p ? 2 : 0;
  }
  const entry = COMMANDS[p.command]!;
  try {
    return await entry.run({ file: p.file, output: p.output, args: p.args, out: io.out, err: io.err });
  } catch (e) {
    if (e instanceof Qcow2Error && e.code === FindingCode.NOT_QCOW2) io.err(`${p.file}: not a qcow2 image: ${e.message}\n`);
    else io.err(`${p.file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const entryScript = process.argv[1];
if (entryScript && import.meta.url === pathToFileURL(entryScript).href) {
  process.exitCode = await main(process.argv.slice(2));
}

// qcowscope's command line: `qcowscope <command> [--output=json|human] [--qemu-version=7.2|10.0] FILE`. The same engine as
// the browser app (app/format), run over a Node file. Commands live in a registry: adding one is
// one line in COMMANDS (a module function taking a CommandContext and returning an exit code).

import './young-generation'; // first: before any other module allocates
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FindingCode, Qcow2Error } from '../format';
import { runInfo } from './info';
import { runCheckCommand } from './check';
import { runMap } from './map';
import { runReport } from './report';
import { runStats } from './stats';
import { defaultQemuVersion } from './qemu-version';
import { isQemuVersion, QEMU_VERSIONS, type QemuVersion } from '../format';
import { runSafety } from './safety';
import { BITMAP_VALUE_FLAGS, runBitmap } from './bitmap';
import { MEASURE_VALUE_FLAGS, runMeasure } from './measure';

export type OutputFormat = 'json' | 'human';

export interface CommandContext {
  /** The image path exactly as given (qemu-img prints it as is). */
  readonly file: string;
  /** Every FILE given (one, unless the command takes several). */
  readonly files: readonly string[];
  readonly output: OutputFormat;
  /** Whose output to print: --qemu-version, else the installed qemu-img's (qemu-version.ts). */
  readonly qemuVersion: QemuVersion;
  /** Arguments after the command other than --output and FILE (command-specific flags). */
  readonly args: readonly string[];
  readonly out: (text: string) => void;
  /**
   * Writes bytes to stdout before returning (the caller may reuse them; memory stays bounded
   * however slow the reader), where the caller offers it: for output too large for strings.
   */
  readonly outBytes?: (bytes: Uint8Array) => void;
  readonly err: (text: string) => void;
}

export type Command = (ctx: CommandContext) => Promise<number>;

interface CommandEntry {
  readonly run: Command;
  readonly summary: string;
  /** Takes FILE... rather than one FILE. */
  readonly multiFile?: true;
}

/** The commands. check / map / report are registered by their owners, one line each. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  info: { run: runInfo, summary: "the image's header, snapshots, bitmaps and encryption, as qemu-img info" },
  check: { run: runCheckCommand, summary: 'refcount consistency, as qemu-img check (same exit codes), plus our findings' },
  map: { run: runMap, summary: 'guest ranges and where they are stored, as qemu-img map [--backing FILE]' },
  report: { run: runReport, summary: 'the whole analysis as one JSON document' },
  safety: { run: runSafety, summary: 'safe / unsafe / refused as an untrusted image, with reasons (FILE..., exit 0 / 1 / 2)', multiFile: true },
  bitmap: { run: runBitmap, summary: 'dirty bitmaps: extents as nbdinfo --map prints them, --minus/--and/--or, --allocation, health' },
  measure: { run: runMeasure, summary: 'the size qemu-img convert would need, as qemu-img measure [-O qcow2|raw] [-o OPTIONS]' },
  stats: { run: runStats, summary: 'time, peak memory and bytes read of a full analysis, as JSON (npm run bench)' },
};

const USAGE = () => [
  'usage: qcowscope <command> [--output=json|human] [--qemu-version=7.2|10.0] FILE   (safety: FILE...)',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`),
  '',
  '--output=json prints exactly the JSON qemu-img prints; --qemu-version picks whose (7.2 or 10.0;',
  'default: the version of the qemu-img on PATH, else 10.0).',
].join('\n');

interface Parsed {
  readonly command: string;
  readonly files: string[];
  readonly output: OutputFormat;
  readonly qemuVersion: QemuVersion | null;
  readonly args: string[];
}

function parseArgs(argv: readonly string[]): Parsed | string {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') return '';
  if (!(command in COMMANDS)) return `unknown command '${command}'`;
  let output: OutputFormat = 'human';
  let qemuVersion: QemuVersion | null = null;
  const positional: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = a === '--output' ? rest[++i] : a.startsWith('--output=') ? a.slice('--output='.length) : undefined;
    if (value !== undefined) {
      if (value !== 'json' && value !== 'human') return `--output must be json or human, not '${value}'`;
      output = value;
    } else if (a === '--qemu-version' || a.startsWith('--qemu-version=')) {
      const v = a === '--qemu-version' ? rest[++i] ?? '' : a.slice('--qemu-version='.length);
      if (!isQemuVersion(v)) return `--qemu-version must be ${QEMU_VERSIONS.join(' or ')}, not '${v}'`;
      qemuVersion = v;
    } else if ((a === '--backing' || ([...BITMAP_VALUE_FLAGS, ...MEASURE_VALUE_FLAGS] as readonly string[]).includes(a)) && i + 1 < rest.length) {
      args.push(`${a}=${rest[++i]!}`);
    } else if (a.startsWith('-') && a !== '-') {
      args.push(a);
    } else {
      positional.push(a);
    }
  }
  if (positional.length === 0) return 'missing FILE';
  if (positional.length > 1 && !COMMANDS[command]!.multiFile) return `expected one FILE, got ${positional.length}`;
  return { command, files: positional, output, qemuVersion, args };
}

/** Runs the CLI; returns the exit code (0 ok, 1 the image could not be read, 2 usage). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly outBytes?: (bytes: Uint8Array) => void;
  readonly err: (text: string) => void;
}

const STDIO: CliIo = {
  out: (t) => void process.stdout.write(t),
  outBytes: (b) => {
    for (let off = 0; off < b.length;) {
      try {
        off += writeSync(1, b, off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
    }
  },
  err: (t) => void process.stderr.write(t),
};

export async function main(argv: readonly string[], io: CliIo = STDIO): Promise<number> {
  const p = parseArgs(argv);
  if (typeof p === 'string') {
    if (p) io.err(`qcowscope: ${p}\n`);
    io.err(USAGE() + '\n');
    return p ? 2 : 0;
  }
  const entry = COMMANDS[p.command]!;
  const file = p.files[0]!;
  try {
    // Asked only by commands that print version-specific text (`qemu-img --version` costs a process).
    const requested = p.qemuVersion;
    const ctx: CommandContext = {
      file, files: p.files, output: p.output, args: p.args, out: io.out, err: io.err, ...(io.outBytes ? { outBytes: io.outBytes } : {}),
      get qemuVersion() {
        return requested ?? defaultQemuVersion();
      },
    };
    return await entry.run(ctx);
  } catch (e) {
    if (e instanceof Qcow2Error && e.code === FindingCode.NOT_QCOW2) io.err(`${file}: not a qcow2 image: ${e.message}\n`);
    else io.err(`${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Runs the CLI as the program: argv from the command line, the exit code as the process's. */
export async function runProgram(): Promise<void> {
  // A reader that stops early (`… | head`) closes the pipe: end quietly, as a Unix tool does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}

// The ESM bundle of this file run by node (tests); the built CLI runs bin.ts's bundle instead.
const entryScript = process.argv[1];
if (entryScript && import.meta.url === pathToFileURL(entryScript).href) void runProgram();

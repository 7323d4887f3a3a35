// Test helper (Node only): the one way tests, the fuzzer's oracle and e2e set-up run QEMU's tools
// (qemu-img, qemu-io, qemu-nbd), always under a timeout, with their exit code and texts, and
// whether they are installed (differential tests are gated with describe.runIf / it.runIf on it).

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolRun {
  /** The exit status; for a signal 128 + its number (134 for SIGABRT), as a shell reports it. */
  readonly rc: number;
  readonly stdout: string;
  /** All of stderr, or its first `stderrHead` bytes when that option is set. */
  readonly stderr: string;
  /** The signal that ended the tool, if one did (SIGTERM after a timeout). */
  readonly signal: NodeJS.Signals | null;
  /** True when the tool was killed at its timeout. */
  readonly timedOut: boolean;
}

export interface ToolOptions {
  readonly cwd?: string;
  /**
   * Killed after this many ms. The default (120 s) only guards against a hang: a generous bound,
   * about 10 × the slowest tool run in the tests (a LUKS create or a check of 1 TiB of tables).
   */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Uint8Array;
  /** Keep only this many bytes of stderr (a damaged image can make millions of lines of it). */
  readonly stderrHead?: number;
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

/** Runs `cmd args` and returns its exit code and texts; never throws for a failing tool. */
export function runTool(cmd: string, args: readonly string[], o: ToolOptions = {}): ToolRun {
  const spill = o.stderrHead === undefined ? null : mkdtempSync(join(tmpdir(), 'qcowscope-tool-'));
  const errFd = spill === null ? null : openSync(join(spill, 'stderr'), 'w');
  try {
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      timeout: o.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', errFd ?? 'pipe'],
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.input === undefined ? {} : { input: o.input }),
    });
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (r.error && !timedOut) throw r.error;
    const stderr = spill === null ? r.stderr ?? '' : readFileSync(join(spill, 'stderr'), 'utf8').slice(0, o.stderrHead);
    const rc = r.status ?? (r.signal ? 128 + (SIGNALS[r.signal] ?? 0) : 255);
    return { rc, stdout: r.stdout ?? '', stderr, signal: r.signal, timedOut };
  } finally {
    if (errFd !== null) closeSync(errFd);
    if (spill !== null) rmSync(spill, { recursive: true, force: true });
  }
}

/** Runs a tool that must succeed; throws with the command and its stderr otherwise. Returns stdout. */
export function mustRun(cmd: string, args: readonly string[], o: ToolOptions = {}): string {
  const r = runTool(cmd, args, o);
  if (r.rc !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.timedOut ? 'timed out' : r.rc}): ${r.stderr}`);
  return r.stdout;
}

/**
 * qemu-img that must succeed, tried up to `tries` times: LUKS key-slot creation benchmarks PBKDF2
 * with thread CPU time and now and then fails on a loaded machine ("Unable to get accurate CPU usage").
 */
export function mustRunRetried(dir: string, args: readonly string[], tries = 10): string {
  let last: unknown = null;
  for (let i = 0; i < tries; i++) {
    try {
      return mustRun('qemu-img', args, { cwd: dir });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const found = new Map<string, boolean>();
const installed = (cmd: string): boolean => {
  let ok = found.get(cmd);
  if (ok === undefined) {
    try {
      ok = runTool(cmd, ['--version'], { timeoutMs: 30_000 }).rc === 0;
    } catch {
      ok = false;
    }
    found.set(cmd, ok);
  }
  return ok;
};

/** qemu-utils is installed: qemu-img and qemu-io (the differential tests need both). */
export const hasQemuImg = (): boolean => installed('qemu-img') && installed('qemu-io');
export const hasQemuNbd = (): boolean => installed('qemu-nbd');

/** `qemu-img info --output=json -U`'s text, run in `cwd` on `file` (a name relative to it). */
export const qemuImgInfo = (file: string, cwd: string, qemuImg = 'qemu-img'): string => mustRun(qemuImg, ['info', '--output=json', '-U', file], { cwd }).trimEnd();
/** `qemu-img check --output=json -U` in `cwd`: its JSON on stdout, exit code 0/1/2/3. */
export const qemuCheck = (dir: string, file: string, qemuImg = 'qemu-img'): ToolRun => runTool(qemuImg, ['check', '--output=json', '-U', file], { cwd: dir });
/** `qemu-img map --output=json -U` in `cwd`. */
export const qemuMap = (dir: string, file: string, qemuImg = 'qemu-img'): ToolRun => runTool(qemuImg, ['map', '--output=json', '-U', file], { cwd: dir });

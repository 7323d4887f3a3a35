// The built CLI's check, map and report commands, run as a user runs them: check --output=json and
// map --output=json print qemu-img's bytes, with qemu-img's exit codes and per-cluster stderr lines;
// the human forms contain qemu-img's; report is the saved-analysis document agreeing with both, or
// the Markdown report.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReport } from '../format';
import { QEMU_BINS } from '../test-support/qemu-bins';
import { SAMPLES } from '../test-support/samples';
import { builtCli } from './testing';

const built = builtCli('qcowscope-cli-check-');

/** Runs the CLI; 7.2's output unless the arguments choose a version (the stored JSON is 7.2's). */
const cli = (args: string[], cwd = SAMPLES) => {
  const [command = '', ...rest] = args;
  const versioned = args.some((a) => a.startsWith('--qemu-version')) || !['info', 'check', 'map'].includes(command);
  return built.run(versioned ? args : [command, '--qemu-version=7.2', ...rest], { cwd });
};
const stored = (name: string, kind: string) => readFileSync(join(SAMPLES, `${name}.${kind}`), 'utf8');
const storedOr = (name: string, kind: string) => {
  try {
    return stored(name, kind);
  } catch {
    return '';
  }
};

/** Copies matching files from `from` to `to`, writing every byte so that no file has holes. */
function copyDense(from: string, to: string, match: RegExp): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (match.test(f)) writeFileSync(join(to, f), readFileSync(join(from, f)));
}

// Samples committed uncompressed, so the CLI sees the very file qemu-img checked.
const CHECKED = ['leak', 'corrupt-refcount', 'lazy-dirty', 'overlay', 'extended-l2', 'zero-clusters'];

describe('qcowscope check', () => {
  it.each(CHECKED)('--output=json on %s: stdout, stderr and exit code are qemu-img\'s', (name) => {
    const r = cli(['check', '--output=json', `${name}.qcow2`]);
    expect(r.stdout).toBe(stored(name, 'check.json'));
    expect(r.stderr).toBe(storedOr(name, 'check.err'));
    expect(r.status).toBe(Number(stored(name, 'check.rc')));
  });

  it('an image QEMU refuses: like qemu-img, nothing on stdout, exit code 1 and its line first on stderr, in both forms', () => {
    const theirs = stored('seed-zero-offset-bitmap', 'check.err').split('\n')[0]!;
    for (const form of [['--output=json'], []]) {
      const r = cli(['check', ...form, 'seed-zero-offset-bitmap.qcow2']);
      expect(r.status).toBe(Number(stored('seed-zero-offset-bitmap', 'check.rc')));
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe(theirs);
      expect(r.stderr).toContain("qcowscope report 'seed-zero-offset-bitmap.qcow2'");
    }
  });

  for (const q of QEMU_BINS) it.runIf(q.available)(`human output contains qemu-img ${q.version} check's summary and per-cluster lines`, () => {
    for (const name of ['leak', 'corrupt-refcount', 'v3']) {
      const ours = cli(['check', `--qemu-version=${q.version}`, `${name}.qcow2`]);
      const theirs = spawnSync(q.qemuImg, ['check', '-U', `${name}.qcow2`], { cwd: SAMPLES, encoding: 'utf8' });
      expect(ours.stdout, name).toContain(theirs.stdout);
      expect(ours.stderr, name).toBe(theirs.stderr);
      expect(ours.status, name).toBe(theirs.status);
    }
  });
});

for (const q of QEMU_BINS) describe.runIf(q.available)(`qcowscope check on OFLAG_COPIED damage, against the live qemu-img ${q.version}`, () => {
  // COPIED flipped on the first two used active L1 entries and on the first two used entries of
  // each of their L2 tables: qemu-img prints, per L1 entry, its own line followed by its table's.
  it.each(['cluster-512', 'zero-clusters', 'v3'])('%s: stdout, stderr and exit code are qemu-img\'s, line for line', (name) => {
    const b = Buffer.from(readFileSync(join(SAMPLES, `${name}.qcow2`)));
    const cs = 2 ** b.readUInt32BE(20);
    const l1 = Number(b.readBigUInt64BE(40));
    let flipped = 0;
    for (let i = 0; i < b.readUInt32BE(36) && flipped < 2; i++) {
      const e = b.readBigUInt64BE(l1 + 8 * i);
      const t = Number(e & 0x00ff_ffff_ffff_fe00n);
      if (t === 0) continue;
      b.writeBigUInt64BE(e ^ (1n << 63n), l1 + 8 * i);
      flipped++;
      let entries = 0;
      for (let j = 0; j < cs / 8 && entries < 2; j++) {
        const v = b.readBigUInt64BE(t + 8 * j);
        if ((v & 0x00ff_ffff_ffff_fe00n) === 0n || (v & (1n << 62n)) !== 0n) continue;
        b.writeBigUInt64BE(v ^ (1n << 63n), t + 8 * j);
        entries++;
      }
    }
    expect(flipped).toBeGreaterThan(0);
    const file = `${name}-oflag-${q.version}.qcow2`;
    writeFileSync(join(built.dir, file), b);
    for (const args of [['check', '--output=json'], ['check']]) {
      const ours = cli([...args, `--qemu-version=${q.version}`, file], built.dir);
      const theirs = spawnSync(q.qemuImg, [...args, '-U', file], { cwd: built.dir, encoding: 'utf8' });
      expect(ours.status, `${args.join(' ')} ${name}`).toBe(theirs.status);
      if (args.length === 2) {
        expect(ours.stdout).toBe(theirs.stdout);
        expect(ours.stderr).toBe(theirs.stderr);
      } else {
        expect(ours.stderr, name).toBe(theirs.stderr);
        expect(ours.stdout, name).toContain(theirs.stdout);
      }
    }
  });
});

describe('qcowscope map', () => {
  it.each(['overlay', 'overlay-raw', 'extended-l2', 'zero-clusters', 'data-file'])('--output=json on %s prints what qemu-img printed', (name) => {
    const r = cli(['map', '--output=json', `${name}.qcow2`]);
    expect(r.stdout).toBe(stored(name, 'map.json'));
    expect(r.status).toBe(0);
  });

  it('--backing FILE stands in for a backing file that is not beside the overlay', () => {
    copyFileSync(join(SAMPLES, 'overlay.qcow2'), join(built.dir, 'overlay.qcow2'));
    const alone = cli(['map', '--output=json', 'overlay.qcow2'], built.dir);
    expect(alone.stderr).toContain("backing file 'base.qcow2' was not opened");
    const r = cli(['map', '--output=json', '--backing', join(SAMPLES, 'base.qcow2'), 'overlay.qcow2'], built.dir);
    expect(r.stdout).toBe(stored('overlay', 'map.json'));
  });

  for (const q of QEMU_BINS) it.runIf(q.available)(`human output and JSON match the live qemu-img ${q.version} map`, () => {
    // qemu-img map asks the file system for holes, which we cannot see; a git checkout may leave
    // sparse files, so run both on dense copies (as make.sh records the references).
    const dense = join(built.dir, `dense-${q.version}`);
    rmSync(dense, { recursive: true, force: true });
    copyDense(SAMPLES, dense, /\.(qcow2|raw|data)$/);
    for (const name of ['overlay', 'overlay-raw', 'v3', 'zero-clusters', 'extended-l2', 'compressed-mixed']) {
      for (const output of ['human', 'json']) {
        const theirs = spawnSync(q.qemuImg, ['map', `--output=${output}`, '-U', `${name}.qcow2`], { cwd: dense, encoding: 'utf8' });
        const ours = cli(['map', `--output=${output}`, `--qemu-version=${q.version}`, `${name}.qcow2`], dense);
        expect(ours.stdout, name).toBe(theirs.stdout);
        expect(ours.status, name).toBe(theirs.status);
      }
    }
    const compressed = cli(['map', 'compressed-mixed.qcow2']);
    expect(compressed.status).toBe(1);
    expect(compressed.stderr).toContain('File contains external, encrypted or compressed clusters.');
  });
});

describe('qcowscope report', () => {
  it('is the saved-analysis document, agreeing with qemu-img check and map', () => {
    const r = cli(['report', '--output=json', 'overlay.qcow2']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ format: 'qcowscope-analysis', version: 1 });
    expect(doc.check.qemuImgCheck).toEqual(JSON.parse(stored('overlay', 'check.json')));
    const saved = parseReport(r.stdout);
    expect(saved.analysis.guestMap).toEqual(JSON.parse(stored('overlay', 'map.json')));
    expect(doc.roles.counts.reduce((n: number, c: { bytes: number }) => n + c.bytes, 0)).toBe(doc.fileSize);
    expect(saved.analysis.check.roles.length).toBe(doc.roles.entries);
    expect(doc.space.categories.reduce((n: number, c: { bytes: number }) => n + c.bytes, 0)).toBe(doc.fileSize);
    expect(doc.structures.header.size).toBe('8388608');
  });

  it('prints the Markdown report without --output=json', () => {
    const r = cli(['report', 'leak.qcow2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`**Verdict:** ${JSON.parse(stored('leak', 'check.json')).leaks} leaked clusters`);
    expect(r.stdout).toContain('```json\n' + stored('leak', 'check.json').trimEnd() + '\n```');
  });
});

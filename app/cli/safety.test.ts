// The built CLI's safety command as a user runs it: one JSON object per file and line, exit code 0
// when all are safe, 1 when any is unsafe, 2 when any is refused and none unsafe; the human form.

import { describe, expect, it } from 'vitest';
import { SAMPLES } from '../test-support/samples';
import { builtCli } from './testing';

const built = builtCli('qcowscope-cli-safety-');
const cli = (args: string[]) => built.run(args, { cwd: SAMPLES });

interface Line {
  file: string;
  verdict: string;
  reasons: { code: string; kind: string; message: string; consequence: string; remedy: string; name?: string }[];
  notes: { code: string; message: string }[];
}
const lines = (stdout: string): Line[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('qcowscope safety', () => {
  it('all safe: exit 0, empty reasons, notes apart', () => {
    const r = cli(['safety', '--output=json', 'base.qcow2', 'leak.qcow2', 'extended-l2.qcow2']);
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((x) => [x.file, x.verdict, x.reasons.length])).toEqual([['base.qcow2', 'safe', 0], ['leak.qcow2', 'safe', 0], ['extended-l2.qcow2', 'safe', 0]]);
    expect(out[1]!.notes.map((n) => n.code)).toEqual(['leaks']);
    expect(out[2]!.notes.map((n) => n.code)).toEqual(['extended-l2']);
  });

  it('any unsafe: exit 1, each reason with a consequence and a remedy', () => {
    const r = cli(['safety', '--output=json', 'base.qcow2', 'overlay.qcow2', 'seed-zero-offset-bitmap.qcow2', 'data-file.qcow2']);
    expect(r.status).toBe(1);
    const out = lines(r.stdout);
    expect(out.map((x) => x.verdict)).toEqual(['safe', 'unsafe', 'refused', 'unsafe']);
    expect(out[1]!.reasons[0]).toMatchObject({ code: 'backing-relative', kind: 'unsafe', name: 'base.qcow2' });
    expect(out[1]!.reasons[0]!.remedy).toContain("qemu-img rebase -u -b ''");
    expect(out[3]!.reasons[0]).toMatchObject({ code: 'data-file', name: 'data-file.data' });
    expect(out[3]!.reasons[0]!.message).toContain('CVE-2024-32498');
  });

  it('refused and none unsafe: exit 2, named (not qcow2, zero-offset bitmaps, a missing file)', () => {
    const r = cli(['safety', '--output=json', 'raw-base.raw', 'seed-zero-offset-bitmap.qcow2', 'no-such-file.qcow2']);
    expect(r.status).toBe(2);
    const out = lines(r.stdout);
    expect(out.map((x) => [x.verdict, x.reasons.map((y) => y.code)])).toEqual([
      ['refused', ['not-qcow2']], ['refused', ['zero-offset-bitmap']], ['refused', ['unreadable']],
    ]);
    expect(out[1]!.reasons[0]!.message).toMatch(/2016 bitmap proposal .* valid there/);
  });

  it('human form: a headline per file, reasons with their remedies, notes', () => {
    const r = cli(['safety', 'overlay.qcow2', 'leak.qcow2']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('overlay.qcow2: UNSAFE');
    expect(r.stdout).toContain('[backing-relative] The backing file is a relative path: "base.qcow2".');
    expect(r.stdout).toContain('Remedy: ');
    expect(r.stdout).toContain('leak.qcow2: safe to use as an untrusted image');
    expect(r.stdout).toMatch(/note +\[leaks\] 2 leaked clusters/);
  });

  it('other commands still take exactly one FILE', () => {
    const r = cli(['info', 'base.qcow2', 'leak.qcow2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('expected one FILE, got 2');
  });
});

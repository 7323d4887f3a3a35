// The CLI's info, check and map on every sample, in both profiles, against qemu-img's recorded
// outputs (sample-images/record-outputs.sh and make.sh): --qemu-version=7.2 against 7.2's JSON
// (NAME.KIND.json) and human text (NAME.KIND.txt.out), --qemu-version=10.0 against 10.0's
// (NAME.KIND.10.0.json, NAME.KIND.10.0.txt.out). Run in-process, in the sample's folder on its
// base name, as qemu-img was run. Images QEMU refuses are compared by exit code
// (we still read them: that is the point), LUKS check/map by counts (qemu-img was given the key).

process.env.TZ = 'UTC'; // snapshot dates print in local time; the references were recorded in UTC

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSamples, SAMPLES, samplePath } from '../test-support/samples';
import type { QemuVersion } from '../format';
import { runCheckCommand } from './check';
import { runInfo } from './info';
import type { Command, OutputFormat } from './main';
import { runMap } from './map';

const KINDS: Record<'info' | 'check' | 'map', Command> = { info: runInfo, check: runCheckCommand, map: runMap };

async function ours(kind: keyof typeof KINDS, name: string, output: OutputFormat, qemuVersion: QemuVersion) {
  const path = samplePath(name);
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(dirname(path));
  try {
    const rc = await KINDS[kind]({ file: basename(path), files: [basename(path)], output, qemuVersion, args: [], out: (t) => void (out += t), err: (t) => void (err += t) });
    return { out, err, rc };
  } finally {
    process.chdir(cwd);
  }
}

const text = (f: string) => (existsSync(join(SAMPLES, f)) ? readFileSync(join(SAMPLES, f), 'utf8') : '');
const rcOf = (f: string) => (existsSync(join(SAMPLES, f)) ? Number(text(f).trim()) : 0);
/** qemu-img's recorded output: stdout, stderr, exit code ('' prefix: NAME.KIND[.10.0] or NAME.KIND[.10.0].txt). */
function theirs(prefix: string, ext: 'json' | 'out') {
  return { out: text(`${prefix}.${ext}`), err: text(`${prefix}.err`), rc: rcOf(`${prefix}.rc`), recorded: existsSync(join(SAMPLES, `${prefix}.${ext}`)) };
}
const dropActualSize = (t: string) => t.replace(/\n\s*"actual-size": \d+,/g, '');
const refusedBy = (name: string, v: string) => text(`${name}.info${v}.err`).includes('Could not open');

const samples = listSamples();

for (const version of ['7.2', '10.0'] as const) {
  const v = version === '7.2' ? '' : '.10.0';
  const recorded = samples.filter((n) => existsSync(join(SAMPLES, `${n}.info${v}.txt.out`)));

  describe(`--qemu-version=${version}: the CLI prints what qemu-img ${version} printed`, () => {
    it('has every sample recorded', () => {
      expect(recorded).toEqual(samples);
    });

    it.each(recorded)('%s: info, human and JSON', async (name) => {
      const human = await ours('info', name, 'human', version);
      const json = await ours('info', name, 'json', version);
      if (refusedBy(name, v)) {
        // Refused as qemu-img refuses: nothing on stdout, exit 1, qemu-img's own first line.
        const t = theirs(`${name}.info${v}.txt`, 'out');
        expect(t.rc).toBe(1);
        for (const o of [human, json]) {
          expect([o.rc, o.out]).toEqual([1, '']);
          expect(o.err.split('\n')[0]).toBe(text(`${name}.info${v}.txt.err`).split('\n')[0]);
        }
        return;
      }
      const t = theirs(`${name}.info${v}.txt`, 'out');
      // "disk size" is the host's allocation: ours is the sample's, theirs the recording copy's.
      const noDisk = (s: string) => s.replace(/^(\s*)disk size: .*$/gm, '$1disk size: -');
      expect(noDisk(human.out)).toBe(noDisk(t.out));
      expect([human.rc, human.err]).toEqual([0, '']);
      expect(dropActualSize(json.out)).toBe(dropActualSize(text(`${name}.info${v}.json`)));
    });

    it.each(recorded)('%s: check, human and JSON', async (name) => {
      const json = await ours('check', name, 'json', version);
      const human = await ours('check', name, 'human', version);
      const tj = theirs(`${name}.check${v}`, 'json');
      const th = theirs(`${name}.check${v}.txt`, 'out');
      if (name === 'luks') {
        // Recorded with the key (record-outputs.sh); without one qemu-img check refuses, and so do we.
        for (const o of [json, human]) expect([o.rc, o.out, o.err.split('\n')[0]]).toEqual([1, '', "qemu-img: Could not open 'luks.qcow2': Parameter 'encrypt.key-secret' is required for cipher"]);
        return;
      }
      expect(json.rc).toBe(tj.rc);
      expect(human.rc).toBe(th.rc);
      if (refusedBy(name, v)) return;
      expect(json.out).toBe(tj.out);
      expect(json.err).toBe(tj.err);
      // qemu-img prints its per-cluster lines on stderr in both forms; so do we.
      expect(human.out).toContain(th.out);
      for (const line of th.err.split('\n').filter(Boolean)) expect(human.err).toContain(line);
    });

    it.each(recorded)('%s: map, human and JSON', async (name) => {
      const json = await ours('map', name, 'json', version);
      const human = await ours('map', name, 'human', version);
      const tj = theirs(`${name}.map${v}`, 'json');
      const th = theirs(`${name}.map${v}.txt`, 'out');
      if (name === 'luks') {
        // Recorded with the key; without one qemu-img map refuses. We print the map the metadata
        // gives (what qemu-img printed with the key), say why qemu-img would fail, and exit 1.
        for (const [o, t] of [[json, tj], [human, th]] as const) {
          expect([o.rc, o.out]).toEqual([1, t.out]);
          expect(o.err).toContain("qemu-img map would fail: Could not open 'luks.qcow2': Parameter 'encrypt.key-secret' is required for cipher");
        }
        return;
      }
      expect(json.rc).toBe(tj.rc);
      expect(human.rc).toBe(th.rc);
      if (refusedBy(name, v)) return;
      expect(json.out).toBe(tj.out);
      expect(human.out).toBe(th.out);
      if (th.err) expect(human.err).toContain(th.err.replace(/^qemu-img: /, '').trim());
    });
  });
}

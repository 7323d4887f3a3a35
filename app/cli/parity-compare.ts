// The refusal-parity comparison (test support): qemu-img 7.2's `info` / `check --output=json` run
// live on one damaged image, and our `info` / `check` in-process (JSON and human): the exit code,
// the JSON on stdout and the first line of stderr must be the same.

import { spawnSync } from 'node:child_process';
import { main } from './main';

interface Run {
  readonly status: number;
  readonly stdout: string;
  /** The first line of stderr ('' when there is none). */
  readonly reason: string;
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';

function qemuImg(verb: 'info' | 'check', file: string): Run {
  const r = spawnSync('qemu-img', [verb, '--output=json', '-U', file], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, reason: firstLine(r.stderr) };
}

async function ours(verb: 'info' | 'check', file: string, json: boolean): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main([verb, ...(json ? ['--output=json'] : []), file], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { status, stdout, reason: firstLine(stderr) };
}

/**
 * What differs between qemu-img and us on one damaged image ('' when nothing does). A qemu-img that
 * crashes (7.2's info on a LUKS image without its CRYPTO header extension) is not compared.
 */
export async function compareWithQemuImg(file: string): Promise<string> {
  const out: string[] = [];
  for (const verb of ['info', 'check'] as const) {
    const q = qemuImg(verb, file);
    if (q.status < 0) continue;
    const j = await ours(verb, file, true);
    const h = await ours(verb, file, false);
    if (q.status !== j.status) out.push(`${verb}: exit ${q.status}, ours ${j.status}`);
    if (q.reason !== j.reason) out.push(`${verb}: stderr ${JSON.stringify(q.reason)}, ours ${JSON.stringify(j.reason)}`);
    if (q.stdout !== j.stdout) out.push(`${verb}: JSON differs:\n${q.stdout}\n--- ours\n${j.stdout}`);
    if (q.status !== h.status) out.push(`${verb} (human): exit ${q.status}, ours ${h.status}`);
    if (q.reason !== h.reason) out.push(`${verb} (human): stderr ${JSON.stringify(q.reason)}, ours ${JSON.stringify(h.reason)}`);
  }
  return out.join('\n');
}


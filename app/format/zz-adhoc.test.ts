import { it } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NodeFileSource } from './source-node';
import { analyze } from './analyze';
import { qemuCheckJsonText } from './check-json';
import { guestMapJson } from './guest-map';
import { buildRandomImage, damage, qemuCheck, qemuMap } from './testing/qemu-random';

const N = Number(process.env.N ?? 40);
const S0 = Number(process.env.S0 ?? 1);
it('random', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qrand-'));
  let bad = 0;
  const stats: Record<string, number> = {};
  for (let seed = S0; seed < S0 + N; seed++) {
    let img;
    try { img = buildRandomImage(dir, seed); } catch (e) { console.log(seed, 'BUILD FAIL', String(e).slice(0, 300)); continue; }
    const dmg = seed % 2 === 0 ? damage(join(dir, img.file), seed) : [];
    const qc = qemuCheck(dir, img.file);
    const qm = qemuMap(dir, img.file);
    const opened: NodeFileSource[] = [];
    const src = await NodeFileSource.open(join(dir, img.file));
    let a;
    try {
      a = await analyze(src, { openBacking: async (n) => { const q = join(dir, n); if (!existsSync(q)) return null; const s = await NodeFileSource.open(q); opened.push(s); return s; } });
    } catch (e) { console.log(seed, 'THREW', e); bad++; continue; }
    const ours = a.check.json ? qemuCheckJsonText(a.check.json) : '';
    const mapOurs = guestMapJson({ ranges: a.guestMap, error: a.check.mapError });
    const refuses = a.qemuRefuses.length > 0;
    const okC = refuses ? qc.rc === 1 && qc.stdout === '' : qc.stdout === ours && qc.rc === a.check.exitCode;
    const okM = qm.stdout === (refuses ? '' : mapOurs) && (qm.rc === 0) === (!a.check.mapError && !refuses);
    // stderr lines
    const lines = refuses ? [] : qc.stderr.split('\n').filter((l) => /^(ERROR|Leaked|Can't)/.test(l)).filter((l, i, all) => all.slice(0, i).filter((x) => x.split(' ')[0] === l.split(' ')[0] && x.split(' ')[1] === l.split(' ')[1]).length < 900);
    const msgs = a.findings.map((f) => f.message);
    const missing = lines.filter((l) => !msgs.some((m) => m.startsWith(l)));
    if (!okC || !okM || missing.length) {
      bad++;
      console.log(`seed ${seed}: check ${okC ? 'ok' : 'DIFF'} map ${okM ? 'ok' : 'DIFF'} missing ${missing.length}`, img.recipe.join(' | '), 'DAMAGE:', dmg.join(','));
      if (!okC) console.log('QEMU', qc.rc, qc.stdout, qc.stderr.slice(0, 2000), '\nOURS', a.check.exitCode, ours, a.check.failure, a.qemuRefuses.map((f) => f.message));
      if (!okM) console.log('QEMU MAP', qm.rc, qm.stdout.slice(0, 3000), qm.stderr.slice(0, 500), '\nOURS', mapOurs.slice(0, 3000), a.check.mapError);
      if (missing.length) console.log('MISSING', missing.slice(0, 10), '\nOURS', msgs.filter(m => /^(ERROR|Leaked)/.test(m)).slice(0, 10));
    }
    stats[`check rc ${qc.rc} map rc ${qm.rc}`] = (stats[`check rc ${qc.rc} map rc ${qm.rc}`] ?? 0) + 1;
    await src.close();
    for (const s of opened) await s.close();
  }
  console.log('dir', dir, 'bad', bad, 'of', N, stats);
}, 600000);

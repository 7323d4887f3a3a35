import { it } from 'vitest';
import { NodeFileSource } from './source-node';
import { Findings } from './errors';
import { loadHeaderStage, loadStructures } from './structures';
import { runCheck } from './check';
import { qemuCheckJsonText } from './check-json';

it('big', async () => {
  const src = await NodeFileSource.open('/tmp/h3/big.qcow2');
  const f = new Findings();
  let t0 = performance.now();
  const s = await loadStructures(src, await loadHeaderStage(src, f), f);
  const t1 = performance.now();
  const c = await runCheck(src, s, f);
  const t2 = performance.now();
  console.log('structures', (t1 - t0).toFixed(0), 'check', (t2 - t1).toFixed(0), 'ms', src.reads, 'reads', src.bytesRead, c.guestMap.length, process.memoryUsage());
  console.log(qemuCheckJsonText(c.json!));
}, 60000);

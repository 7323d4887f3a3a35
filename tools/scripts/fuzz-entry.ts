// The engine as `npm run fuzz` runs it: scripts/fuzz.mjs bundles this file with esbuild into
// .cache/fuzz-engine.mjs and loads it in its main thread and in each worker.
export { makeCase, prepareSample, runCase, type FuzzCase, type FuzzSample, type Verdict } from '../fuzz/run';
export { askQemu, type OracleVerdict } from '../fuzz/oracle';

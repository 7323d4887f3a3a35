// The built CLI's bundle entry (tools/scripts/build-cli.mjs bundles it as CommonJS into
// dist-cli/qcowscope.cjs): the small ESM program dist-cli/qcowscope.mjs compiles that bundle with
// V8's code cache made at build time, then calls runProgram. `main` is there for the build's
// training run, which makes the cache.

export { main, runProgram } from './main';

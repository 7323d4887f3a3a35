// The engine's node-only entry: what the CLI and node tests need that the browser must not bundle
// (reading a file through node:fs). Everything else is in ./index.ts.

export { NodeFileSource } from './qcow2/source-node';
export { fileSafety } from './safety/file-node';

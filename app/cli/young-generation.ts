// Keeps V8's young generation at its initial size when this file's bundle is the program Node runs
// (`node dist-cli/qcowscope.mjs …`): main.ts imports it first, so it runs before any other module's
// code allocates. The CLI's peak resident memory is part of its contract (≤ 64 MiB + 8 bytes per
// host cluster, docs/performance.md "Memory"), and on a small image most of what the analysis adds
// over Node's own start is the young generation doubling its semi-spaces (1 → 2 → 4 … 16 MiB each)
// whenever the bytes surviving scavenges since the last doubling exceed its size.
//
// The flag, and why setting it after start-up is sound: V8 reads `semi_space_growth_factor` in
// one place only, `SemiSpaceNewSpace::Grow()` (src/heap/new-spaces.cc: new capacity =
// min(maximum, factor × current)), on the main thread inside a garbage collection's safepoint.
// Set here, before the first scavenge, it makes every later Grow() keep the current capacity; no
// heap structure is sized from it at set-up. Later V8 versions clamp the flag to at least 2
// (DEFINE_MIN_VALUE_IMPLICATION), which only makes this a no-op there. Unlike flags read while
// the isolate is created (e.g. --max-semi-space-size, which setFlagsFromString cannot change any
// more), or read by other threads, this one is consulted only at the point it governs.
// Measured: same JSON, same CPU time on the 1 TiB image, 3–5 MiB less peak on the scattered one.
// The built CLI (tools/scripts/build-cli.mjs) bundles bin.ts, where this file's test is false: its
// program sets the same flag itself, before compiling the bundle (V8's code cache records flags).

import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';

const entry = process.argv[1];
// Only as the program itself (the bundle, run by node): not when a test imports the CLI's modules.
if (entry && import.meta.url === pathToFileURL(entry).href) setFlagsFromString('--semi-space-growth-factor=1');

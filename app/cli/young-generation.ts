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

//
// A big image may let it grow again (growYoungGenerationFor, called once its header is read): its
// budget's 8 bytes per host cluster leave room for V8's largest young generation, and a report of
// the 1 TiB image allocates about 25 MB of short-lived objects, which a 1 MiB young generation
// collects in 25–40 scavenges. The flag is then set to GROWTH: the next Grow() goes straight to
// V8's maximum semi-space (16 MiB on 64-bit Node), so the rest of the run takes one or two
// scavenges. That costs at most 2 × 16 MiB of resident memory (measured: 15–18 MiB of peak).

import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';

const entry = process.argv[1];
// Only as the program itself (the bundle, run by node): not when a test imports the CLI's modules.
let program = Boolean(entry && import.meta.url === pathToFileURL(entry).href);
if (program) setFlagsFromString('--semi-space-growth-factor=1');

/** Host clusters from which the young generation may grow: 8 B each is 64 MiB, twice its largest size. */
export const GROW_FROM_CLUSTERS = 2 ** 23;
/** The growth factor set for such an image: any factor ≥ 16 takes 1 MiB semi-spaces to V8's cap. */
export const GROWTH = 16;

/** The growth factor for an image of `fileSize` bytes in clusters of `clusterSize` (1: stay fixed). */
export function youngGenerationGrowth(fileSize: number, clusterSize: number): number {
  if (!(clusterSize > 0)) return 1;
  return Math.ceil(fileSize / clusterSize) >= GROW_FROM_CLUSTERS ? GROWTH : 1;
}

/**
 * Marks this process as the CLI's program (runProgram calls it; the built CLI's loader has set the
 * flag to 1 itself), so that growYoungGenerationFor acts: never in a test that imports the CLI.
 */
export function ownYoungGeneration(): void {
  program = true;
}

/** Lets the young generation grow when the image is big enough (see above); a no-op otherwise. */
export function growYoungGenerationFor(fileSize: number, clusterSize: number): void {
  const factor = youngGenerationGrowth(fileSize, clusterSize);
  if (program && factor !== 1) setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

// Raw deflate (compression_type 0) of one compressed cluster, as QEMU's qcow2_zlib_decompress
// inflates it (block/qcow2-threads.c), with the work bounded: fflate is fed small steps of input
// and stopped once a cluster is out, so a decompression bomb costs a few milliseconds.

import { Inflate } from 'fflate';
import { fails, messageOf, shortOf, type Decompressed } from './decompress-result';

/**
 * Stored bytes handed to fflate at a time. One push inflates all of it, up to ~1032 output bytes
 * per input byte (258-byte matches in 2-bit codes), so this bounds the overshoot past a cluster.
 */
export function inflateStep(cs: number): number {
  return Math.min(4096, Math.max(256, cs >> 6));
}

/**
 * Input after which a stream that has produced nothing is given up: a stored block is at most
 * 65535 + 5 bytes, so any longer silence is empty blocks or bytes after the end of the stream.
 */
const SILENT_INPUT = 65540;

export interface Inflated extends Decompressed {
  /** Bytes fflate produced, kept or not: at most about cluster size + 1032 × inflateStep + 64 KiB. */
  readonly produced: number;
  /** Stored bytes handed to fflate. */
  readonly consumed: number;
}

/**
 * Inflates like QEMU's qcow2_zlib_decompress (inflate with Z_FINISH into one cluster): success
 * once the cluster is full, whatever follows; the stream ending short or breaking first fails.
 */
export function inflateCluster(stored: Uint8Array, cs: number): Inflated {
  const out = new Uint8Array(cs);
  let kept = 0;
  let produced = 0;
  const inflater = new Inflate((chunk) => {
    produced += chunk.length;
    const take = Math.min(chunk.length, cs - kept);
    if (take > 0) out.set(chunk.subarray(0, take), kept);
    kept += take;
  });
  const step = inflateStep(cs);
  let consumed = 0;
  let silentSince = 0;
  let ended = false;
  let result: Decompressed | null = null;
  try {
    // Past a full cluster, one more push tells "exactly a cluster" from "more" (QEMU reads both).
    while (produced <= cs && consumed < stored.length) {
      const before = produced;
      const next = Math.min(stored.length, consumed + step);
      // Never final here: a final push that breaks keeps back the output it made before.
      inflater.push(stored.subarray(consumed, next));
      consumed = next;
      if (produced > before) silentSince = consumed;
      else if (consumed - silentSince > SILENT_INPUT && consumed < stored.length) {
        // fflate keeps appending input after the end of the stream: stop before that grows. A
        // final push of one more byte throws unless the stream has ended (a final block cannot
        // start and end in one byte); an empty one may not.
        if (kept < cs) {
          try {
            inflater.push(stored.subarray(consumed, consumed + 1), true);
            consumed++;
            ended = true;
          } catch {
            result = { bytes: kept ? out.subarray(0, kept) : null, problem: `the deflate stream gives no output for ${consumed - silentSince} bytes after ${kept} bytes: not decompressed further` };
          }
        }
        break;
      }
    }
    // All input in and the cluster not full: an empty final push throws unless the stream ended
    // (or stopped at a block boundary, which fflate also accepts: QEMU fails on both).
    if (!ended && result === null && kept < cs) inflater.push(new Uint8Array(0), true);
  } catch (e) {
    // A cluster already full is what QEMU keeps; damage after it is never read.
    if (kept < cs) result = { bytes: null, problem: fails(`not a valid raw deflate stream (${messageOf(e)})`) };
  }
  result ??= produced > cs
    ? { bytes: out, problem: 'the stream holds more than a cluster: QEMU reads only its first cluster' }
    : { bytes: out.subarray(0, kept), problem: shortOf(kept, cs) };
  return { ...result, produced, consumed };
}

// Reading a Blob into a buffer the caller reuses (a BYOB reader on its byte stream), instead of a
// fresh ArrayBuffer per read: the worker's heap is small, so garbage collections are rare and every
// batch's fresh buffer (up to 8 MiB) stayed resident until one ran. Same speed in Chromium 156
// (docs/performance.md).

/**
 * A read that has not moved for this long is given up and the blob read whole instead (a guard
 * against hangs: once, a BYOB read of a lone File slice never settled in Chromium 156; generous,
 * reads here take milliseconds).
 */
const STALL_MS = 10_000;

/** `p`'s value, or null when it has not settled within `ms`. */
function beforeStall<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stall = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([p, stall]).finally(() => clearTimeout(timer));
}

/**
 * Fills `into` with `blob`'s bytes (as many as both hold) and returns the filled view. Reading
 * moves `into`'s memory to a new ArrayBuffer: the returned view is over it, and `into` is left
 * detached. Where byte streams are not readable that way, returns a view of a fresh buffer.
 */
export async function fillFromBlob(blob: Blob, into: Uint8Array, stallMs = STALL_MS): Promise<Uint8Array> {
  const first = into.buffer;
  if (!(first instanceof ArrayBuffer)) return new Uint8Array(await blob.arrayBuffer());
  let reader: ReadableStreamBYOBReader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {
    return new Uint8Array(await blob.arrayBuffer());
  }
  const want = Math.min(blob.size, into.length);
  const start = into.byteOffset;
  let buf: ArrayBuffer = first;
  let at = 0;
  let done = false;
  while (at < want && !done) {
    const r = await beforeStall(reader.read(new Uint8Array(buf, start + at, want - at)), stallMs);
    if (r === null) {
      reader.cancel().catch(() => undefined);
      return new Uint8Array(await blob.arrayBuffer());
    }
    if (r.value) {
      buf = r.value.buffer;
      at += r.value.byteLength;
    }
    done = r.done;
  }
  if (!done) reader.cancel().catch(() => undefined);
  return new Uint8Array(buf, start, at);
}

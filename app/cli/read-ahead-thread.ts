// The reader thread of read-ahead.ts: preads the reads a plan announces, in order, into a ring of
// shared memory ahead of the main thread. It runs as an `eval` worker (no second file to ship or
// load: the bundle stays one file), so `readerThread` must be self-contained: everything it uses
// comes in through its parameters, and it is turned into source text by Function.prototype.toString.
//
// The protocol (shared Int32Arrays; every hand-over is an Atomics operation, so the bytes written
// before a store are visible after the matching load):
// - ctl[CTL_RELEASED]: how many reads of the current plan the main thread has given back (always in
//   order); ctl[CTL_CANCEL]: non-zero once the plan has ended (the thread stops at its next read);
//   ctl[CTL_WANT]: while the thread waits for room, the CTL_RELEASED count it waits for (the main
//   thread wakes it only then: one wake per half ring, not one per read).
// - state[i]: PENDING until a thread claims read i with compareExchange: WORKER (this thread; then
//   FILLED with got[i] bytes in slot i mod slots, or FAILED) or MAIN (the main thread reads it).
// Slots hold the plan's longest read each; slot i mod slots is written for read i only once every
// earlier read of that slot has been given back, so a lent view is never overwritten.

/** The protocol's numbers (passed to the thread as an object: its text cannot name this module's bindings). */
export const P = { PENDING: 0, WORKER: 1, FILLED: 2, FAILED: 3, MAIN: 4, CTL_RELEASED: 0, CTL_CANCEL: 1, CTL_WANT: 2, CTL_WORDS: 3 } as const;
type Protocol = typeof P;

/** A plan as the main thread posts it. */
export interface PlanMessage {
  /** Offset and length of read i at [2i] and [2i + 1]. */
  readonly reads: Float64Array;
  /** ctl, then per read state and got (each `reads.length / 2` words), over one SharedArrayBuffer. */
  readonly words: SharedArrayBuffer;
  /** Bytes of a slot (a multiple of 8) and how many the ring holds (at least 2). */
  readonly slotBytes: number;
  readonly slots: number;
}

/** What the thread is started with. */
export interface ReaderData {
  readonly path: string;
  /** The main thread's file (st_dev, st_ino): the thread reads only if its own open finds the same one. */
  readonly dev: number;
  readonly ino: number;
  readonly ring: SharedArrayBuffer;
}

interface FsLike {
  openSync(path: string, flags: string): number;
  fstatSync(fd: number): { dev: number; ino: number };
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
}
interface PortLike {
  on(event: 'message', fn: (m: PlanMessage) => void): void;
}

/** The thread's body (runs in the worker; see the protocol above). */
export function readerThread(fs: FsLike, port: PortLike, data: ReaderData, k: Protocol): void {
  let fd = -1;
  try {
    fd = fs.openSync(data.path, 'r');
    const st = fs.fstatSync(fd);
    if (st.dev !== data.dev || st.ino !== data.ino) fd = -1;
  } catch {
    fd = -1;
  }
  const ring = new Uint8Array(data.ring);
  port.on('message', (m) => {
    const n = m.reads.length / 2;
    const ctl = new Int32Array(m.words, 0, k.CTL_WORDS);
    const state = new Int32Array(m.words, 4 * k.CTL_WORDS, n);
    const got = new Int32Array(m.words, 4 * k.CTL_WORDS + 4 * n, n);
    const K = m.slots;
    for (let i = 0; i < n && fd >= 0; i++) {
      if (Atomics.load(ctl, k.CTL_CANCEL) !== 0) return;
      if (Atomics.load(state, i) !== k.PENDING) continue;
      // Slot i mod K is free once reads up to i - K are given back; wait for half the ring.
      if (Atomics.load(ctl, k.CTL_RELEASED) < i - K + 1) {
        const want = Math.min(i, i - K + 1 + (K >> 1));
        Atomics.store(ctl, k.CTL_WANT, want);
        for (;;) {
          const released = Atomics.load(ctl, k.CTL_RELEASED);
          if (released >= want || Atomics.load(ctl, k.CTL_CANCEL) !== 0 || Atomics.load(state, i) !== k.PENDING) break;
          Atomics.wait(ctl, k.CTL_RELEASED, released, 20);
        }
        Atomics.store(ctl, k.CTL_WANT, 0);
        if (Atomics.load(ctl, k.CTL_CANCEL) !== 0) return;
      }
      if (Atomics.compareExchange(state, i, k.PENDING, k.WORKER) !== k.PENDING) continue;
      const len = m.reads[2 * i + 1]!;
      const buf = ring.subarray((i % K) * m.slotBytes, (i % K) * m.slotBytes + len);
      let filled = 0;
      let ok = true;
      try {
        const pos = m.reads[2 * i]!;
        while (filled < len) {
          const r = fs.readSync(fd, buf, filled, len - filled, pos + filled);
          if (r === 0) break;
          filled += r;
        }
      } catch {
        ok = false;
      }
      got[i] = filled;
      Atomics.store(state, i, ok ? k.FILLED : k.FAILED);
      Atomics.notify(state, i);
    }
  });
}

/** The worker's source text (an `eval` worker is a CommonJS script). */
export const READER_SCRIPT = `const wt = require('node:worker_threads');
(${readerThread.toString()})(require('node:fs'), wt.parentPort, wt.workerData, ${JSON.stringify(P)});`;

// The CLI's source for the image it analyses (check, map, report): a local file read with pread,
// and, when the header says the engine will read a lot of metadata (the L2 tables and refcount
// blocks of a large image), a reader thread that preads the reads readRanges announces
// (ByteSource.readAhead) into a ring of shared memory ahead of the engine, so that copying them
// from the page cache overlaps the engine's parsing on the main thread. The thread is started
// when the file is opened, so its own start-up overlaps the header's parsing; its protocol is in
// read-ahead-thread.ts.
//
// Contracts: the bytes of every read are the ones `read` would return (fewer only at the end of
// the file; a read the thread could not make is made again on the main thread, so an error is
// thrown where and as it would be without the thread); a read is lent until readRanges gives it
// back; memory is the ring (RING_BYTES) whatever the image; the thread never keeps the process
// alive (unref, and terminated by close()).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ByteRange, ByteSource, ReadAheadPlan } from '../format/node';
import { nodeBuiltin } from './builtin';
import { P, READER_SCRIPT, type PlanMessage, type ReaderData } from './read-ahead-thread';

/** The ring the thread reads into. */
export const RING_BYTES = 4 << 20;
/** A read longer than this is made on the main thread (the ring must hold two of them). */
const MAX_LENT = RING_BYTES / 2;
/** readRanges calls with fewer reads are not worth a plan. */
const MIN_READS = 16;
/** The thread is started when the L2 tables and refcount blocks may hold this much or more. */
export const READ_AHEAD_MIN_BYTES = 64 << 20;

export interface FileSourceOptions {
  /** Start the reader thread when the image's header says it pays (default true); false: never. */
  readonly readAhead?: boolean;
  /** Tests: the metadata estimate from which the thread is started (default READ_AHEAD_MIN_BYTES). */
  readonly minBytes?: number;
}

export class FileSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  private worker: Worker | null = null;
  private ring: Uint8Array | null = null;
  private active: Plan | null = null;
  private closed = false;

  private constructor(private readonly fd: number, readonly size: number, readonly name: string) {}

  static async open(path: string, opts: FileSourceOptions = {}): Promise<FileSource> {
    const fd = openSync(path, 'r');
    let src: FileSource;
    try {
      const st = fstatSync(fd);
      src = new FileSource(fd, st.size, basename(path));
      if (opts.readAhead !== false && metadataEstimate(src) >= (opts.minBytes ?? READ_AHEAD_MIN_BYTES)) src.startReader(path, st.dev, st.ino);
      // The header read for the estimate is not one the engine asked for.
      src.reads = 0;
      src.bytesRead = 0;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return src;
  }

  /** Whether a reader thread was started (tests). */
  get readingAhead(): boolean {
    return this.worker !== null;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const buf = new Uint8Array(end - offset);
    const got = this.fill(offset, buf);
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  async readInto(offset: number, into: Uint8Array): Promise<number> {
    const end = Math.min(this.size, offset + into.length);
    return offset >= end ? 0 : this.fill(offset, into.subarray(0, end - offset));
  }

  readAhead(reads: readonly ByteRange[]): ReadAheadPlan | null {
    if (!this.worker || !this.ring || this.active || this.closed || reads.length < MIN_READS) return null;
    this.active = new Plan(this, this.ring, reads, this.worker);
    return this.active;
  }

  /** Reads `buf.length` bytes at `offset` with pread (fewer at the end of the file); returns how many. */
  fill(offset: number, buf: Uint8Array): number {
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.count(got);
    return got;
  }

  count(bytes: number): void {
    this.reads++;
    this.bytesRead += bytes;
  }

  planEnded(plan: Plan): void {
    if (this.active === plan) this.active = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.active?.end();
    // The thread has its own descriptor: closing ours cannot make it read another file.
    if (this.worker) void this.worker.terminate();
    this.worker = null;
    closeSync(this.fd);
  }

  private startReader(path: string, dev: number, ino: number): void {
    const ring = new SharedArrayBuffer(RING_BYTES);
    const data: ReaderData = { path, dev, ino, ring };
    const { Worker } = nodeBuiltin('node:worker_threads');
    const worker = new Worker(READER_SCRIPT, { eval: true, workerData: data, stdout: true, stderr: true });
    worker.unref();
    // A thread that fails (it cannot: it catches its reads' errors) only stops reading ahead.
    worker.on('error', () => {
      if (this.worker === worker) this.worker = null;
    });
    this.worker = worker;
    this.ring = new Uint8Array(ring);
  }
}

/** One readRanges call's reads, served by the thread where it got there first. */
class Plan implements ReadAheadPlan {
  private readonly ctl: Int32Array;
  private readonly state: Int32Array;
  private readonly slotBytes: number;
  private readonly slots: number;
  private readonly got: Int32Array;
  /** Buffers of reads made on this thread, by read index, until given back; and spare ones. */
  private readonly own = new Map<number, Uint8Array>();
  private readonly spare: Uint8Array[] = [];
  private ended = false;

  constructor(private readonly src: FileSource, private readonly ring: Uint8Array, private readonly reads: readonly ByteRange[], worker: Worker) {
    const n = reads.length;
    const words = new SharedArrayBuffer(4 * (P.CTL_WORDS + 2 * n));
    this.ctl = new Int32Array(words, 0, P.CTL_WORDS);
    this.state = new Int32Array(words, 4 * P.CTL_WORDS, n);
    this.got = new Int32Array(words, 4 * P.CTL_WORDS + 4 * n, n);
    const list = new Float64Array(2 * n);
    let longest = 8;
    reads.forEach((r, i) => {
      list[2 * i] = r.offset;
      list[2 * i + 1] = r.length;
      if (r.length > MAX_LENT) this.state[i] = P.MAIN;
      else longest = Math.max(longest, r.length);
    });
    // Slots at multiples of 8 bytes, so that the engine's word views of a block stay aligned.
    this.slotBytes = Math.ceil(longest / 8) * 8;
    this.slots = Math.floor(ring.length / this.slotBytes);
    const msg: PlanMessage = { reads: list, words, slotBytes: this.slotBytes, slots: this.slots };
    worker.postMessage(msg, [list.buffer]);
  }

  async take(i: number): Promise<Uint8Array> {
    const { state } = this;
    let s = Atomics.compareExchange(state, i, P.PENDING, P.MAIN);
    // The thread is reading it: a pread of at most MAX_LENT bytes, which returns or fails.
    while (s === P.WORKER) {
      Atomics.wait(state, i, P.WORKER, 1000);
      s = Atomics.load(state, i);
    }
    if (s === P.FILLED) {
      const got = this.got[i]!;
      this.src.count(got);
      const at = (i % this.slots) * this.slotBytes;
      return this.ring.subarray(at, at + got);
    }
    // Not claimed yet (PENDING, now ours), too long for the ring (MAIN), or failed on the thread
    // (FAILED: read again here, so that an error is thrown as it would be without the thread).
    const r = this.reads[i]!;
    let buf = this.spare.pop();
    if (!buf || buf.length < r.length) buf = new Uint8Array(Math.max(r.length, buf?.length ?? 0));
    this.own.set(i, buf);
    const got = this.src.fill(r.offset, buf.subarray(0, r.length));
    return buf.subarray(0, got);
  }

  giveBack(i: number): void {
    const buf = this.own.get(i);
    if (buf) {
      this.own.delete(i);
      this.spare.push(buf);
    }
    Atomics.store(this.ctl, P.CTL_RELEASED, i + 1);
    const want = Atomics.load(this.ctl, P.CTL_WANT);
    if (want > 0 && i + 1 >= want) Atomics.notify(this.ctl, P.CTL_RELEASED);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    Atomics.store(this.ctl, P.CTL_CANCEL, 1);
    Atomics.notify(this.ctl, P.CTL_RELEASED);
    this.src.planEnded(this);
  }
}

/**
 * Bytes of L2 tables and refcount blocks the check may read, from the header alone (0 when the
 * file is not a qcow2 image the engine would read that way): at most one L2 table per L1 entry
 * and per host cluster, and the refcount blocks covering the file.
 */
export function metadataEstimate(src: FileSource): number {
  const h = new Uint8Array(104);
  const n = src.fill(0, h);
  if (n < 72) return 0;
  const dv = new DataView(h.buffer);
  const version = dv.getUint32(4);
  const bits = dv.getUint32(20);
  if (dv.getUint32(0) !== 0x514649fb || (version !== 2 && version !== 3) || bits < 9 || bits > 21) return 0;
  const cs = 2 ** bits;
  if (cs > MAX_LENT) return 0;
  const order = version === 3 && n >= 100 ? dv.getUint32(96) : 4;
  if (order > 6) return 0;
  const fileClusters = Math.ceil(src.size / cs);
  const perBlock = (cs * 8) / 2 ** order;
  const blocks = Math.min(dv.getUint32(56) * (cs / 8), Math.ceil(fileClusters / perBlock));
  const tables = Math.min(dv.getUint32(36), fileClusters);
  return (blocks + tables) * cs;
}

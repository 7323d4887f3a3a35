// A File as a ByteSource whose batched reads are made by a reader worker (reader.worker.ts), so
// that the analysis worker parses one batch while the next ones are sliced and read: in Chromium
// making a Blob slice blocks the calling thread (a synchronous call to the browser process). Single
// reads (the header, the L1 and refcount tables) stay on this thread: few, and latency counts there.

import { BlobSource, type ByteRange, type ByteSource } from '../format';
import { isFromReader, type ToReader } from './reader-protocol';

/** What the source needs of a Worker (a port in tests). */
export interface ReaderPort {
  postMessage(m: ToReader, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<unknown>) => void) | null;
}

interface Waiting {
  readonly resolve: (b: ArrayBuffer) => void;
  readonly reject: (e: Error) => void;
}

export class ReaderSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  private readonly direct: BlobSource<Blob>;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;

  constructor(file: File, private readonly port: ReaderPort) {
    this.size = file.size;
    this.name = file.name;
    this.direct = new BlobSource<Blob>(file, file.name);
    port.onmessage = (ev) => this.receive(ev.data);
    port.postMessage({ type: 'file', file });
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.direct.read(offset, length);
  }

  /** Element i holds ranges[i]'s bytes (each range inside the file, as readRanges asks). */
  readonly readBatch = async (ranges: readonly ByteRange[]): Promise<Uint8Array[]> => {
    const flat = new Float64Array(ranges.length * 2);
    const ends = ranges.map((r, i) => {
      flat[2 * i] = r.offset;
      flat[2 * i + 1] = r.length;
      return Math.max(r.offset, Math.min(this.size, r.offset + r.length));
    });
    const id = ++this.next;
    const buf = await new Promise<ArrayBuffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.port.postMessage({ type: 'read', id, ranges: flat }, [flat.buffer]);
    });
    let at = 0;
    return ranges.map((r, i) => {
      const n = Math.max(0, Math.min(ends[i]! - r.offset, buf.byteLength - at));
      const out = new Uint8Array(buf, at, n);
      at += n;
      return out;
    });
  };

  /** Stops listening to the reader (which stays for the next file); requests still waiting fail. */
  close(): void {
    this.port.onmessage = null;
    for (const w of this.waiting.values()) w.reject(new Error('the reader was closed'));
    this.waiting.clear();
  }

  private receive(m: unknown): void {
    if (!isFromReader(m)) return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.type === 'bytes') w.resolve(m.buffer);
    else w.reject(new Error(`reading the file failed: ${m.message}`));
  }
}

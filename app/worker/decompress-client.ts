// The page's side of the decompressor's worker, the only place that creates it. One request at a
// time is enough for the inspector, but any number may wait. A request that gets no answer within
// the budget ends the worker (a stream built to make the decompressor spin or loop); its requests
// are answered with that as the problem, and the next request starts a new worker.

import DecompressWorker from './decompress.worker?worker&inline';
import { isDecompressReply, type DecompressReply } from './decompress-protocol';

/** How long one preview may take before the worker is ended (normal clusters take milliseconds). */
const DECOMPRESS_BUDGET_MS = 3000;

export type Decompressed = Omit<DecompressReply, 'id'>;

interface Pending {
  readonly resolve: (r: Decompressed) => void;
  readonly clusterSize: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class DecompressClient {
  private worker: Worker | null = null;
  private next = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly budgetMs = DECOMPRESS_BUDGET_MS) {}

  /** Decompresses `stored` into at most one cluster; never rejects (failures are the problem). */
  decompress(kind: 'zlib' | 'zstd', stored: Uint8Array, clusterSize: number): Promise<Decompressed> {
    const id = ++this.next;
    const w = this.ensureWorker();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const s = this.budgetMs / 1000;
        this.stop(`decompression stopped after ${Number.isInteger(s) ? s : s.toFixed(1)} s: the stored bytes may be built to make the decompressor loop (a new decompressor will be started)`);
      }, this.budgetMs);
      this.pending.set(id, { resolve, clusterSize, timer });
      w.postMessage({ id, kind, stored, clusterSize });
    });
  }

  /** Ends the worker for good (page teardown, tests). */
  dispose(): void {
    this.stop('the decompressor was stopped');
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new DecompressWorker();
    w.onmessage = (ev: MessageEvent<unknown>) => this.receive(ev.data);
    w.onmessageerror = () => this.stop('a message from the decompressor could not be decoded');
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.stop(`the decompressor failed: ${ev.message || 'unknown error'}`);
    };
    this.worker = w;
    return w;
  }

  private receive(data: unknown): void {
    const id = typeof (data as { id?: unknown } | null)?.id === 'number' ? (data as { id: number }).id : -1;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (isDecompressReply(data, p.clusterSize)) p.resolve({ bytes: data.bytes, problem: data.problem });
    else p.resolve({ bytes: null, problem: 'the decompressor sent a malformed answer' });
  }

  /** Terminates the worker and answers everything waiting with `problem`. */
  private stop(problem: string): void {
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ bytes: null, problem });
    }
    this.pending.clear();
  }
}

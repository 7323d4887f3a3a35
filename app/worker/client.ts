// The page's side of the analysis worker, and the only place that creates it. Every message is
// checked by the protocol's guard before a listener sees it. A worker that dies (uncaught error,
// failed load) is reported as a 'worker-error' event and replaced; a new analysis while one runs
// replaces the worker at once, so cancelling never waits for the engine. A watchdog ends a worker
// that stays silent too long while it analyses (a hostile file that makes the engine loop or
// exhaust memory): it is terminated and the job reported as stopped.

import AnalysisWorker from './analysis.worker?worker&inline';
import { describeBadMessage, isFromWorker, type AnalysisResult, type FromWorker, type ToWorker } from './protocol';
import type { BitmapMapsMsg, BitmapRefMsg } from './bitmap-maps';
import { fromWire } from './result-wire';

type ResultMsg = Extract<FromWorker, { type: 'result' }>;

/** A file's result as listeners receive it: the analysis with its guest map rebuilt (result-wire.ts). */
export type ResultEvent = Omit<ResultMsg, 'analysis' | 'guestMap'> & { readonly analysis: AnalysisResult };

/** What listeners receive: the worker's messages (the result unpacked) plus the client's own reports. */
export type ClientEvent = Exclude<FromWorker, ResultMsg> | ResultEvent | { readonly type: 'worker-error'; readonly job: number | null; readonly message: string };

export interface ClusterBytes {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** How long a cooperative cancel may take before the worker is terminated. */
const CANCEL_GRACE_MS = 1500;

/** How long a running analysis may go without any message from the worker. */
export const DEFAULT_WATCHDOG_MS = 30_000;

/** The watchdog period: `?watchdog=SECONDS` in the page's URL when given (tests), else the default. */
export function watchdogFromUrl(search: string = typeof location === 'undefined' ? '' : location.search): number {
  const s = Number(new URLSearchParams(search).get('watchdog'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_WATCHDOG_MS;
}

interface ClientOptions {
  /** Milliseconds without a worker message, while a job runs, after which the worker is ended. */
  readonly watchdogMs?: number;
}

export class AnalysisClient {
  private worker: Worker | null = null;
  private job = 0;
  private running = false;
  private request = 0;
  private readonly pending = new Map<number, { resolve(c: ClusterBytes): void; reject(e: Error): void }>();
  private readonly pendingMaps = new Map<number, { resolve(m: BitmapMapsMsg): void; reject(e: Error): void }>();
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private readonly watchdogMs: number;
  private watchdog: ReturnType<typeof setTimeout> | null = null;

  constructor(opts: ClientOptions = {}) {
    this.watchdogMs = opts.watchdogMs ?? watchdogFromUrl();
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(fn: (e: ClientEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts analysing `files` (dropped together); any running analysis is abandoned. Returns the job id. */
  analyze(files: readonly File[]): number {
    if (this.running) this.replaceWorker();
    this.job += 1;
    this.running = true;
    this.send({ type: 'analyze', job: this.job, files });
    this.arm();
    return this.job;
  }

  /**
   * Starts the worker ahead of the first job (its script takes a tenth of a second or more to
   * load), so that a pick is answered by a worker that is already running.
   */
  warm(): void {
    this.ensureWorker();
  }

  /** Asks the running job to stop; terminates the worker if it does not within a grace period. */
  cancel(): void {
    if (!this.running) return;
    const job = this.job;
    this.send({ type: 'cancel', job });
    setTimeout(() => {
      if (this.running && this.job === job) {
        this.replaceWorker();
        this.running = false;
        this.disarm();
        this.emit({ type: 'cancelled', job });
      }
    }, CANCEL_GRACE_MS);
  }

  /** Bytes of host cluster `index` of file `file` of job `job` (the current job only). */
  readCluster(job: number, file: number, index: number): Promise<ClusterBytes> {
    const request = ++this.request;
    return new Promise((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      this.send({ type: 'read-cluster', request, job, file, index });
    });
  }

  /** Extents of bitmaps of job `job`'s files, computed in the worker; `compare` the first two. */
  bitmapMaps(job: number, bitmaps: readonly BitmapRefMsg[], compare: boolean): Promise<BitmapMapsMsg> {
    const request = ++this.request;
    return new Promise((resolve, reject) => {
      this.pendingMaps.set(request, { resolve, reject });
      this.send({ type: 'bitmap-maps', request, job, bitmaps, compare });
    });
  }

  /** Ends the worker for good (page teardown, tests). */
  dispose(): void {
    this.disarm();
    this.worker?.terminate();
    this.worker = null;
    this.rejectPending('the analysis worker was stopped');
  }

  private send(m: ToWorker): void {
    this.ensureWorker().postMessage(m);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new AnalysisWorker();
    w.onmessage = (ev: MessageEvent<unknown>) => this.receive(ev.data);
    w.onmessageerror = () => this.emit({ type: 'worker-error', job: this.running ? this.job : null, message: 'a message from the analysis worker could not be decoded' });
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      const job = this.running ? this.job : null;
      this.replaceWorker();
      this.running = false;
      this.disarm();
      this.emit({ type: 'worker-error', job, message: `the analysis worker died: ${ev.message || 'unknown error'} (a new one has been started)` });
    };
    this.worker = w;
    return w;
  }

  /** (Re)starts the watchdog while a job runs; every message from the worker calls this. */
  private arm(): void {
    this.disarm();
    if (!this.running) return;
    const job = this.job;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (!this.running || this.job !== job) return;
      this.replaceWorker();
      this.running = false;
      const s = this.watchdogMs / 1000;
      this.emit({ type: 'worker-error', job, message: `analysis stopped: the worker did not answer for ${Number.isInteger(s) ? s : s.toFixed(1)} s (the file may be built to make the analysis loop or exhaust memory; a new worker has been started)` });
    }, this.watchdogMs);
  }

  private disarm(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private replaceWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    this.rejectPending('the analysis worker was restarted');
  }

  private rejectPending(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
    for (const p of this.pendingMaps.values()) p.reject(new Error(message));
    this.pendingMaps.clear();
  }

  private receive(data: unknown): void {
    this.arm();
    if (!isFromWorker(data)) {
      this.emit({ type: 'worker-error', job: this.running ? this.job : null, message: describeBadMessage(data) });
      return;
    }
    switch (data.type) {
      case 'cluster-bytes':
      case 'cluster-error': {
        const p = this.pending.get(data.request);
        this.pending.delete(data.request);
        if (data.type === 'cluster-bytes') p?.resolve({ offset: data.offset, bytes: data.bytes });
        else p?.reject(new Error(data.message));
        return;
      }
      case 'bitmap-maps':
      case 'bitmap-error': {
        const p = this.pendingMaps.get(data.request);
        this.pendingMaps.delete(data.request);
        if (data.type === 'bitmap-maps') p?.resolve(data.maps);
        else p?.reject(new Error(data.message));
        return;
      }
      case 'job-done':
      case 'cancelled':
        if (data.job === this.job) {
          this.running = false;
          this.disarm();
        }
        break;
      case 'internal-error':
        this.running = false;
        this.disarm();
        break;
      case 'result': {
        const { guestMap: _packed, ...rest } = data;
        this.emit({ ...rest, analysis: fromWire(data) });
        return;
      }
      default:
        break;
    }
    this.emit(data);
  }

  private emit(e: ClientEvent): void {
    for (const fn of this.listeners) fn(e);
  }
}

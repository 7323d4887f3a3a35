// The analysis worker: runs the engine (app/format) on dropped Files and streams what it finds to
// the page as FromWorker messages (protocol.ts). Header first, then structures, which clusters are in
// use (from the refcount blocks, before any L2 table), progress (at most every 50 ms), the roles
// (copied as soon as they are final, before the rest of the analysis), the other per-cluster arrays
// (each moved whole, not copied), findings and the result
// (its guest map packed, with qemu-img measure's convert estimate: result-wire.ts).
// One job at a time: a new 'analyze' aborts the running one. Files stay here after the analysis
// for read-cluster requests.

import { analyze, Aborted, BlobSource, FindingCode, Qcow2Error, reftableRange, roleClusterCounts, type ByteSource } from '../format';
import { PrefetchSource } from './prefetch-source';
import { planChain } from './chain';
import { splitClusterArrays, transferables } from './split';
import { isToWorker, type ClusterArray, type ClusterArrayName, type FromWorker, type ToWorker } from './protocol';
import { bitmapMaps, bitmapTransferables, type BitmapFileState } from './bitmap-maps';
import { fillFromBlob } from './blob-fill';
import { packedBuffers, toWire } from './result-wire';

interface Job {
  readonly id: number;
  readonly files: readonly File[];
  readonly abort: AbortController;
  /** Cluster size per file, once its header is known. */
  readonly clusterSize: (number | null)[];
  /** Per file, once analysed: what bitmap requests need. */
  readonly bitmaps: (BitmapFileState | null)[];
}

let current: Job | null = null;

const PROGRESS_EVERY_MS = 50;

/**
 * Bytes one batched read may hold. readRanges keeps about five in reused buffers, which stay a
 * small part of the page's memory budget for the image (8 B per host cluster + 64 MiB; with 64 KiB
 * clusters the 8 B are 1/8192 of the file): 1/16384 of the file, a power of two from 1 to 8 MiB.
 */
export function readBudget(fileSize: number): number {
  return Math.min(8 << 20, Math.max(1 << 20, 2 ** Math.floor(Math.log2(Math.max(1, fileSize) / 16384))));
}

/**
 * A File as a ByteSource that reads scattered ranges in batches (one composite Blob per batch),
 * each into a buffer readRanges reuses.
 */
const fileSource = (f: File): ByteSource =>
  new BlobSource<Blob>(f, f.name, (parts) => new Blob(parts), { fill: fillFromBlob, maxRead: readBudget(f.size) });

/**
 * The analysed file's source: as fileSource, and it keeps the header bytes the chain planner read
 * and reads the L1 and refcount tables as soon as the header is known.
 */
const analysedSource = (f: File): PrefetchSource =>
  new PrefetchSource(f, f.name, (parts) => new Blob(parts), { fill: fillFromBlob, maxRead: readBudget(f.size) });

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, { transfer });
}

/** Moves a per-cluster array to the page in one message, without a copy (a view is copied once). */
function sendArray(job: number, file: number, name: ClusterArrayName, arr: ClusterArray): void {
  const whole = arr.byteOffset === 0 && arr.byteLength === arr.buffer.byteLength && arr.buffer instanceof ArrayBuffer ? arr : arr.slice();
  post({ type: 'cluster-array', job, file, name, start: 0, total: whole.length, chunk: whole }, [whole.buffer as ArrayBuffer]);
}

async function runFile(job: Job, file: number, src: PrefetchSource, openBacking: (name: string) => Promise<ByteSource | null>): Promise<void> {
  const f = job.files[file]!;
  const t0 = performance.now();
  const ref = { job: job.id, file };
  // Progress goes out at most every PROGRESS_EVERY_MS (and at each phase's start and end): a large
  // image reports thousands of steps, and each message re-renders the page.
  let progressAt = -Infinity;
  let progressPhase = '';
  let rolesSent = false;
  try {
    const analysis = await analyze(src, {
      signal: job.abort.signal,
      openBacking,
      onEvent: (e) => {
        if (job.abort.signal.aborted) return;
        switch (e.kind) {
          case 'header': {
            const h = e.stage.header;
            job.clusterSize[file] = h.clusterSize || null;
            post({ type: 'header', ...ref, stage: e.stage });
            // Read next, one after the other, on the way to the refcount blocks (the early map).
            const rt = reftableRange(h, src.size);
            src.prefetch(rt.offset, rt.length);
            src.prefetch(Number(h.l1TableOffset), h.l1Size * 8);
            break;
          }
          case 'structures':
            post({ type: 'structures', ...ref, structures: e.structures });
            break;
          case 'progress': {
            const now = performance.now();
            if (e.phase === progressPhase && e.done < e.total && now - progressAt < PROGRESS_EVERY_MS) break;
            progressAt = now;
            progressPhase = e.phase;
            post({ type: 'progress', ...ref, phase: e.phase, done: e.done, total: e.total });
            break;
          }
          case 'findings':
            post({ type: 'findings', ...ref, findings: e.findings });
            break;
          case 'usage':
            post({ type: 'usage', ...ref, usage: e.usage }, [e.usage.used.buffer as ArrayBuffer]);
            break;
          case 'owners':
            if (!rolesSent) post({ type: 'owners', ...ref, owners: e.owners }, [e.owners.masks.buffer as ArrayBuffer]);
            break;
          case 'roles': {
            // Final from here on, and still read by the rest of the analysis here: the page gets
            // a copy now and builds and draws the owners' map while the analysis finishes. The
            // copy goes into memory the check is done with when there is some (no new allocation,
            // no first-touch page faults: 16.7 M roles copied in about 3 ms rather than 20–50).
            const copy = e.spare ? new Uint8Array(e.spare, 0, e.roles.length) : new Uint8Array(e.roles.length);
            copy.set(e.roles);
            // Counted here once (the freed-cluster and safety steps read the same memoised counts),
            // not again on the page's main thread before its map can mount.
            const roleCounts = Uint32Array.from(roleClusterCounts(e.roles));
            post({ type: 'cluster-array', ...ref, name: 'roles', start: 0, total: copy.length, chunk: copy, roleCounts }, [copy.buffer as ArrayBuffer]);
            rolesSent = true;
            break;
          }
        }
      },
    });
    if (job.abort.signal.aborted) throw new Aborted();
    job.bitmaps[file] = {
      file: f, header: analysis.structures.header, bitmaps: analysis.structures.bitmapDirectory?.bitmaps ?? [], guestMap: analysis.guestMap,
      chainComplete: !analysis.findings.some((x) => x.code === 'BACKING_UNAVAILABLE'), refusals: analysis.qemuRefuses,
    };
    const { rest, arrays } = splitClusterArrays(analysis.check);
    for (const [name, arr] of arrays) if (!(name === 'roles' && rolesSent)) sendArray(job.id, file, name, arr);
    const wire = toWire({ ...analysis, check: rest });
    post({ type: 'result', ...ref, ...wire, ms: performance.now() - t0 }, [...transferables(rest), ...packedBuffers(wire.guestMap)]);
  } catch (err) {
    if (err instanceof Aborted || job.abort.signal.aborted) throw new Aborted();
    if (err instanceof Qcow2Error) {
      post({ type: 'failed', ...ref, code: err.code, message: err.message, notQcow2: err.code === FindingCode.NOT_QCOW2 });
    } else {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      post({ type: 'failed', ...ref, code: 'INTERNAL', message, notQcow2: false });
    }
  }
}

async function runJob(job: Job): Promise<void> {
  try {
    const analysed = job.files.map(analysedSource);
    const plan = await planChain(job.files, (i) => analysed[i]!);
    if (job.abort.signal.aborted) throw new Aborted();
    post({ type: 'plan', job: job.id, order: plan.order, backing: plan.backing, missing: plan.missing });
    for (const file of plan.order) {
      // One source per dropped file, so that the engine recognises a file met twice (a cycle).
      const sources = new Map<number, ByteSource>();
      const openBacking = async (name: string): Promise<ByteSource | null> => {
        const b = plan.resolve(file, name);
        if (b === null) return null;
        const bf = job.files[b]!;
        let src = sources.get(b);
        if (!src) sources.set(b, (src = fileSource(bf)));
        return src;
      };
      await runFile(job, file, analysed[file]!, openBacking);
    }
    post({ type: 'job-done', job: job.id });
  } catch (err) {
    if (err instanceof Aborted || job.abort.signal.aborted) post({ type: 'cancelled', job: job.id });
    else post({ type: 'internal-error', message: err instanceof Error ? err.message : String(err) });
  }
}

async function readCluster(m: Extract<ToWorker, { type: 'read-cluster' }>): Promise<void> {
  const job = current;
  const f = job && job.id === m.job ? job.files[m.file] : undefined;
  const cs = job?.clusterSize[m.file] ?? null;
  if (!f || cs === null) {
    post({ type: 'cluster-error', request: m.request, message: 'that file is no longer open' });
    return;
  }
  const offset = m.index * cs;
  if (offset >= f.size) {
    post({ type: 'cluster-error', request: m.request, message: `cluster ${m.index} lies past the end of the file` });
    return;
  }
  const bytes = new Uint8Array(await f.slice(offset, Math.min(f.size, offset + cs)).arrayBuffer());
  post({ type: 'cluster-bytes', request: m.request, offset, bytes }, [bytes.buffer]);
}

self.onmessage = (ev: MessageEvent<unknown>) => {
  const m = ev.data;
  if (!isToWorker(m)) {
    post({ type: 'internal-error', message: 'the worker received a malformed request' });
    return;
  }
  switch (m.type) {
    case 'analyze': {
      current?.abort.abort();
      const job: Job = { id: m.job, files: m.files, abort: new AbortController(), clusterSize: m.files.map(() => null), bitmaps: m.files.map(() => null) };
      current = job;
      void runJob(job);
      break;
    }
    case 'cancel':
      if (current?.id === m.job) current.abort.abort();
      break;
    case 'bitmap-maps': {
      const states = current && current.id === m.job ? current.bitmaps : [];
      bitmapMaps(states, m.bitmaps, m.compare).then(
        (maps) => post({ type: 'bitmap-maps', request: m.request, maps }, bitmapTransferables(maps)),
        (err: unknown) => post({ type: 'bitmap-error', request: m.request, message: err instanceof Error ? err.message : String(err) }),
      );
      break;
    }
    case 'read-cluster':
      readCluster(m).catch((err: unknown) => {
        post({ type: 'cluster-error', request: m.request, message: err instanceof Error ? err.message : String(err) });
      });
      break;
  }
};

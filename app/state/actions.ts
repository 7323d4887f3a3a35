// Everything that changes the app's state, as plain functions: opening files (images go to the
// worker; saved analyses, told apart by content, are read here), cancelling, selecting a file,
// cluster or tab, and applying what the worker reports (applyEvent, pure enough to test without a
// worker). The one AnalysisClient is created on first use.

import { AnalysisClient, type ClientEvent, type ClusterBytes } from '../worker/client';
import { DecompressClient, type Decompressed } from '../worker/decompress-client';
import type { BitmapMapsMsg, BitmapRefMsg } from '../worker/bitmap-maps';
import { dropClusterArrays, putClusterBatch, putOwners, putUsage } from './registry';
import { isSavedAnalysis, readSaved, type SavedEntry } from './saved';
import { newFileEntry, useApp, type AppState, type FileEntry, type Highlight, type Tab } from './store';

let client: AnalysisClient | null = null;

function getClient(): AnalysisClient {
  if (!client) {
    client = new AnalysisClient();
    client.subscribe(applyEvent);
  }
  return client;
}

/** Starts the analysis worker before the first pick (called once the page is idle). */
export function warmAnalysis(): void {
  getClient().warm();
}

/** Analyses files dropped or picked together; whatever was running is abandoned. */
export function openFiles(files: readonly File[]): void {
  if (files.length === 0) return;
  performance.mark('qcowscope:file');
  const seq = ++openSeq;
  void sortDropped(files).then(
    ({ images, saved }) => seq === openSeq && startJob(images, saved),
    (e: unknown) => seq === openSeq && useApp.setState({ error: `the dropped files could not be read: ${e instanceof Error ? e.message : String(e)}` }),
  );
}

/** Bumped by every openFiles, so that a slow read of an earlier drop cannot replace a later one. */
let openSeq = 0;
/** Jobs with no image to analyse (saved analyses only) get ids of their own, below zero. */
let localJob = 0;

/** Images and saved analyses (told apart by content); saved analyses are read and parsed here. */
async function sortDropped(files: readonly File[]): Promise<{ images: File[]; saved: SavedEntry[] }> {
  const isSaved = await Promise.all(files.map(isSavedAnalysis));
  const images = files.filter((_, i) => !isSaved[i]);
  const docs = files.filter((_, i) => isSaved[i]);
  const saved = await Promise.all(docs.map((f, i) => readSaved(f, images.length + i)));
  return { images, saved };
}

function startJob(images: readonly File[], saved: readonly SavedEntry[]): void {
  let job: number;
  if (images.length > 0) job = getClient().analyze(images);
  else {
    client?.cancel();
    job = --localJob;
  }
  dropClusterArrays(job);
  for (const { entry, roles, storedRefcounts } of saved) {
    if (roles) putClusterBatch(job, entry.index, 'roles', 0, roles.length, roles);
    if (storedRefcounts) putClusterBatch(job, entry.index, 'storedRefcounts', 0, storedRefcounts.length, storedRefcounts);
  }
  useApp.setState({
    job, jobStatus: images.length > 0 ? 'running' : 'done', files: [...images.map((f, i) => newFileEntry(i, f)), ...saved.map((x) => x.entry)],
    current: 0, selection: null, error: null, dragging: false, startedAt: performance.now(), highlight: null, viewRequest: null,
  });
}

export function cancelAnalysis(): void {
  client?.cancel();
}

export function selectFile(index: number): void {
  useApp.setState({ current: index, selection: null, highlight: null, viewRequest: null });
}

/** Called by the map once it has drawn a file's complete roles. */
export function markMapShown(job: number, file: number): void {
  const s = useApp.getState();
  if (s.job !== job || s.files[file]?.mapShown !== false) return;
  useApp.setState(updateFile(s, file, { mapShown: true }));
}

/** Shows only `h`'s clusters in full colour on the map (null: all). */
export function setHighlight(h: Highlight | null): void {
  useApp.setState({ highlight: h });
}

export function selectCluster(index: number | null): void {
  useApp.setState({ selection: index });
}

/** Selects a host cluster and asks the map to bring it into view (e.g. a finding's cluster). */
export function showCluster(index: number): void {
  const seq = (useApp.getState().viewRequest?.seq ?? 0) + 1;
  useApp.setState({ selection: index, viewRequest: { cluster: index, zoom: null, seq } });
}

export function setTab(tab: Tab): void {
  useApp.setState({ tab });
}

export function setDragging(dragging: boolean): void {
  if (useApp.getState().dragging !== dragging) useApp.setState({ dragging });
}

let decompressor: DecompressClient | null = null;

/**
 * A compressed cluster's stored bytes decompressed (at most one cluster), in the decompressor's
 * worker under its time budget; never rejects.
 */
export function decompressStored(kind: 'zlib' | 'zstd', stored: Uint8Array, clusterSize: number): Promise<Decompressed> {
  decompressor ??= new DecompressClient();
  return decompressor.decompress(kind, stored, clusterSize);
}

/** Bytes of host cluster `index` of the file on screen. */
export function readCluster(index: number): Promise<ClusterBytes> {
  const { job, current, files } = useApp.getState();
  if (job === null || current === null) return Promise.reject(new Error('no file is open'));
  if (files[current]?.saved) return Promise.reject(new Error('bytes unavailable: this is a saved analysis, and the image itself is not present'));
  return getClient().readCluster(job, current, index);
}

/** Bitmap extents computed in the worker (the Bitmaps tab); `compare` the first two refs. */
export function bitmapMaps(refs: readonly BitmapRefMsg[], compare: boolean): Promise<BitmapMapsMsg> {
  const { job, files } = useApp.getState();
  if (job === null) return Promise.reject(new Error('no file is open'));
  if (refs.some((r) => files[r.file]?.saved)) return Promise.reject(new Error('extents unavailable: this is a saved analysis, and the image itself is not present'));
  return getClient().bitmapMaps(job, refs, compare);
}

function updateFile(s: AppState, file: number, patch: Partial<FileEntry>): Partial<AppState> {
  return { files: s.files.map((f) => (f.index === file ? { ...f, ...patch } : f)) };
}

/** Applies one worker event to the store. Events of other jobs than the current are ignored. */
export function applyEvent(e: ClientEvent): void {
  const s = useApp.getState();
  if (e.type === 'worker-error' || e.type === 'internal-error') {
    if (e.type === 'worker-error' && e.job !== null && e.job !== s.job) return;
    useApp.setState({ error: e.message, jobStatus: s.jobStatus === 'running' ? 'cancelled' : s.jobStatus });
    return;
  }
  if (!('job' in e) || e.job !== s.job) return;
  switch (e.type) {
    case 'plan': {
      const files = s.files.map((f) => ({ ...f, backing: e.backing[f.index] ?? null, missingBacking: e.missing[f.index] ?? null }));
      // Show the top of the chain first.
      useApp.setState({ files, current: e.order[0] ?? s.current });
      return;
    }
    case 'header':
      useApp.setState(updateFile(s, e.file, { stage: e.stage, headerMs: Math.round(performance.now() - s.startedAt) }));
      return;
    case 'structures':
      useApp.setState(updateFile(s, e.file, { structures: e.structures }));
      return;
    case 'progress':
      useApp.setState(updateFile(s, e.file, { progress: { phase: e.phase, done: e.done, total: e.total } }));
      return;
    case 'findings':
      useApp.setState(updateFile(s, e.file, { findings: e.findings }));
      return;
    case 'usage': {
      // Kept out of the file entries: a new files array would re-render every panel that reads
      // them; the map pane alone reads usageVersion.
      putUsage(e.job, e.file, e.usage);
      useApp.setState({ usageVersion: s.usageVersion + 1 });
      return;
    }
    case 'owners':
      if (putOwners(e.job, e.file, e.owners)) useApp.setState({ usageVersion: s.usageVersion + 1 });
      return;
    case 'cluster-array': {
      const complete = putClusterBatch(e.job, e.file, e.name, e.start, e.total, e.chunk, e.roleCounts);
      const f = s.files[e.file];
      if (!f) return;
      useApp.setState(updateFile(s, e.file, {
        arraysVersion: f.arraysVersion + 1,
        ...(e.name === 'roles' && complete ? { rolesReady: true } : {}),
      }));
      return;
    }
    case 'result':
      useApp.setState(updateFile(s, e.file, { result: e.analysis, estimate: e.estimate, findings: e.analysis.findings, ms: e.ms, progress: null }));
      return;
    case 'failed':
      useApp.setState(updateFile(s, e.file, { failure: { code: e.code, message: e.message, notQcow2: e.notQcow2 }, progress: null }));
      return;
    case 'job-done':
      useApp.setState({ jobStatus: 'done' });
      return;
    case 'cancelled':
      useApp.setState({ jobStatus: 'cancelled', files: s.files.map((f) => ({ ...f, progress: null })) });
      return;
    default:
      return;
  }
}

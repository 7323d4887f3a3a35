// The app's state (zustand): the dropped files and what the worker has told us about each, the
// selected file, cluster and tab. Small, readable data only — the per-cluster arrays live in
// registry.ts. Changes go through the functions in actions.ts; views read with the selectors.

import { create } from 'zustand';
import type { ConvertEstimate, Finding, Phase } from '../format';
import type { AnalysisResult, HeaderStagePayload, StructuresPayload } from '../worker/protocol';

export type Tab = 'overview' | 'header' | 'snapshots' | 'bitmaps' | 'check' | 'space';
export const TABS: readonly Tab[] = ['overview', 'header', 'snapshots', 'bitmaps', 'check', 'space'];

interface Progress {
  readonly phase: Phase;
  readonly done: number;
  readonly total: number;
}

interface FileFailure {
  readonly code: string;
  readonly message: string;
  readonly notQcow2: boolean;
}

/** One dropped file and everything known about it so far. */
export interface FileEntry {
  readonly index: number;
  readonly name: string;
  readonly size: number;
  readonly stage: HeaderStagePayload | null;
  readonly structures: StructuresPayload | null;
  readonly progress: Progress | null;
  readonly findings: readonly Finding[] | null;
  readonly result: AnalysisResult | null;
  /** qemu-img measure -O qcow2's estimate, computed in the worker with the result (null: none). */
  readonly estimate: ConvertEstimate | null;
  readonly failure: FileFailure | null;
  /** Index of the dropped file that backs this one. */
  readonly backing: number | null;
  /** Backing file name from the header when no dropped file has that name. */
  readonly missingBacking: string | null;
  /** Bumped whenever the file's per-cluster arrays (registry.ts) change. */
  readonly arraysVersion: number;
  /** The roles array has fully arrived. */
  readonly rolesReady: boolean;
  /** Milliseconds the worker took, once done. */
  readonly ms: number | null;
  /** Milliseconds from the drop to the header on the page. */
  readonly headerMs: number | null;
  /** The cluster map has drawn this file's complete roles. */
  readonly mapShown: boolean;
  /** Set when the entry comes from a saved analysis (saved.ts): the image itself is not present. */
  readonly saved: SavedSource | null;
}

/** Where a saved analysis came from and what it lacks. */
interface SavedSource {
  /** The name of the dropped document (the entry's `name` is the image's). */
  readonly documentName: string;
  /** Who wrote it, e.g. "qcowscope 0.1.0 (cli)". */
  readonly generator: string;
  readonly refcountsSaved: boolean;
  /** What the writer left out, in words. */
  readonly notes: readonly string[];
}

/** A view for the map to show once it has drawn (from the URL hash): zoom and centred cluster. */
interface ViewRequest {
  /** CSS pixels per cluster cell, or null to keep the zoom. */
  readonly zoom: number | null;
  readonly cluster: number | null;
  /** Changes with every request, so the same view can be asked for twice. */
  readonly seq: number;
}

type JobStatus = 'idle' | 'running' | 'done' | 'cancelled';

export interface AppState {
  readonly job: number | null;
  readonly jobStatus: JobStatus;
  readonly files: readonly FileEntry[];
  /** The file on screen (index into files). */
  readonly current: number | null;
  /** Selected host cluster of the current file. */
  readonly selection: number | null;
  readonly tab: Tab;
  /** A problem outside any one file (worker died, malformed message). */
  readonly error: string | null;
  readonly dragging: boolean;
  /** performance.now() when the current job started. */
  readonly startedAt: number;
  /** Host clusters the map shows in full colour (e.g. one bitmap's), or null for all. */
  readonly highlight: Highlight | null;
  /** A view the map should move to (hash.ts), or null. */
  readonly viewRequest: ViewRequest | null;
  /**
   * Changes when a usage summary (the early map) lands in the registry. Only the map pane reads it:
   * the summary changes no file entry, so nothing else re-renders for it.
   */
  readonly usageVersion: number;
}

/** A set of host cluster ranges [start, end) with a name for the map's status line. */
export interface Highlight {
  readonly label: string;
  readonly ranges: readonly { readonly start: number; readonly end: number }[];
}

export const initialState: AppState = {
  job: null,
  jobStatus: 'idle',
  files: [],
  current: null,
  selection: null,
  tab: 'overview',
  error: null,
  dragging: false,
  startedAt: 0,
  highlight: null,
  viewRequest: null,
  usageVersion: 0,
};

export const useApp = create<AppState>()(() => initialState);

export function newFileEntry(index: number, f: { name: string; size: number }): FileEntry {
  return {
    index, name: f.name, size: f.size, stage: null, structures: null, progress: null, findings: null,
    result: null, estimate: null, failure: null, backing: null, missingBacking: null, arraysVersion: 0, rolesReady: false, ms: null, headerMs: null, mapShown: false,
    saved: null,
  };
}

// Derived views of the state. `pageState` is what the root element's data-state says: 'done' only
// once every dropped file has its complete analysis (result and per-cluster roles) or has failed,
// and the map has drawn the file on screen.

import { useApp, type AppState, type FileEntry } from './store';

type PageState = 'idle' | 'reading' | 'scanning' | 'done' | 'error';

const currentFile = (s: AppState): FileEntry | null => (s.current === null ? null : s.files[s.current] ?? null);

/** The worker sends a file's per-cluster arrays before its result, so a result means all is in. */
const fileComplete = (f: FileEntry): boolean => f.failure !== null || f.result !== null;

export function pageState(s: AppState): PageState {
  if (s.error !== null) return 'error';
  const f = currentFile(s);
  if (!f || s.jobStatus === 'idle' || s.jobStatus === 'cancelled') return 'idle';
  if (f.failure) return 'error';
  if (!f.stage) return 'reading';
  const mapDone = f.mapShown || f.arraysVersion === 0;
  if (s.jobStatus === 'done' && s.files.every(fileComplete) && mapDone) return 'done';
  return 'scanning';
}

/** The progress of whichever file is being analysed now, for the progress bar. */
export function activeProgress(s: AppState): { file: FileEntry; fraction: number; phase: string } | null {
  if (s.jobStatus !== 'running') return null;
  const f = s.files.find((x) => x.progress && x.progress.phase !== 'done' && !x.result && !x.failure);
  if (!f?.progress) return null;
  const { done, total, phase } = f.progress;
  return { file: f, fraction: total > 0 ? Math.min(1, done / total) : 0, phase };
}

export const useCurrentFile = (): FileEntry | null => useApp(currentFile);
export const usePageState = (): PageState => useApp(pageState);

// The progress of the running scan: which phase, how far, and a Cancel button; shown until every
// file's cluster roles are in.

import { cancelAnalysis } from '../state/actions';
import { activeProgress } from '../state/selectors';
import { useApp } from '../state/store';
import { useShallow } from 'zustand/react/shallow';

const PHASE_LABEL: Record<string, string> = {
  header: 'Reading the header',
  structures: 'Reading snapshots, bitmaps and L1 tables',
  l2: 'Scanning L2 tables',
  refcounts: 'Reading refcount blocks',
  check: 'Checking refcounts',
  map: 'Building the guest map',
  space: 'Accounting space',
  done: 'Finishing',
};

export function ProgressBar() {
  const p = useApp(useShallow((s) => {
    const a = activeProgress(s);
    return a ? { name: a.file.name, fraction: a.fraction, phase: a.phase } : null;
  }));
  const running = useApp((s) => s.jobStatus === 'running');
  // Gone once every file's roles are in (what is left takes a few tens of ms): the cluster map,
  // which mounts on the roles and keeps the grid it first laid out, then gets the pane's final size.
  const finishing = useApp((s) => s.files.length > 0 && s.files.every((f) => f.rolesReady || f.failure !== null || f.result !== null));
  if (!running || finishing) return null;
  const label = p ? PHASE_LABEL[p.phase] ?? p.phase : 'Starting';
  const pct = p ? Math.round(p.fraction * 100) : 0;
  return (
    <div className="progress" data-testid="progress">
      <span className="progress-label" data-phase={p?.phase ?? 'start'}>
        {label}
        {p ? ` — ${p.name}` : ''}
      </span>
      <progress max={100} value={pct} aria-label={`${label}: ${pct} %`} />
      <span className="progress-pct">{pct} %</span>
      <button type="button" className="btn" onClick={cancelAnalysis}>
        Cancel
      </button>
    </div>
  );
}

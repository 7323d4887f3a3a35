// The Check panel: the verdict, qemu-img check's counts, and every finding in a virtualised list
// (there may be thousands). Clicking a finding selects its cluster: the map and inspector follow.

import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { Finding } from '../format';
import { showCluster } from '../state/actions';
import { useApp, type FileEntry } from '../state/store';
import { checkCounts, findingCluster, verdict } from './derive';
import { formatCount, hex } from './format';
import { QemuOutput } from './QemuOutput';

type Filter = 'all' | 'error' | 'warning' | 'info';

export function CheckPanel({ file }: { file: FileEntry }) {
  const v = verdict(file);
  const result = file.result;
  const findings = file.findings ?? [];
  const [filter, setFilter] = useState<Filter>('all');
  const shown = useMemo(() => (filter === 'all' ? findings : findings.filter((f) => f.severity === filter)), [findings, filter]);
  const cs = file.stage?.header.clusterSize ?? 0;
  return (
    <div className="check-panel">
      <p className={`verdict ${v.severity}`} data-severity={v.severity}>{v.text}</p>
      {result && (
        <div className="counts">
          {checkCounts(result).map((c) => (
            <div key={c.key} className="count">
              <b data-testid={`count-${c.key}`}>{typeof c.value === 'number' ? formatCount(c.value) : c.value}</b>
              <span>{c.label}</span>
            </div>
          ))}
        </div>
      )}
      <QemuOutput file={file} />
      <div className="finding-filter">
        <h3 id="findings-title">Findings ({formatCount(findings.length)}{truncatedNote(result?.findingTotals, findings.length)})</h3>
        <label>
          show{' '}
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as Filter)}>
            <option value="all">all</option>
            <option value="error">errors</option>
            <option value="warning">warnings</option>
            <option value="info">notes</option>
          </select>
        </label>
      </div>
      {shown.length === 0 ? <p className="muted">{file.findings ? 'No findings.' : 'Checking…'}</p> : <FindingList findings={shown} clusterSize={cs} />}
    </div>
  );
}

function truncatedNote(totals: Readonly<Record<string, number>> | undefined, listed: number): string {
  if (!totals) return '';
  let all = 0;
  for (const n of Object.values(totals)) all += n;
  return all > listed ? ` listed of ${formatCount(all)}` : '';
}

function FindingList({ findings, clusterSize }: { findings: readonly Finding[]; clusterSize: number }) {
  const parent = useRef<HTMLDivElement>(null);
  const selection = useApp((s) => s.selection);
  const v = useVirtualizer({ count: findings.length, getScrollElement: () => parent.current, estimateSize: () => 52, overscan: 8 });
  return (
    <div ref={parent} className="findings" role="list" aria-labelledby="findings-title">
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {v.getVirtualItems().map((row) => {
          const f = findings[row.index]!;
          const cluster = findingCluster(f, clusterSize);
          return (
            <div
              key={row.key}
              role="listitem"
              data-index={row.index}
              ref={v.measureElement}
              style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${row.start}px)` }}
            >
              <button
                type="button"
                className="finding"
                data-code={f.code}
                data-cluster={cluster ?? ''}
                aria-current={cluster !== null && cluster === selection}
                disabled={cluster === null}
                onClick={() => cluster !== null && showCluster(cluster)}
              >
                <span className={`sev ${f.severity}`}>{f.severity}</span>
                <span>{f.message}</span>
                <span className="where">
                  {f.code} · {f.structure}
                  {f.offset !== null ? ` · at ${hex(f.offset)}` : ''}
                  {cluster !== null ? ` · cluster ${cluster}` : ''}
                </span>
              </button>
            </div>
          );
        })}
      </div>
    </div>
  );
}

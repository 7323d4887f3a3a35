// The cluster map's legend, which is also its filter: one button per role present in the file with
// its cluster count and bytes. Clicking a role shows only it in full colour (others dimmed); clicking
// it again shows all; Ctrl/⌘/Shift-click adds or removes a role. Extra rows list things that own no
// cluster (e.g. a zero-offset empty bitmap) so they are not silently missing.

import type { ReactNode } from 'react';
import { ROLE_INFO, formatBytes, formatCount } from '../format';
import { legendRoles } from './export-png';
import { swatchCss } from './palette';
import { roleLabel } from './tooltip';

/** A legend row for something that owns no cluster but should be listed. */
export interface LegendExtra {
  readonly label: string;
  readonly clusters: number;
  readonly note?: string;
}

interface LegendProps {
  /** Clusters per role byte (length 256), e.g. countRoles(roles). */
  readonly counts: Uint32Array;
  readonly clusterSize: number;
  /** Roles shown in full colour; empty means all. */
  readonly active: ReadonlySet<number>;
  readonly onChange: (next: ReadonlySet<number>) => void;
  readonly extras?: readonly LegendExtra[];
  /** The file's last cluster when the file ends inside it: its role and the bytes it lacks. */
  readonly shortLast?: ShortLast | null;
  /** Shown after the rows, in the legend's scrolling box (e.g. the freed view's legend). */
  readonly after?: ReactNode;
}

export interface ShortLast {
  readonly role: number;
  readonly missing: number;
}

/** Where a file of `fileSize` bytes ends inside its last cluster: that cluster's role and missing bytes. */
export function shortLastCluster(roles: Uint8Array, clusterSize: number, fileSize: number): ShortLast | null {
  const rest = clusterSize > 0 ? fileSize % clusterSize : 0;
  const k = Math.floor(fileSize / Math.max(1, clusterSize));
  if (rest === 0 || k >= roles.length) return null;
  return { role: roles[k] ?? 0, missing: clusterSize - rest };
}

/** Bytes of the file a role's `n` clusters hold: the last, short cluster counts only what the file has. */
export function roleBytes(role: number, n: number, clusterSize: number, shortLast: ShortLast | null): number {
  return n * clusterSize - (shortLast !== null && shortLast.role === role && n > 0 ? shortLast.missing : 0);
}

/** The filter after clicking `role`: alone (or cleared when it already was), or toggled with `add`. */
function nextFilter(active: ReadonlySet<number>, role: number, add: boolean): ReadonlySet<number> {
  if (add) {
    const s = new Set(active);
    if (s.has(role)) s.delete(role);
    else s.add(role);
    return s;
  }
  return active.size === 1 && active.has(role) ? new Set() : new Set([role]);
}

export function Legend({ counts, clusterSize, active, onChange, extras = [], shortLast = null, after = null }: LegendProps) {
  // Damage first (what a reader looks for), then the roles in the order of the format.
  const present = legendRoles(counts);
  let total = 0;
  for (const r of present) total += counts[r] ?? 0;
  return (
    <div className="cmap-legend" aria-label="Legend and filter">
      <div className="cmap-legend-head">
        <span>Roles ({formatCount(total)} clusters)</span>
        {active.size > 0 ? (
          <button type="button" className="cmap-linkbtn" onClick={() => onChange(new Set())} data-testid="legend-show-all">
            show all
          </button>
        ) : null}
      </div>
      <ul>
        {present.map((r) => {
          const n = counts[r] ?? 0;
          const info = ROLE_INFO[r];
          const on = active.has(r);
          return (
            <li key={r}>
              <button
                type="button"
                className={`cmap-legend-row${on ? ' on' : ''}${active.size > 0 && !on ? ' dim' : ''}${info?.damage ? ' damage' : ''}`}
                aria-pressed={on}
                data-testid={`legend-${info?.key ?? `role-${r}`}`}
                data-count={n}
                title={`${on && active.size === 1 ? 'Show all roles' : 'Show only this role'} (Ctrl-click: add or remove)`}
                onClick={(e) => onChange(nextFilter(active, r, e.ctrlKey || e.metaKey || e.shiftKey))}
              >
                <span className="cmap-swatch" style={{ background: swatchCss(r) }} aria-hidden="true" />
                <span className="cmap-legend-label">{roleLabel(r)}</span>
                <span className="cmap-legend-num mono">{formatCount(n)}</span>
                <span className="cmap-legend-bytes mono">{formatBytes(roleBytes(r, n, clusterSize, shortLast))}</span>
              </button>
            </li>
          );
        })}
        {extras.map((x, i) => (
          <li key={`extra-${i}`}>
            <div className="cmap-legend-row extra" data-testid="legend-extra" title={x.note ?? ''}>
              <span className="cmap-swatch empty" aria-hidden="true" />
              <span className="cmap-legend-label">{x.label}</span>
              <span className="cmap-legend-num mono">{formatCount(x.clusters)}</span>
              <span className="cmap-legend-bytes mono">{formatBytes(x.clusters * clusterSize)}</span>
            </div>
          </li>
        ))}
      </ul>
      {after}
    </div>
  );
}

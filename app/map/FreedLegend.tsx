// The legend of the "what freed clusters held" view (shown under the role legend while the toggle is
// on): how a freed cluster is drawn at each zoom, and one row per role freed clusters once held,
// with the clusters and bytes of each. The swatch is the hatch the map draws.

import { ROLE_INFO, formatBytes, formatCount } from '../format';
import { FREED_BASE } from './lod';
import { freedSwatchCss } from './palette';

/** Former roles present in `counts` (of display bytes, length 256), in the order of the format. */
export function freedLegendRows(counts: Uint32Array): { role: number; clusters: number }[] {
  const out: { role: number; clusters: number }[] = [];
  for (const r of ROLE_INFO) {
    const n = counts[FREED_BASE + r.id] ?? 0;
    if (n > 0) out.push({ role: r.id, clusters: n });
  }
  return out;
}

export function FreedLegend({ counts, clusterSize }: { counts: Uint32Array; clusterSize: number }) {
  const rows = freedLegendRows(counts);
  const total = rows.reduce((a, r) => a + r.clusters, 0);
  return (
    <div className="cmap-freed-legend" data-testid="freed-legend" aria-label="What freed clusters held">
      <div className="cmap-legend-head">
        <span>What freed clusters held ({formatCount(total)})</span>
      </div>
      <p className="cmap-freed-how">
        Free now (counted as free above), hatched in the colour of what it held. Zoomed out, a pixel holding any is
        striped in the colour of the most important one, and a lone one is ringed in it. Free clusters whose bytes
        say nothing (zeros, unknown) stay plain free.
      </p>
      <ul>
        {rows.map((r) => (
          <li key={r.role}>
            <div className="cmap-legend-row extra freed" data-testid={`freed-legend-${ROLE_INFO[r.role]?.key ?? r.role}`} data-count={r.clusters}>
              <span className="cmap-swatch" style={{ background: freedSwatchCss(r.role) }} aria-hidden="true" />
              <span className="cmap-legend-label">once {ROLE_INFO[r.role]?.label ?? `role ${r.role}`}</span>
              <span className="cmap-legend-num mono">{formatCount(r.clusters)}</span>
              <span className="cmap-legend-bytes mono">{formatBytes(r.clusters * clusterSize)}</span>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

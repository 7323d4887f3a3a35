// The Space panel: where the file's bytes go — one stacked bar of the whole file and one bar per
// kind (d3 scales and axis), then the table with exact bytes and clusters.

import { axisBottom, scaleBand, scaleLinear, select } from 'd3';
import { useEffect, useRef } from 'react';
import { ROLE_COLOR } from '../map/palette';
import type { FileEntry } from '../state/store';
import { spaceRows, spaceNotes, type SpaceRow } from './derive';
import { byteUnit, formatBytes, formatCount, percent } from './format';
import { ColumnHeads } from './ColumnHeads';

const W = 480;
const BAR_H = 18;
const LABEL_W = 200;

const colorOf = (r: SpaceRow): string => (r.role === null ? '#999999' : ROLE_COLOR[r.role] ?? '#999999');

export function SpacePanel({ file }: { file: FileEntry }) {
  const result = file.result;
  if (!result) return <p className="muted">Space is accounted once the scan is complete…</p>;
  const rows = spaceRows(result).filter((r) => r.bytes > 0);
  const total = result.fileSize;
  const notes = spaceNotes(result);
  return (
    <div className="space-panel">
      <p>
        {formatBytes(total)} in the file ({formatCount(total)} bytes), split by what the bytes hold:
      </p>
      <StackedBar rows={rows} total={total} />
      <Bars rows={rows} />
      <table className="fields">
        <ColumnHeads names={['kind', 'bytes', 'clusters', 'share']} />
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-space={r.key}>
              <td>
                <span className="swatch" style={{ background: colorOf(r) }} /> {r.label}
              </td>
              <td className="num">{formatBytes(r.bytes)}</td>
              <td className="num">{formatCount(r.clusters)}</td>
              <td className="num">{percent(r.bytes, total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {notes.map((n) => (
        <p key={n} className="muted">{n}</p>
      ))}
    </div>
  );
}

export function StackedBar({ rows, total }: { rows: readonly SpaceRow[]; total: number }) {
  const x = scaleLinear().domain([0, Math.max(1, total)]).range([0, W]);
  let acc = 0;
  return (
    <svg className="space-chart" viewBox={`0 0 ${W} 28`} role="img" aria-label="The whole file as one bar, split by kind">
      {rows.map((r) => {
        const x0 = x(acc);
        acc += r.bytes;
        return (
          <rect key={r.key} x={x0} y={4} width={Math.max(0.5, x(acc) - x0)} height={20} fill={colorOf(r)}>
            <title>{`${r.label}: ${formatBytes(r.bytes)}`}</title>
          </rect>
        );
      })}
      <rect className="stack-frame" x={0.5} y={3.5} width={W - 1} height={21} />
    </svg>
  );
}

function Bars({ rows }: { rows: readonly SpaceRow[] }) {
  const axis = useRef<SVGGElement>(null);
  const max = Math.max(1, ...rows.map((r) => r.bytes));
  // The axis counts in the binary unit of the largest bar: 0, 200, 400 … KiB.
  const { size: unit, name: unitName } = byteUnit(max);
  const h = rows.length * (BAR_H + 6) + 28;
  const xu = scaleLinear().domain([0, max / unit]).nice().range([LABEL_W, W - 12]);
  const x = (bytes: number) => xu(bytes / unit);
  const y = scaleBand<string>().domain(rows.map((r) => r.key)).range([0, h - 28]).padding(0.2);
  useEffect(() => {
    if (!axis.current) return;
    select(axis.current).call(axisBottom(xu).ticks(4).tickFormat((d) => `${Number(d)} ${unitName}`));
  }, [xu, unitName]);
  return (
    <svg className="space-chart" viewBox={`0 0 ${W} ${h}`} role="img" aria-label="Bytes per kind">
      {rows.map((r) => (
        <g key={r.key} transform={`translate(0, ${y(r.key) ?? 0})`}>
          <text x={LABEL_W - 6} y={y.bandwidth() / 2} dy="0.35em" textAnchor="end">
            {r.label.length > 30 ? r.label.slice(0, 29) + '…' : r.label}
          </text>
          <rect x={LABEL_W} width={Math.max(1, x(r.bytes) - LABEL_W)} height={y.bandwidth()} fill={colorOf(r)}>
            <title>{`${r.label}: ${formatBytes(r.bytes)}, ${formatCount(r.clusters)} clusters`}</title>
          </rect>
        </g>
      ))}
      <g ref={axis} transform={`translate(0, ${h - 24})`} />
    </svg>
  );
}

// The inspector's decoded views of one cluster's bytes: table entries (decode.ts), header fields and
// variable-length entries (decode-meta.ts). Presentational: rows in, table out. Every row carries its
// byte offset in the cluster and the raw bytes, so it can be found in the hex view.

import type { Decoded, EntryBlock, FieldRow } from '../format';
import { plural } from './format';

export function EntryList({ decoded }: { decoded: Decoded }) {
  return (
    <div className="decoded" data-testid="decoded">
      <p className="muted">
        {decoded.title}: {decoded.summary ?? `${decoded.nonEmpty} of ${decoded.entries} entries in use`}
        {decoded.rows.length < decoded.nonEmpty ? ` (first ${decoded.rows.length} shown)` : ''}.
      </p>
      <table className="fields compact entries">
        <thead>
          <tr><th className="num">#</th><th className="num">at</th><th>raw</th><th>meaning</th></tr>
        </thead>
        <tbody>
          {decoded.rows.map((r) => (
            <tr key={r.index} data-entry={r.index} {...(r.subject !== undefined ? { 'data-subject': r.subject } : {})}>
              <td className="num">{r.index}</td>
              <td className="num mono" title={`byte ${r.at} of the cluster`}>0x{r.at.toString(16)}</td>
              <td className="mono">{r.raw}</td>
              <td>{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function FieldTable({ rows, caption }: { rows: readonly FieldRow[]; caption?: string }) {
  return (
    <table className="fields compact entries">
      {caption ? <caption>{caption}</caption> : null}
      <thead>
        <tr><th className="num">at</th><th>field</th><th>raw</th><th>value</th></tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.at}:${r.name}`} data-field={r.name}>
            <td className="num mono" title={`byte ${r.at} of the cluster`}>{r.at >= 0 ? `0x${r.at.toString(16)}` : `−0x${(-r.at).toString(16)}`}</td>
            <td><code>{r.name}</code></td>
            <td className="mono">{r.raw || '(in another cluster)'}</td>
            <td>{r.text}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EntryBlocks({ what, blocks }: { what: string; blocks: readonly EntryBlock[] }) {
  return (
    <div className="decoded" data-testid="decoded">
      <p className="muted">
        {what}: {blocks.length === 0 ? 'no entry starts or ends in this cluster.' : `${plural(blocks.length, 'entry', 'entries')} in this cluster (byte offsets are within the cluster).`}
      </p>
      {blocks.map((b) => (
        <section key={b.offset} className="entry-block" data-entry-offset={b.offset}>
          <h4>{b.title} <span className="muted mono" title={`file byte ${b.offset}`}>at 0x{b.offset.toString(16)}, {b.length} bytes</span></h4>
          <FieldTable rows={b.rows} />
        </section>
      ))}
    </div>
  );
}

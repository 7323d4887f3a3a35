// The inspector's decoded views of one cluster's bytes: table entries (decode.ts), header fields and
// variable-length entries (decode-meta.ts). Presentational: rows in, table out. Every row carries its
// byte offset in the cluster and the raw bytes, so it can be found in the hex view; an entry that
// points at a host cluster (an L2 table, data, a refcount block, a bitmap table, an L1) links to it.

import type { Decoded, EntryBlock, FieldRow } from '../format';
import { plural } from './format';

/** How a pointer becomes a link: the cluster size, the file's size, and what selects a cluster. */
export interface PointerLinks {
  readonly clusterSize: number;
  readonly fileSize: number;
  readonly show: (cluster: number) => void;
}

/** A link to the cluster holding file offset `target`, or a note when it lies past the end of the file. */
function PointerLink({ target, links }: { target: number | undefined; links: PointerLinks | undefined }) {
  if (target === undefined || !links || links.clusterSize <= 0) return null;
  const cluster = Math.floor(target / links.clusterSize);
  if (target >= links.fileSize) return <span className="muted"> (past the end of the file)</span>;
  return (
    <>
      {' '}
      <button type="button" className="link pointer-link" data-testid="pointer-link" data-target={target} title={`Select cluster ${cluster} (at 0x${target.toString(16)})`} onClick={() => links.show(cluster)}>
        cluster {cluster}
      </button>
    </>
  );
}

export function EntryList({ decoded, links }: { decoded: Decoded; links?: PointerLinks }) {
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
              <td>{r.text}<PointerLink target={r.target} links={links} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function FieldTable({ rows, caption, links }: { rows: readonly FieldRow[]; caption?: string; links?: PointerLinks }) {
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
            <td>{r.text}<PointerLink target={r.target} links={links} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Entries of a directory or snapshot table in the cluster. `stop`, for stale bytes decoded from the
 * cluster's start, says where decoding stopped and why (null: it reached the end of the entries).
 */
export function EntryBlocks({ what, blocks, links, stop }: { what: string; blocks: readonly EntryBlock[]; links?: PointerLinks; stop?: string | null }) {
  return (
    <div className="decoded" data-testid="decoded">
      <p className="muted">
        {what}: {blocks.length === 0 ? 'no entry starts or ends in this cluster.' : `${plural(blocks.length, 'entry', 'entries')} in this cluster (byte offsets are within the cluster).`}
      </p>
      {blocks.map((b) => (
        <section key={b.offset} className="entry-block" data-entry-offset={b.offset}>
          <h4>{b.title} <span className="muted mono" title={`file byte ${b.offset}`}>at 0x{b.offset.toString(16)}, {b.length} bytes</span></h4>
          <FieldTable rows={b.rows} {...(links ? { links } : {})} />
        </section>
      ))}
      {stop ? <p className="note decode-stop" data-testid="decode-stop">Decoding stops: {stop}. The hex view shows every byte.</p> : null}
    </div>
  );
}

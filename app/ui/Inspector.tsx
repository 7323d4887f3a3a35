// The inspector: the selected host cluster — its role, refcount and owner — with its bytes read on
// demand from the worker, shown decoded (header fields, table entries) and as a hex dump.

import { useEffect, useState } from 'react';
import { INCOMPAT_EXTL2, ROLE_INFO } from '../format';
import { readCluster, selectCluster } from '../state/actions';
import { getClusterArrays } from '../state/registry';
import { useApp, type FileEntry } from '../state/store';
import { describeOwner, tableLayout } from './derive';
import { decodeCluster, type Decoded } from './decode';
import { formatBytes, hex } from './format';
import { HexView } from './HexView';

/** `key` names the job, file and cluster the bytes belong to. */
type Loaded = { key: string; offset: number; bytes: Uint8Array } | { key: string; error: string };

export function Inspector({ file }: { file: FileEntry }) {
  const selection = useApp((s) => s.selection);
  const job = useApp((s) => s.job);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [view, setView] = useState<'decoded' | 'hex'>('decoded');
  useEffect(() => {
    if (selection === null || !file.stage) return;
    let live = true;
    const key = `${job}:${file.index}:${selection}`;
    readCluster(selection).then(
      (c) => live && setLoaded({ key, offset: c.offset, bytes: c.bytes }),
      (e: unknown) => live && setLoaded({ key, error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [selection, file.index, file.stage, job]);

  const stage = file.stage;
  if (!stage) return <aside className="inspector" aria-label="Inspector" />;
  const cs = stage.header.clusterSize;
  if (selection === null) {
    return (
      <aside className="inspector" aria-label="Inspector">
        <p className="muted">Select a cluster on the map, or a finding in the Check panel, to see its bytes.</p>
      </aside>
    );
  }
  const arrays = job === null ? undefined : getClusterArrays(job, file.index);
  const role = arrays?.roles?.[selection];
  const refcount = arrays?.storedRefcounts?.[selection];
  const roleLabel = role === undefined ? 'role not known yet' : ROLE_INFO[role]?.label ?? `role ${role}`;
  const owner = file.result ? describeOwner(file.result, arrays, selection) : null;
  const current = loaded && loaded.key === `${job}:${file.index}:${selection}` ? loaded : null;
  const layout = file.result ? tableLayout(file.result, selection, role) : role;
  const decoded: Decoded | null = current && 'bytes' in current && layout !== undefined
    ? decodeCluster(layout, current.bytes, {
      clusterBits: stage.header.clusterBits,
      extendedL2: (stage.header.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n,
      refcountOrder: stage.header.refcountOrder,
    })
    : null;
  const isHeader = selection === 0;
  return (
    <aside className="inspector open" aria-label="Inspector" data-testid="inspector" data-cluster={selection}>
      <div className="inspector-head">
        <h3>
          Cluster {selection} <span className="mono">at {hex(selection * cs)}</span>
        </h3>
        <span className="badge">{roleLabel}</span>
        {refcount !== undefined && <span className="badge muted">refcount {refcount}</span>}
        {owner && <span className="owner">{owner}</span>}
        <span className="spacer" />
        <div className="seg" role="group" aria-label="Inspector view">
          <button type="button" aria-pressed={view === 'decoded'} onClick={() => setView('decoded')}>Decoded</button>
          <button type="button" aria-pressed={view === 'hex'} onClick={() => setView('hex')}>Hex</button>
        </div>
        <button type="button" className="btn small" aria-label="Clear the selection" onClick={() => selectCluster(null)}>×</button>
      </div>
      {!current ? (
        <p className="muted">Reading {formatBytes(cs)}…</p>
      ) : 'error' in current ? (
        <p className="error-text">Could not read the cluster: {current.error}</p>
      ) : view === 'hex' || (!decoded && !isHeader) ? (
        <HexView bytes={current.bytes} baseOffset={current.offset} label={`Bytes of cluster ${selection}`} />
      ) : isHeader ? (
        <HeaderDecoded file={file} />
      ) : (
        <EntryList decoded={decoded!} />
      )}
    </aside>
  );
}

function HeaderDecoded({ file }: { file: FileEntry }) {
  const stage = file.stage!;
  return (
    <div className="decoded">
      <p className="muted">Cluster 0: the header, its extensions and the backing file name.</p>
      <table className="fields compact">
        <tbody>
          {stage.header.fields.map((f) => (
            <tr key={f.name}>
              <td className="num">{f.offset}</td>
              <td><code>{f.name}</code></td>
              <td>{f.decoded}</td>
            </tr>
          ))}
          {stage.extensions.list.map((e) => (
            <tr key={`e${e.offset}`}>
              <td className="num">{e.offset}</td>
              <td><code>extension {hex(e.type)}</code></td>
              <td>{e.name}, {e.length} bytes</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EntryList({ decoded }: { decoded: Decoded }) {
  return (
    <div className="decoded">
      <p className="muted">
        {decoded.title}: {decoded.nonEmpty} of {decoded.entries} entries in use
        {decoded.rows.length < decoded.nonEmpty ? ` (first ${decoded.rows.length} shown)` : ''}.
      </p>
      <table className="fields compact">
        <tbody>
          {decoded.rows.map((r) => (
            <tr key={r.index}>
              <td className="num">{r.index}</td>
              <td className="mono">{r.raw}</td>
              <td>{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

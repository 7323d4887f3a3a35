// The inspector: the selected host cluster — its role, refcount and owner — with its bytes read on
// demand from the worker, shown decoded by where the cluster sits (place.ts): header fields, L1/L2
// entries with guest offsets, refcount table and block entries with the host clusters they count,
// bitmap tables, directory and snapshot entries, compressed guest clusters decompressed; or as a hex
// dump. Escape closes it; a new selection brings it into view when the window is too small to show
// it beside the map.

import { useEffect, useMemo, useRef, useState } from 'react';
import { INCOMPAT_EXTL2, ROLE_INFO, Role, decodeTable, freedRunAt, isTablePlace, bitmapEntryBlocks, headerRows, snapshotEntryBlocks, compressedIn, placeOf, stalePlace, type Place } from '../format';
import { readCluster, selectCluster, showCluster } from '../state/actions';
import { getClusterArrays } from '../state/registry';
import { useApp, type FileEntry } from '../state/store';
import { CompressedView } from './CompressedView';
import { EntryBlocks, EntryList, FieldTable, type PointerLinks } from './DecodedViews';
import { StaleBody, hasStaleBody } from './StaleViews';
import { describeOwner } from './derive';
import { formatBytes, hex } from './format';
import { HexView } from './HexView';

/** `key` names the job, file and cluster the bytes belong to. */
type Loaded = { key: string; offset: number; bytes: Uint8Array } | { key: string; error: string };

export function Inspector({ file }: { file: FileEntry }) {
  const selection = useApp((s) => s.selection);
  const job = useApp((s) => s.job);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [view, setView] = useState<'decoded' | 'hex'>('decoded');
  const boxRef = useRef<HTMLElement>(null);
  useEffect(() => {
    if (selection === null) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      selectCluster(null);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [selection]);
  // In a small window the map sits below the panels and the inspector is a sheet pinned to the
  // window's bottom: a selection that leaves less than half the map in sight (a finding clicked, a
  // cell near the fold) scrolls the map to the top.
  useEffect(() => {
    const el = boxRef.current;
    if (selection === null || !el) return;
    const visual = el.closest('.visual');
    const map = visual?.querySelector('.map-pane');
    if (!visual || !map || getComputedStyle(el).position !== 'sticky') return;
    const m = map.getBoundingClientRect();
    const shown = Math.min(m.bottom, el.getBoundingClientRect().top, window.innerHeight) - Math.max(m.top, 0);
    if (shown < m.height / 2) visual.scrollIntoView({ block: 'start' });
  }, [selection]);
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
  const result = file.result;
  const live = useMemo<Place | null>(
    () => (selection === null ? null : result ? placeOf(result, selection) : selection === 0 ? { kind: 'header' } : null),
    [result, selection],
  );
  const arraysNow = job === null ? undefined : getClusterArrays(job, file.index);
  const cs0 = file.stage?.header.clusterSize ?? 0;
  // A free cluster that held a table: decoded as that table, under the "stale — freed" banner.
  const stale = selection !== null && result?.freed && arraysNow?.roles?.[selection] === Role.FREE ? freedRunAt(result.freed.runs, selection * cs0) : null;
  const place = live ?? (stale && result ? stalePlace(stale, result.structures, cs0) : null);
  // Stale structures stalePlace cannot place (a directory, a snapshot table, a removed bitmap's table) decode from their bytes.
  const staleBody = place === null && stale !== null && hasStaleBody(stale) ? stale : null;
  const links = useMemo<PointerLinks>(() => ({ clusterSize: cs0, fileSize: file.size, show: showCluster }), [cs0, file.size]);

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
  const owner = result ? describeOwner(result, arrays, selection) : null;
  const key = `${job}:${file.index}:${selection}`;
  const current = loaded && loaded.key === key ? loaded : null;
  return (
    <aside ref={boxRef} className="inspector open" aria-label="Inspector" data-testid="inspector" data-cluster={selection} data-place={place?.kind ?? (staleBody ? `stale-${staleBody.was}` : 'none')}>
      <div className="inspector-head">
        <h3>
          Cluster {selection} <span className="mono">at {hex(selection * cs)}</span>
        </h3>
        <span className="badge">{roleLabel}</span>
        {refcount !== undefined && <span className="badge muted">refcount {refcount}</span>}
        {owner && <span className="owner" title={owner}>{owner}</span>}
        <span className="spacer" />
        <div className="seg" role="group" aria-label="Inspector view">
          <button type="button" aria-pressed={view === 'decoded'} onClick={() => setView('decoded')}>Decoded</button>
          <button type="button" aria-pressed={view === 'hex'} onClick={() => setView('hex')}>Hex</button>
        </div>
        <button type="button" className="btn small" aria-label="Clear the selection" onClick={() => selectCluster(null)}>×</button>
      </div>
      {stale ? (
        <p className="stale-banner" data-testid="stale-banner" role="note">
          <strong>stale — freed</strong> (refcount 0): held <span className="mono">{stale.was}</span>
          {stale.freedBy ? <>, {stale.freedBy}</> : null}. {stale.evidence}.
        </p>
      ) : null}
      {!current ? (
        <p className="muted">Reading {formatBytes(cs)}…</p>
      ) : 'error' in current && file.saved ? (
        <p className="muted note" data-testid="no-bytes">
          The bytes are not in the saved analysis (it keeps the structures, not the image): the role, refcount and
          owner above are the analysis's. Open the image itself to see its bytes.
        </p>
      ) : 'error' in current ? (
        <p className="error-text">Could not read the cluster: {current.error}</p>
      ) : view === 'hex' || (place === null && staleBody === null) ? (
        <HexView bytes={current.bytes} baseOffset={current.offset} label={`Bytes of cluster ${selection}`} />
      ) : place === null && staleBody !== null ? (
        <StaleBody file={file} run={staleBody} runs={result?.freed?.runs ?? []} bytes={current.bytes} offset={current.offset} links={links} />
      ) : place !== null ? (
        <DecodedBody file={file} place={place} bytes={current.bytes} offset={current.offset} scope={key} links={links} />
      ) : null}
    </aside>
  );
}

function DecodedBody({ file, place, bytes, offset, scope, links }: { file: FileEntry; place: Place; bytes: Uint8Array; offset: number; scope: string; links: PointerLinks }) {
  const stage = file.stage!;
  const h = stage.header;
  if (isTablePlace(place)) {
    const ctx = { clusterBits: h.clusterBits, extendedL2: (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n, refcountOrder: h.refcountOrder };
    return <EntryList decoded={decodeTable(place, bytes, ctx)} links={links} />;
  }
  switch (place.kind) {
    case 'header':
      return (
        <div className="decoded" data-testid="decoded">
          <p className="muted">Cluster 0: the header, its extensions{stage.backingFile !== null ? ' and the backing file name' : ''}.</p>
          <FieldTable rows={headerRows(bytes, h.fields, stage.extensions.list)} />
        </div>
      );
    case 'bitmap-directory':
      return <EntryBlocks what="Bitmap directory" blocks={bitmapEntryBlocks(place.bitmaps, bytes, offset)} links={links} />;
    case 'snapshot-table':
      return <EntryBlocks what="Snapshot table" blocks={snapshotEntryBlocks(place.snapshots, bytes, offset)} links={links} />;
    case 'compressed':
      return file.result ? (
        <CompressedView pieces={compressedIn(file.result, offset / h.clusterSize)} clusterSize={h.clusterSize} compressionType={h.compressionType} scope={scope} />
      ) : null;
  }
}

// The map pane's "Guest disk" view: the guest map (app/map) of the file on screen, wired to the
// store. Selecting a guest span highlights the host clusters holding its bytes on the host map and
// selects the first of them (so the inspector shows it); selecting a host cluster (on the host map,
// in the Check panel, …) marks the guest spans whose bytes it holds.

import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { INCOMPAT_DATA_FILE, INCOMPAT_EXTL2 } from '../format';
import { GuestMapPanel } from '../map/GuestMapPanel';
import { guestSpansOfHost, hostClustersOfGuest, type GuestSpan } from '../map/guest-link';
import { selectCluster, setHighlight } from '../state/actions';
import { useApp, type FileEntry } from '../state/store';
import type { AnalysisResult } from '../worker/protocol';
import { formatBytes, hex } from './format';

/** The guest span picked here and the host cluster that was selected for it (null: none). */
interface Picked {
  readonly scope: string;
  readonly span: GuestSpan;
  readonly host: number | null;
  readonly clusters: number;
}

const spanText = (s: GuestSpan): string => `guest ${hex(s.start)}–${hex(s.end - 1)}`;

export function GuestPane({ file, result, toolbarEnd }: { file: FileEntry; result: AnalysisResult; toolbarEnd: ReactNode }) {
  const job = useApp((s) => s.job);
  const selection = useApp((s) => s.selection);
  const highlight = useApp((s) => s.highlight);
  const [picked, setPicked] = useState<Picked | null>(null);
  const h = result.structures.header;
  const cs = h.clusterSize;
  const files = useApp((s) => s.files);
  // The backing chain's names: dropped files where the chain was followed, else the header's name.
  const backingNames = useMemo(() => {
    const names: string[] = [];
    let f: FileEntry | undefined = file;
    for (let depth = 0; f && depth < 64; depth++) {
      const next: FileEntry | undefined = f.backing !== null ? files[f.backing] : undefined;
      const name = next?.name ?? f.stage?.backingFile ?? f.missingBacking;
      if (name === null || name === undefined) break;
      names.push(name);
      f = next;
    }
    return names;
  }, [file, files]);
  const flags = useMemo(
    () => ({ encrypted: h.cryptMethod !== 0, externalData: (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n, backingNames }),
    [h.cryptMethod, h.incompatibleFeatures, backingNames],
  );
  const granule = (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n ? cs / 32 : cs;
  const ranges = result.guestMap;
  const scope = `${job}:${file.index}`;
  const mine = picked && picked.scope === scope ? picked : null;

  const onSelect = useCallback((span: GuestSpan) => {
    const host = hostClustersOfGuest(ranges, span.start, span.end, cs, flags, result.check.compressed);
    const first = host[0]?.start ?? null;
    let clusters = 0;
    for (const r of host) clusters += r.end - r.start;
    setPicked({ scope, span, host: first, clusters });
    setHighlight(host.length > 0 ? { label: spanText(span), ranges: host } : null);
    // A span stored nowhere in this file has nothing to inspect on the host side.
    selectCluster(first);
  }, [ranges, cs, flags, result.check.compressed, scope]);

  // The guest side of the current host selection: the picked span while its host cluster is
  // still the one selected, else the spans stored in the selected host cluster.
  const fromHost = useMemo(
    () => (selection === null ? [] : guestSpansOfHost(ranges, selection, cs, flags, result.check.compressed)),
    [selection, ranges, cs, flags, result.check.compressed],
  );
  const ownPick = mine !== null && (mine.host === selection || (mine.host === null && selection === null));
  const marked = useMemo(() => (ownPick ? [mine.span] : fromHost.length > 0 ? fromHost : null), [ownPick, mine, fromHost]);
  const markedLabel = ownPick ? spanText(mine.span) : fromHost.length > 0 ? `the guest bytes in host cluster ${selection}` : null;

  let note: ReactNode = null;
  if (ownPick) {
    note = mine.host === null
      ? <>{spanText(mine.span)}: no bytes stored in this file (unallocated, zeros, the backing file{flags.externalData ? ' or the external data file' : ''}).</>
      : <>{spanText(mine.span)}: stored in {mine.clusters} host cluster{mine.clusters === 1 ? '' : 's'} from {mine.host} ({hex(mine.host * cs)}){highlight?.label === spanText(mine.span) ? ', highlighted on the host map' : ''}.</>;
  } else if (selection !== null) {
    note = fromHost.length > 0
      ? <>Host cluster {selection} holds {formatBytes(fromHost.reduce((a, s) => a + s.end - s.start, 0))} of guest data, marked here.</>
      : <>Host cluster {selection} holds no guest data of the active image.</>;
  }
  if (result.check.mapError) note = <>{note} <span className="warn-text">The map stops early: {result.check.mapError}</span></>;

  return (
    <GuestMapPanel
      ranges={ranges}
      size={Math.floor(Number(h.size) / 512) * 512}
      granule={granule}
      clusterSize={cs}
      flags={flags}
      marked={marked}
      markedLabel={markedLabel}
      selected={ownPick ? mine.span : null}
      onSelect={onSelect}
      note={note}
      toolbarEnd={toolbarEnd}
    />
  );
}

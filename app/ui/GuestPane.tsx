// The map pane's "Guest disk" view: the guest map (app/map) of the file on screen, wired to the
// stores. Selecting a guest span highlights the host clusters holding its bytes on the host map and
// selects the first of them (so the inspector shows it); a span whose bytes all live in a dropped
// backing file opens that file's host map at the cluster holding them. Selecting a host cluster
// (on the host map, in the Check panel, …) marks the guest spans whose bytes it holds. The guest
// range in view is shared with the bitmap lanes (guest-view.ts).

import { useCallback, useMemo, type ReactNode } from 'react';
import { INCOMPAT_EXTL2 } from '../format';
import { GuestMapPanel } from '../map/GuestMapPanel';
import { guestSpansOfHost, type GuestSpan } from '../map/guest-link';
import { setGuestRange, useGuestView } from '../state/guest-view';
import { useApp, type FileEntry } from '../state/store';
import type { AnalysisResult } from '../worker/protocol';
import { formatBytes, hex } from './format';
import { backingTarget, spanText, useGuestLink } from './guest-pick';

export function GuestPane({ file, result, toolbarEnd, shown }: { file: FileEntry; result: AnalysisResult; toolbarEnd: ReactNode; shown: boolean }) {
  const selection = useApp((s) => s.selection);
  const highlight = useApp((s) => s.highlight);
  const picked = useGuestView((s) => s.picked);
  const range = useGuestView((s) => s.range);
  const h = result.structures.header;
  const cs = h.clusterSize;
  const { scope, flags, layers, pick, openLayer } = useGuestLink(file, result);
  const granule = (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n ? cs / 32 : cs;
  const ranges = result.guestMap;
  const mine = picked && picked.scope === scope ? picked : null;

  const onSelect = useCallback((span: GuestSpan) => {
    if (!openLayer(span)) pick(span);
  }, [pick, openLayer]);
  const clickHint = useCallback((span: GuestSpan) => {
    const t = backingTarget(ranges, span, layers);
    return t ? `Click to open ${t.file.name} at its cluster ${t.cluster}` : null;
  }, [ranges, layers]);
  const onViewSpan = useCallback((span: GuestSpan) => setGuestRange(scope, span, 'guest-map'), [scope]);
  // The range the lanes set (the map keeps its own view while hidden).
  const viewSpan = useMemo(
    () => (range && range.scope === scope && range.source !== 'guest-map' ? { span: range.span, seq: range.seq, mark: true } : null),
    [range, scope],
  );

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
    const layer = mine.host === null ? backingTarget(ranges, mine.span, layers) : null;
    note = layer
      ? <>{spanText(mine.span)}: read from {layer.file.name}, cluster {layer.cluster}; click it to open that file there.</>
      : mine.host === null
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
      clickHint={clickHint}
      onGoto={pick}
      viewSpan={viewSpan}
      onViewSpan={onViewSpan}
      showPick={mine && mine.source !== 'guest-map' ? { span: mine.span, seq: mine.seq } : null}
      note={note}
      toolbarEnd={toolbarEnd}
      shown={shown}
    />
  );
}

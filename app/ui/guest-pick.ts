// Picking a guest span, wherever it is picked (the guest map, a bitmap lane): the host clusters of
// this file that hold its bytes are highlighted on the host map and the first is selected; a span
// whose bytes all live in a backing file opens that layer (a dropped file of the chain) at the
// host cluster holding them. Also the backing chain's names and the flags the guest map needs.

import { useCallback, useMemo } from 'react';
import { INCOMPAT_DATA_FILE, type MapRange } from '../format';
import { firstRangeAfter, type GuestImageFlags } from '../map/guest-layout';
import { hostClustersOfGuest, type GuestSpan } from '../map/guest-link';
import { selectCluster, selectFile, setHighlight, showCluster } from '../state/actions';
import { guestScope, setGuestPick, setMapView } from '../state/guest-view';
import { useApp, type FileEntry } from '../state/store';
import type { AnalysisResult } from '../worker/protocol';
import { hex } from './format';

export const spanText = (s: GuestSpan): string => `guest ${hex(s.start)}–${hex(s.end - 1)}`;

/** The dropped files of the chain below `file`, by depth − 1 (undefined where the chain leaves the dropped files). */
export function chainLayers(file: FileEntry, files: readonly FileEntry[]): (FileEntry | undefined)[] {
  const out: (FileEntry | undefined)[] = [];
  let f: FileEntry | undefined = file;
  for (let depth = 0; f && depth < 64; depth++) {
    const next: FileEntry | undefined = f.backing !== null ? files[f.backing] : undefined;
    const name = next?.name ?? f.stage?.backingFile ?? f.missingBacking;
    if (name === null || name === undefined) break;
    out.push(next);
    f = next;
  }
  return out;
}

/** The chain's names: dropped files' names where the chain was followed, else the header's name. */
function chainNames(file: FileEntry, files: readonly FileEntry[]): string[] {
  const names: string[] = [];
  let f: FileEntry | undefined = file;
  for (let depth = 0; f && depth < 64; depth++) {
    const next: FileEntry | undefined = f.backing !== null ? files[f.backing] : undefined;
    const name = next?.name ?? f.stage?.backingFile ?? f.missingBacking;
    if (name === null || name === undefined) break;
    names.push(next?.name ?? name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1));
    f = next;
  }
  return names;
}

/**
 * Where the bytes of `span` live in a backing layer that was dropped: the first range of the span
 * read from a backing file at a known offset, with that layer's file and host cluster; null when
 * none (or when part of the span is stored in this file).
 */
export function backingTarget(
  ranges: readonly MapRange[], span: GuestSpan, layers: readonly (FileEntry | undefined)[],
): { file: FileEntry; cluster: number; depth: number } | null {
  for (let i = firstRangeAfter(ranges, span.start); i < ranges.length && ranges[i]!.start < span.end; i++) {
    const r = ranges[i]!;
    if (r.depth === 0 && r.present) return null;
    if (r.depth < 1 || r.offset === undefined) continue;
    const layer = layers[r.depth - 1];
    const cs = layer?.stage?.header.clusterSize;
    if (!layer || !cs || layer.failure) continue;
    const at = r.offset + (Math.max(span.start, r.start) - r.start);
    return { file: layer, cluster: Math.floor(at / cs), depth: r.depth };
  }
  return null;
}

export interface GuestLink {
  readonly scope: string;
  readonly flags: GuestImageFlags;
  readonly layers: readonly (FileEntry | undefined)[];
  /** Selects `span` (picked on the view `source`): its host clusters highlighted, the first selected. */
  pick(span: GuestSpan, source?: string): void;
  /** Opens the backing layer holding `span`'s bytes on the host map; false when there is none. */
  openLayer(span: GuestSpan): boolean;
}

export function useGuestLink(file: FileEntry, result: AnalysisResult): GuestLink {
  const job = useApp((s) => s.job);
  const files = useApp((s) => s.files);
  const h = result.structures.header;
  const cs = h.clusterSize;
  const names = useMemo(() => chainNames(file, files), [file, files]);
  const layers = useMemo(() => chainLayers(file, files), [file, files]);
  const flags = useMemo(
    () => ({ encrypted: h.cryptMethod !== 0, externalData: (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n, backingNames: names }),
    [h.cryptMethod, h.incompatibleFeatures, names],
  );
  const scope = guestScope(job, file.index);
  const ranges = result.guestMap;
  const ix = result.check.compressed;
  const pick = useCallback((span: GuestSpan, source = 'guest-map') => {
    const host = hostClustersOfGuest(ranges, span.start, span.end, cs, flags, ix);
    const first = host[0]?.start ?? null;
    let clusters = 0;
    for (const r of host) clusters += r.end - r.start;
    setGuestPick(scope, span, first, clusters, source);
    setHighlight(host.length > 0 ? { label: spanText(span), ranges: host } : null);
    // A span stored nowhere in this file has nothing to inspect on the host side.
    selectCluster(first);
  }, [ranges, cs, flags, ix, scope]);
  const openLayer = useCallback((span: GuestSpan) => {
    const t = backingTarget(ranges, span, layers);
    if (!t) return false;
    selectFile(t.file.index);
    setMapView('host');
    showCluster(t.cluster);
    return true;
  }, [ranges, layers]);
  return { scope, flags, layers, pick, openLayer };
}

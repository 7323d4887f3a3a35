// The central slot: the cluster map (app/map) of the file on screen, fed with the per-cluster
// arrays from the registry (never from React state), the selection, the owner of each cluster for
// the tooltip, a highlighted set of clusters, and legend rows for bitmaps that own no cluster. A
// toggle switches to the guest map (GuestPane); each map, once shown, stays mounted (hidden) while the
// other shows.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { ClusterMapPanel } from '../map/ClusterMapPanel';
import { markMapShown, selectCluster } from '../state/actions';
import { setMapView, useGuestView } from '../state/guest-view';
import { noteZoom } from '../state/hash';
import { getClusterArrays } from '../state/registry';
import { useApp, type FileEntry } from '../state/store';
import { entryPastEnd } from '../format';
import { freedDisplayRoles } from '../map/freed-view';
import { ownerPhrase } from './derive';
import { GuestPane } from './GuestPane';
import { UsageMap } from '../map/UsageMap';
import { countRolesOnce, knowRoleCounts } from '../map/lod';
import { nextTask } from '../map/usePyramid';
import { useLater } from './staged';

/** The bench's mark: every cluster is on screen, at least as in use or free. */
const markUsageDrawn = () => {
  const last = (name: string) => performance.getEntriesByName(name).at(-1)?.startTime ?? -1;
  if (last('qcowscope:usage') < last('qcowscope:file')) performance.mark('qcowscope:usage');
};

/** Zero-offset empty bitmaps named one by one in the legend. */
const MAX_EMPTY_BITMAP_ROWS = 8;

export function MapPane({ file }: { file: FileEntry }) {
  const job = useApp((s) => s.job);
  const selection = useApp((s) => s.selection);
  const highlight = useApp((s) => s.highlight);
  const viewRequest = useApp((s) => s.viewRequest);
  // arraysVersion changes whenever a batch lands, usageVersion when a usage summary does: re-read
  // the registry then.
  const usageVersion = useApp((s) => s.usageVersion);
  const arrays = useMemo(() => {
    const a = job === null ? undefined : getClusterArrays(job, file.index);
    if (a?.roles && a.roleCounts) knowRoleCounts(a.roles, a.roleCounts);
    return a;
  }, [job, file.index, file.arraysVersion, usageVersion]);
  const result = file.result;
  const pane = useGuestView((s) => s.pane);
  // The guest map is made when first shown for a file, then kept (hidden) so it keeps its view.
  const [guestSeen, setGuestSeen] = useState<string | null>(null);
  useEffect(() => {
    if (pane === 'guest') setGuestSeen(`${job}:${file.index}`);
  }, [pane, job, file.index]);
  const [showFreed, setShowFreed] = useState(false);
  // Built only while the toggle is on: a copy of the roles with each classified free cluster marked.
  const freedRoles = useMemo(() => (showFreed && arrays?.roles && result?.freed ? freedDisplayRoles(arrays.roles, result.freed.runs, file.stage?.header.clusterSize ?? 0) : null), [showFreed, arrays, result, file.stage]);
  const describe = useCallback((k: number) => (result ? ownerPhrase(result, arrays, k) ?? '' : ''), [result, arrays]);
  const extras = useMemo(() => {
    const size = file.structures?.fileSize ?? 0;
    // Entries read past the end of the file are zeros, not zero-offset bitmaps.
    const empty = (file.structures?.bitmapDirectory?.bitmaps ?? []).filter((b) => b.zeroOffsetEmpty && !entryPastEnd(b, size));
    const note = 'owns no cluster: its table offset is 0';
    const rows = empty.slice(0, MAX_EMPTY_BITMAP_ROWS).map((b) => ({ label: `bitmap '${b.name}' (zero-offset, empty)`, clusters: 0, note }));
    // A damaged directory may list thousands: the rest as one row (the Bitmaps panel lists them all).
    if (empty.length > MAX_EMPTY_BITMAP_ROWS) rows.push({ label: `${empty.length - MAX_EMPTY_BITMAP_ROWS} more zero-offset empty bitmaps`, clusters: 0, note });
    return rows;
  }, [file.structures]);
  const cs = file.stage?.header.clusterSize ?? 0;
  // The owners' map mounts one task after the roles are in, whatever the image's size: its mount,
  // layout and canvases are a task of their own (the early map, or the placeholder, stays on screen
  // meanwhile). The worker sends the roles once they are final, before the rest of its analysis,
  // so the map is usually built and drawn before the result arrives; what needs the result (owner
  // lines in the tooltip, the freed view, the guest map) joins it then, on the same map.
  const complete = Boolean(arrays?.roles && file.rolesReady && cs > 0);
  const ready = useLater(complete, `${job}:${file.index}`);
  // Shown once the host map has drawn the complete roles, reported in the task after that draw's
  // frame (a task queued in an animation frame runs once the frame is painted); while the guest map is on screen the
  // host map is hidden and draws nothing, so it counts as shown two frames after it mounts.
  const shown = file.mapShown;
  const onDrawn = useCallback(() => {
    if (shown || job === null) return;
    nextTask(() => markMapShown(job, file.index));
  }, [shown, job, file.index]);
  useEffect(() => {
    if (!ready || !result || job === null || pane === 'host' || shown) return;
    let id = requestAnimationFrame(() => {
      id = requestAnimationFrame(() => markMapShown(job, file.index));
    });
    return () => cancelAnimationFrame(id);
  }, [ready, result, job, file.index, pane, shown]);
  // The legend's counts, made in a task of their own once the roles arrive (not in the roles' task,
  // nor in the result's or the map's mount).
  const roles = arrays?.roles;
  useEffect(() => {
    if (!roles || !file.rolesReady) return;
    const id = setTimeout(() => countRolesOnce(roles), 0);
    return () => clearTimeout(id);
  }, [roles, file.rolesReady]);
  // The guest map needs the result: with it chosen, the early map stays until the result is in.
  if (!arrays?.roles || !file.rolesReady || cs === 0 || !ready || (!result && pane === 'guest')) {
    // Before the owners are known: every cluster as in use or free, from the refcount blocks.
    const usage = arrays?.usage ?? null;
    return (
      <div className="map-pane" data-testid="map-pane" {...(usage ? { 'data-map-stage': 'usage' } : {})}>
        {/* Mounted with the header, before the summary: laid out and its canvas ready (UsageMap). */}
        {usage || file.stage ? <UsageMap usage={usage} owners={arrays?.owners ?? null} onDrawn={markUsageDrawn} /> : (
          <div className="map-placeholder">{file.stage ? 'The cluster map appears once every table has been scanned…' : 'Reading…'}</div>
        )}
      </div>
    );
  }
  const views = (
    <div className="map-views seg" role="group" aria-label="Map view">
      <button type="button" aria-pressed={pane === 'host'} onClick={() => setMapView('host')} data-testid="view-host">Host file</button>
      <button type="button" aria-pressed={pane === 'guest'} onClick={() => setMapView('guest')} data-testid="view-guest" disabled={!result}>Guest disk</button>
    </div>
  );
  return (
    <div className="map-pane" data-testid="map-pane" data-view={pane} data-map-stage="owners">
      {result && (guestSeen === `${job}:${file.index}` || pane === 'guest') ? (
        <div className="map-view-guest" hidden={pane !== 'guest'}>
          <GuestPane key={`${job}:${file.index}`} file={file} result={result} toolbarEnd={views} shown={pane === 'guest'} />
        </div>
      ) : null}
      <div className="map-view-host" hidden={pane !== 'host'}>
        <ClusterMapPanel
          key={`${job}:${file.index}`}
          roles={arrays.roles}
          clusterSize={cs}
          refcounts={arrays.storedRefcounts}
          selected={selection}
          onSelect={selectCluster}
          describe={describe}
          highlightRanges={highlight?.ranges ?? null}
          {...(highlight ? { highlightLabel: highlight.label } : {})}
          extras={extras}
          fileName={file.name}
          fileSize={file.size}
          toolbarEnd={views}
          viewRequest={viewRequest}
          onZoomChange={noteZoom}
          onDrawn={onDrawn}
          {...(result?.freed && result.freed.runs.length > 0 ? { freedView: { on: showFreed, onChange: setShowFreed, roles: freedRoles } } : {})}
        />
      </div>
    </div>
  );
}

// The view in the URL hash: `#tab=check&cluster=123&zoom=8` (the panel tab, the selected host
// cluster, the map's zoom in CSS pixels per cluster). Read on load and on hashchange, written on
// change with history.replaceState (no history entry per click). The hash is only ever parsed into
// these three checked values: it is never followed as a path or a URL. A cluster or zoom read
// before any file is open waits for the first analysed file, then applies once.

import { TABS, useApp, type AppState, type Tab } from './store';

interface ViewHash {
  readonly tab?: Tab;
  readonly cluster?: number;
  readonly zoom?: number;
}

/** Largest cluster index accepted (2^32: beyond any file the engine analyses). */
const MAX_CLUSTER = 2 ** 32;
const MAX_ZOOM = 1024;

/** The view in `hash` ("#a=b&…" or "a=b&…"); unknown keys and bad values are ignored. */
export function parseHash(hash: string): ViewHash {
  const q = new URLSearchParams(hash.replace(/^#/, '').slice(0, 512));
  const out: { tab?: Tab; cluster?: number; zoom?: number } = {};
  const tab = q.get('tab');
  if (tab !== null && (TABS as readonly string[]).includes(tab)) out.tab = tab as Tab;
  const cluster = q.get('cluster');
  if (cluster !== null && /^\d{1,10}$/.test(cluster) && Number(cluster) < MAX_CLUSTER) out.cluster = Number(cluster);
  const zoom = q.get('zoom');
  if (zoom !== null && /^\d{1,4}(\.\d{1,6})?$/.test(zoom) && Number(zoom) > 0 && Number(zoom) <= MAX_ZOOM) out.zoom = Number(zoom);
  return out;
}

/** "tab=check&cluster=123&zoom=8" (keys present only when set). */
export function formatHash(v: ViewHash): string {
  const parts: string[] = [];
  if (v.tab !== undefined) parts.push(`tab=${v.tab}`);
  if (v.cluster !== undefined) parts.push(`cluster=${v.cluster}`);
  if (v.zoom !== undefined) parts.push(`zoom=${Number(v.zoom.toPrecision(3))}`);
  return parts.join('&');
}

let zoom: number | null = null;
let pending: { cluster: number | null; zoom: number | null } | null = null;
let seq = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

/** The map reports its zoom here (every view change); it reaches the hash after a short pause. */
export function noteZoom(k: number): void {
  if (!Number.isFinite(k) || k <= 0 || k === zoom) return;
  zoom = k;
  scheduleWrite();
}

/** The file on screen, once its analysis is complete and its roles are in. */
function shownFile(s: AppState) {
  const f = s.current === null ? null : s.files[s.current];
  return f?.result && f.rolesReady ? f : null;
}

/** Applies a cluster and zoom (from the hash) to the file on screen. */
function applyView(cluster: number | null, z: number | null): void {
  const s = useApp.getState();
  const f = shownFile(s);
  if (!f) return;
  const inside = cluster !== null && cluster < Math.ceil(f.size / Math.max(1, f.result!.check.clusterSize)) ? cluster : null;
  useApp.setState({ selection: inside ?? s.selection, viewRequest: { cluster: inside, zoom: z, seq: ++seq } });
}

function currentHash(s: AppState): string {
  if (!shownFile(s)) return '';
  return formatHash({ tab: s.tab, ...(s.selection !== null ? { cluster: s.selection } : {}), ...(zoom !== null ? { zoom } : {}) });
}

function scheduleWrite(): void {
  if (timer !== null) return;
  timer = setTimeout(() => {
    timer = null;
    const s = useApp.getState();
    // Nothing on screen yet: keep the hash the page was opened with (it is still pending).
    if (!shownFile(s) || pending) return;
    const h = currentHash(s);
    if (h === location.hash.replace(/^#/, '')) return;
    history.replaceState(history.state, '', h ? `#${h}` : location.pathname + location.search);
  }, 150);
}

/** Starts reading and writing the hash; returns the function that stops it. */
export function startHashSync(): () => void {
  const read = () => {
    const v = parseHash(location.hash);
    if (v.tab !== undefined && v.tab !== useApp.getState().tab) useApp.setState({ tab: v.tab });
    if (v.cluster === undefined && v.zoom === undefined) return;
    pending = { cluster: v.cluster ?? null, zoom: v.zoom ?? null };
    flushPending();
  };
  const flushPending = () => {
    if (!pending || !shownFile(useApp.getState())) return;
    const p = pending;
    pending = null;
    applyView(p.cluster, p.zoom);
  };
  read();
  const unsubscribe = useApp.subscribe((s, prev) => {
    if (pending) flushPending();
    else if (s.tab !== prev.tab || s.selection !== prev.selection || s.current !== prev.current || s.files !== prev.files) scheduleWrite();
  });
  window.addEventListener('hashchange', read);
  return () => {
    unsubscribe();
    window.removeEventListener('hashchange', read);
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
}

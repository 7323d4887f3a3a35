// The view in the URL hash: `#tab=check&cluster=123&zoom=8` (the panel tab, the selected host
// cluster, the map's zoom in CSS pixels per cluster). Read on load and on hashchange (Back and
// Forward), written on change: the first view of a file replaces the page's entry, every later tab,
// selection or zoom change the person makes (a zoom once the gesture has settled) is a history entry
// of its own, so Back steps through them and stays in the app. A change nobody asked for — the map
// fitting again to a resized pane, or taking the zoom of an entry Back returned to — only updates the
// entry on screen: it is never an entry of its own, however late it comes. The hash is only ever parsed into these three
// checked values: it is never followed as a path or a URL. A cluster or zoom read before any file is
// open waits for the first analysed file, then applies once.

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
let timer: ReturnType<typeof setTimeout> | null = null;
/** The file (job:index) whose view is in the page's history entry, or null before the first write. */
let written: string | null = null;
/** A change the person made (tab, selection, zoom gesture) is waiting to be written: it pushes. */
let userChange = false;
/** Set while a view read from the hash is applied: the store changes it makes are not the person's. */
let applying = false;

/** Quiet time before a change reaches the hash: one entry per zoom gesture, not per wheel step. */
const SETTLE_MS = 350;
/**
 * The map reports its zoom here (every view change); it reaches the hash after a short pause.
 * `byUser`: the person zoomed (wheel, buttons, keys); false for a fit to a new pane size or a zoom
 * the map was asked to show.
 */
export function noteZoom(k: number, byUser = false): void {
  if (!Number.isFinite(k) || k <= 0 || k === zoom) return;
  zoom = k;
  if (byUser) userChange = true;
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
  const seq = (s.viewRequest?.seq ?? 0) + 1;
  const was = applying;
  applying = true;
  try {
    useApp.setState({ selection: inside ?? s.selection, viewRequest: { cluster: inside, zoom: z, seq } });
  } finally {
    applying = was;
  }
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
    const fileKey = `${s.job}:${s.current}`;
    const push = userChange && written === fileKey;
    userChange = false;
    if (h === location.hash.replace(/^#/, '') && written === fileKey) return;
    const url = h ? `#${h}` : location.pathname + location.search;
    // A file's first view replaces the entry the page was opened with; the person's changes are
    // entries; anything else updates the entry on screen.
    if (push) history.pushState(null, '', url);
    else history.replaceState(history.state, '', url);
    written = fileKey;
  }, SETTLE_MS);
}

/** Starts reading and writing the hash; returns the function that stops it. */
export function startHashSync(): () => void {
  /** `fromHistory`: the whole view is the entry's (no cluster in it: no selection). */
  const read = (fromHistory: boolean) => {
    const v = parseHash(location.hash);
    // What the entry says is not a change of the person's: whatever was waiting to be written is
    // the entry left behind, and the view taken from this one only updates it.
    if (fromHistory) userChange = false;
    applying = true;
    try {
      if (v.tab !== undefined && v.tab !== useApp.getState().tab) useApp.setState({ tab: v.tab });
      if (fromHistory && v.cluster === undefined && useApp.getState().selection !== null) useApp.setState({ selection: null });
      if (v.cluster === undefined && v.zoom === undefined) return;
      // The entry's zoom is the view's until the map reports the one it took.
      if (fromHistory && v.zoom !== undefined) zoom = v.zoom;
      pending = { cluster: v.cluster ?? null, zoom: v.zoom ?? null };
      flushPending();
    } finally {
      applying = false;
    }
  };
  const onHashChange = () => read(true);
  const flushPending = () => {
    if (!pending || !shownFile(useApp.getState())) return;
    const p = pending;
    pending = null;
    applyView(p.cluster, p.zoom);
  };
  read(false);
  const unsubscribe = useApp.subscribe((s, prev) => {
    if (pending) flushPending();
    else {
      const mine = s.tab !== prev.tab || s.selection !== prev.selection || s.current !== prev.current;
      if (mine && !applying) userChange = true;
      if (mine || s.files !== prev.files) scheduleWrite();
    }
  });
  window.addEventListener('hashchange', onHashChange);
  return () => {
    unsubscribe();
    window.removeEventListener('hashchange', onHashChange);
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
}

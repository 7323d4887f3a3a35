// What the guest-side views share: which map the map pane shows (host file or guest disk), the
// guest byte range in view (the bitmap lanes and the guest map follow each other), a guest span
// picked on either of them (with the host cluster selected for it), and a guest offset to go to.
// A store of its own beside store.ts; each entry is scoped to one file of one job ("job:file").

import { create } from 'zustand';

export type MapView = 'host' | 'guest';

/** A guest byte span [start, end). */
export interface GuestSpanRef {
  readonly start: number;
  readonly end: number;
}

interface GuestViewState {
  readonly pane: MapView;
  /** The guest range in view; `source` names the view that set it, which does not follow itself. */
  readonly range: { readonly scope: string; readonly span: GuestSpanRef; readonly source: string; readonly seq: number } | null;
  /** The guest span last picked, and the host cluster selected for it (null: none stored in this file). */
  readonly picked: {
    readonly scope: string; readonly span: GuestSpanRef; readonly host: number | null; readonly clusters: number; readonly source: string; readonly seq: number;
  } | null;
}

export const useGuestView = create<GuestViewState>()(() => ({ pane: 'host', range: null, picked: null }));

export const guestScope = (job: number | null, file: number): string => `${job}:${file}`;

export function setMapView(pane: MapView): void {
  useGuestView.setState({ pane });
}

/** Tells the other views that `source` now shows guest bytes `span` of the file `scope`. */
export function setGuestRange(scope: string, span: GuestSpanRef, source: string): void {
  const seq = (useGuestView.getState().range?.seq ?? 0) + 1;
  useGuestView.setState({ range: { scope, span, source, seq } });
}

/** Records a guest span picked by `source` (a view), with the host cluster selected for it. */
export function setGuestPick(scope: string, span: GuestSpanRef, host: number | null, clusters: number, source: string): void {
  const seq = (useGuestView.getState().picked?.seq ?? 0) + 1;
  useGuestView.setState({ picked: { scope, span, host, clusters, source, seq } });
}

// The bitmap lanes of a file, tied to its guest map: a click on an extent picks that guest range
// (its host clusters highlighted and the first selected, as a pick on the guest map does) and
// switches the map pane to the guest disk, which brings the range into view.

import { useMemo } from 'react';
import { setMapView } from '../state/guest-view';
import type { FileEntry } from '../state/store';
import type { AnalysisResult } from '../worker/protocol';
import { BitmapLanes, type Lane, type LaneLink } from './BitmapLanes';
import { useGuestLink } from './guest-pick';

export function LinkedLanes({ file, result, lanes, size }: { file: FileEntry; result: AnalysisResult; lanes: readonly Lane[]; size: number }) {
  const { scope, pick } = useGuestLink(file, result);
  const link = useMemo<LaneLink>(() => ({
    scope,
    onPick: (span) => {
      pick(span, 'lanes');
      setMapView('guest');
    },
  }), [scope, pick]);
  return <BitmapLanes lanes={lanes} size={size} link={link} />;
}

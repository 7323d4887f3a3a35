// "Showing N of M …  [Show more]" under a long list that renders in pages (a hostile file can list
// 65536 snapshots or 65535 bitmaps; rendering them all at once would freeze the page).

import { useState } from 'react';
import { formatCount, plural } from './format';

/** How many of a list to render: `first` at first, `first * 4` more per "Show more". */
export function usePaged(first: number, scope: unknown): [number, () => void] {
  const [state, setState] = useState({ scope, shown: first });
  const shown = state.scope === scope ? state.shown : first;
  return [shown, () => setState({ scope, shown: shown + first * 4 })];
}

export function ShowMore({ shown, total, noun, onMore }: { shown: number; total: number; noun: string; onMore: () => void }) {
  if (total <= shown) return null;
  return (
    <p data-testid="show-more">
      Showing {formatCount(shown)} of {plural(total, noun)}.{' '}
      <button type="button" onClick={onMore}>
        Show more
      </button>
    </p>
  );
}

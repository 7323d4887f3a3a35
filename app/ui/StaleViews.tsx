// The inspector's views of a freed cluster whose stale table the live decoders cannot place
// (format/freed stale-place.ts returns null): a stale bitmap directory and a stale snapshot table,
// decoded entry by entry from the cluster's bytes (inspect/stale.ts) into the live views, and a
// removed bitmap's table, whose granularity is read from a stale copy of the directory among the
// freed clusters when one names it. Names are file data: rendered as text only.

import { useEffect, useState } from 'react';
import {
  INCOMPAT_EXTL2, bitmapEntryBlocks, bitmapOwningTable, decodeTable, snapshotEntryBlocks, staleBitmapEntries, staleSnapshotEntries,
  type FreedRun, type Place,
} from '../format';
import { readCluster } from '../state/actions';
import type { FileEntry } from '../state/store';
import { EntryBlocks, EntryList, type PointerLinks } from './DecodedViews';

/** Stale directory clusters read at most to find a removed bitmap's granularity. */
const MAX_DIRECTORY_READS = 8;

/** Whether the inspector decodes this freed run with a StaleBody (rather than stalePlace or the hex view). */
export function hasStaleBody(run: FreedRun): boolean {
  return run.was === 'bitmap-directory' || run.was === 'snapshot-table' || run.was === 'bitmap-table';
}

interface StaleBodyProps {
  readonly file: FileEntry;
  readonly run: FreedRun;
  readonly runs: readonly FreedRun[];
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly links: PointerLinks;
}

export function StaleBody({ file, run, runs, bytes, offset, links }: StaleBodyProps) {
  if (run.was === 'bitmap-directory') {
    const d = staleBitmapEntries(bytes, offset);
    return <EntryBlocks what="Stale bitmap directory (decoded from the cluster's first byte)" blocks={bitmapEntryBlocks(d.entries, bytes, offset)} links={links} stop={d.stop} />;
  }
  if (run.was === 'snapshot-table') {
    const d = staleSnapshotEntries(bytes, offset);
    return <EntryBlocks what="Stale snapshot table (decoded from the cluster's first byte)" blocks={snapshotEntryBlocks(d.entries, bytes, offset)} links={links} stop={d.stop} />;
  }
  return <StaleBitmapTable file={file} run={run} runs={runs} bytes={bytes} offset={offset} links={links} />;
}

/** A bitmap table no live bitmap owns, its entries named by the stale directory entry that owns it when one is found. */
function StaleBitmapTable({ file, run, runs, bytes, offset, links }: StaleBodyProps) {
  const h = file.stage!.header;
  const cs = h.clusterSize;
  const owner = useStaleOwner(runs, offset, cs, Boolean(file.saved));
  const named = run.freedBy ? /bitmap '(.*)'/.exec(run.freedBy)?.[1] : undefined;
  const found = owner.state === 'found' ? owner : null;
  const name = found?.name ?? named ?? '(name not known)';
  const place: Extract<Place, { kind: 'bitmap-table' }> = {
    kind: 'bitmap-table',
    name,
    guestPerEntry: found ? cs * 8 * 2 ** found.granularityBits : 0,
    firstEntry: found?.firstEntry ?? 0,
    count: cs / 8,
    startAt: 0,
  };
  const ctx = { clusterBits: h.clusterBits, extendedL2: (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n, refcountOrder: h.refcountOrder };
  return (
    <>
      <p className="note muted stale-note" data-testid="stale-granularity">
        {found
          ? `Guest ranges from the stale directory entry at 0x${found.entryOffset.toString(16)}: granularity ${2 ** found.granularityBits} bytes.`
          : owner.state === 'reading'
            ? 'Looking for the stale directory entry that names this table…'
            : 'No stale directory entry names this table, so its granularity (and the guest range of each entry) is not known.'}
      </p>
      <EntryList decoded={decodeTable(place, bytes, ctx)} links={links} />
    </>
  );
}

type Owner =
  | { readonly state: 'reading' | 'none' }
  | { readonly state: 'found'; readonly name: string; readonly granularityBits: number; readonly firstEntry: number; readonly entryOffset: number };

/** The stale directory entry (among freed 'bitmap-directory' clusters) whose table holds `offset`. */
function useStaleOwner(runs: readonly FreedRun[], offset: number, cs: number, saved: boolean): Owner {
  const [owner, setOwner] = useState<{ key: number; owner: Owner } | null>(null);
  useEffect(() => {
    let live = true;
    const dirs: number[] = [];
    for (const r of runs) {
      if (r.was !== 'bitmap-directory') continue;
      for (let k = 0; k < r.clusters && dirs.length < MAX_DIRECTORY_READS; k++) dirs.push(Math.floor(r.offset / cs) + k);
    }
    if (saved || dirs.length === 0) {
      setOwner({ key: offset, owner: { state: 'none' } });
      return;
    }
    void (async () => {
      for (const k of dirs) {
        try {
          const c = await readCluster(k);
          const hit = bitmapOwningTable(staleBitmapEntries(c.bytes, c.offset).entries, offset);
          if (hit) {
            if (live) setOwner({ key: offset, owner: { state: 'found', name: hit.bitmap.name, granularityBits: hit.bitmap.granularityBits, firstEntry: hit.firstEntry, entryOffset: hit.bitmap.entryOffset } });
            return;
          }
        } catch {
          // An unreadable cluster names nothing: try the next.
        }
      }
      if (live) setOwner({ key: offset, owner: { state: 'none' } });
    })();
    return () => {
      live = false;
    };
  }, [runs, offset, cs, saved]);
  return owner && owner.key === offset ? owner.owner : { state: 'reading' };
}

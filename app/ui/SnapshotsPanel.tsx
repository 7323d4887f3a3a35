// The Snapshots panel: the internal snapshot table (spec: "Snapshots") with, once space is
// accounted, what deleting each snapshot would free (clusters only it holds).

import { entryPastEnd } from '../format';
import type { FileEntry } from '../state/store';
import { snapshotSpace } from './derive';
import { formatBytes, formatDate, hex, plural } from './format';
import { ColumnHeads } from './ColumnHeads';
import { ShowMore, usePaged } from './ShowMore';

/** Rows rendered at first; a hostile table may hold 65536 snapshots. */
const PAGE = 500;

export function SnapshotsPanel({ file }: { file: FileEntry }) {
  const s = file.structures;
  const [shown, more] = usePaged(PAGE, s?.snapshotTable);
  if (!s) return <p className="muted">Reading the snapshot table…</p>;
  const table = s.snapshotTable;
  if (!table || table.snapshots.length === 0) {
    return <p className="muted">No internal snapshots{s.header.nbSnapshots > 0 ? ` could be read (the header says ${s.header.nbSnapshots})` : ''}.</p>;
  }
  const frees = file.result ? snapshotSpace(file.result) : null;
  const cs = s.header.clusterSize;
  // Entries read past the end of the file are QEMU's zeros: counted, never shown as snapshots.
  const real = table.snapshots.filter((sn) => !entryPastEnd(sn, s.fileSize));
  const phantom = table.snapshots.length - real.length;
  return (
    <div className="snapshots-panel">
      <p>
        {plural(real.length, 'snapshot')} in the table at {hex(table.offset)} ({formatBytes(table.byteLength)}).
      </p>
      {phantom > 0 && (
        <p className="warn-text" data-testid="snapshots-past-end">
          {plural(phantom, 'table entry', 'table entries')} {phantom === 1 ? 'lies' : 'lie'} past the end of the file (at {hex(s.fileSize)}): QEMU
          reads {phantom === 1 ? 'it' : 'them'} as zeros; {phantom === 1 ? 'it is not a snapshot' : 'they are not snapshots'}.
        </p>
      )}
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Snapshot table">
        <table className="fields">
          <ColumnHeads names={['id', 'name', 'date (UTC)', 'VM state', 'disk size', 'L1 table', 'deleting it frees']} />
          <tbody>
            {real.slice(0, shown).map((sn) => {
              const free = frees?.get(sn.index);
              return (
                <tr key={sn.index} data-snapshot={sn.name}>
                  <td className="num">{sn.id}</td>
                  <td className="snapshot-name">{sn.name}</td>
                  <td className="nowrap">{formatDate(sn.dateSec, sn.dateNsec)}</td>
                  <td className="num">{formatBytes(sn.vmStateSize)}</td>
                  <td className="num">{sn.diskSize === null ? '—' : formatBytes(sn.diskSize)}</td>
                  <td className="mono">
                    {hex(sn.l1TableOffset)} × {sn.l1Size}
                  </td>
                  <td className="num">
                    {free === undefined ? (file.result ? '—' : '…') : (
                      <>
                        {formatBytes(free * cs)}
                        <br />
                        <span className="muted small">{plural(free, 'cluster')}</span>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ShowMore shown={shown} total={real.length} noun="snapshot" onMore={more} />
    </div>
  );
}

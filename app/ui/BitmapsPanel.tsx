// The Bitmaps panel: one card per persistent dirty bitmap (spec: "Bitmaps extension") with its
// flags, granularity, table, set bits and a strip of where it is dirty over the guest disk.
// Zero-offset empty bitmaps (the 2016 proposal) get a badge and an explanation.

import { entryPastEnd, type Bitmap } from '../format';
import type { FileEntry } from '../state/store';
import { BitmapAnswers } from './BitmapAnswers';
import { BitmapStrip } from './BitmapStrip';
import { setHighlight } from '../state/actions';
import { useApp } from '../state/store';
import { bitmapClusterRanges, bitmapSpace, type BitmapSpaceRow } from './derive';
import { formatBytes, formatCount, hex, percent, plural } from './format';
import { ShowMore, usePaged } from './ShowMore';

/** Cards rendered at first; a damaged directory may list 65535 bitmaps. */
const PAGE = 100;

export function BitmapsPanel({ file }: { file: FileEntry }) {
  const s = file.structures;
  const [shown, more] = usePaged(PAGE, s?.bitmapDirectory);
  if (!s) return <p className="muted">Reading the bitmap directory…</p>;
  const dir = s.bitmapDirectory;
  if (!dir || dir.bitmaps.length === 0) {
    return (
      <p className="muted">
        {s.extensions.bitmaps ? 'The bitmaps extension lists no readable bitmap.' : 'No persistent bitmaps (no bitmaps extension).'}
      </p>
    );
  }
  const space = file.result ? bitmapSpace(file.result) : [];
  // Entries read past the end of the file are QEMU's zeros: counted, never shown as bitmaps.
  const real = dir.bitmaps.filter((b) => !entryPastEnd(b, s.fileSize));
  const phantom = dir.bitmaps.length - real.length;
  return (
    <div className="bitmaps-panel">
      <p>
        {plural(real.length, 'bitmap')} in the directory at {hex(dir.offset)} ({formatBytes(dir.byteLength)}).
      </p>
      <BitmapAnswers file={file} />
      {phantom > 0 && (
        <p className="warn-text" data-testid="bitmaps-past-end">
          {plural(phantom, 'directory entry', 'directory entries')} {phantom === 1 ? 'lies' : 'lie'} past the end of the file (at{' '}
          {hex(s.fileSize)}): QEMU reads {phantom === 1 ? 'it' : 'them'} as zeros; {phantom === 1 ? 'it is not a bitmap' : 'they are not bitmaps'}.
        </p>
      )}
      <ul className="cards">
        {real.slice(0, shown).map((b) => (
          <BitmapCard key={b.index} b={b} guestSize={Number(s.header.size)} clusterSize={s.header.clusterSize} space={space[b.index] ?? null} />
        ))}
      </ul>
      <ShowMore shown={shown} total={real.length} noun="bitmap" onMore={more} />
    </div>
  );
}

function flagNames(b: Bitmap): string[] {
  const out: string[] = [];
  if (b.inUse) out.push('in-use');
  if (b.auto) out.push('auto');
  if (b.extraDataCompatible) out.push('extra-data-compatible');
  return out;
}

function BitmapCard({ b, guestSize, clusterSize, space }: { b: Bitmap; guestSize: number; clusterSize: number; space: BitmapSpaceRow | null }) {
  const granularity = 2 ** b.granularityBits;
  const label = `bitmap '${b.name}'`;
  const shown = useApp((st) => st.highlight?.label === label);
  const owns = space !== null && space.tableClusters + space.dataClusters > 0;
  const flags = flagNames(b);
  const dirtyBytes = b.setBits === null ? null : Math.min(guestSize, b.setBits * granularity);
  return (
    <li className="card bitmap" data-bitmap={b.name}>
      <h3>
        <span className="bitmap-name">{b.name}</span>
        {flags.map((f) => (
          <span key={f} className={f === 'in-use' ? 'badge warn' : 'badge'} data-flag={f}>{f}</span>
        ))}
        {flags.length === 0 && <span className="badge muted" data-flag="none">disabled</span>}
        {b.zeroOffsetEmpty && <span className="badge seed" data-testid="zero-offset-badge">zero-offset empty bitmap</span>}
        {b.offsetOneAllSet && <span className="badge seed">offset 1: all bits set?</span>}
      </h3>
      {b.zeroOffsetEmpty && (
        <p className="explain">
          Its bitmap_table_offset and bitmap_table_size are 0: under a 2016 proposal to the qcow2 spec
          (never merged) this means “no table allocated, all bits zero”, so an empty bitmap — or one whose data
          went stale once it was loaded — owns no cluster at all. QEMU 7.2 refuses to open such an image.
        </p>
      )}
      {b.offsetOneAllSet && (
        <p className="explain">
          Its bitmap_table_offset is 1, the proposal's open question: does it mean “every bit set”? No spec says
          so, and QEMU refuses the image.
        </p>
      )}
      {b.inUse && (
        <p className="explain">
          In use: QEMU had the bitmap loaded when the image was last closed uncleanly, so the stored bits are
          stale and must not be trusted for an incremental backup.
        </p>
      )}
      <dl className="kv">
        <dt>granularity</dt>
        <dd data-testid="granularity" data-bytes={granularity}>{formatBytes(granularity)} ({b.granularityBits} bits)</dd>
        <dt>type</dt>
        <dd>{b.type === 1 ? 'dirty tracking' : `unknown (${b.type})`}</dd>
        <dt>table</dt>
        <dd>
          {b.zeroOffsetEmpty ? 'none' : `${hex(b.tableOffset)}, ${plural(b.tableSize, 'entry', 'entries')}`}
          {b.tableSize > 0 && ` (${b.entryKinds.data} data, ${b.entryKinds.zeros} zero, ${b.entryKinds.ones} all-ones${b.entryKinds.invalid ? `, ${b.entryKinds.invalid} invalid` : ''})`}
        </dd>
        <dt>set bits</dt>
        <dd data-testid="set-bits">
          {b.setBits === null ? 'unknown' : `${formatCount(b.setBits)} of ${formatCount(b.bitCount)} (${percent(b.setBits, b.bitCount)} dirty${dirtyBytes !== null ? `, ${formatBytes(dirtyBytes)} of guest data` : ''})`}
        </dd>
        {space && (
          <>
            <dt>clusters</dt>
            <dd>{plural(space.tableClusters, 'table cluster')}, {plural(space.dataClusters, 'data cluster')}</dd>
          </>
        )}
        {b.extraDataSize > 0 && (
          <>
            <dt>extra data</dt>
            <dd>{b.extraDataSize} bytes</dd>
          </>
        )}
      </dl>
      <BitmapStrip strip={b.strip} bitCount={b.bitCount} label={`bitmap ${b.name}`} />
      {owns && (
        <button
          type="button"
          className="btn small show-on-map"
          aria-pressed={shown}
          onClick={() => setHighlight(shown ? null : { label, ranges: bitmapClusterRanges(b, clusterSize) })}
        >
          {shown ? 'Show every cluster on the map' : 'Show its clusters on the map'}
        </button>
      )}
      {b.qemuRefuses.length > 0 && (
        <ul className="refusals">
          {b.qemuRefuses.map((r, i) => (
            <li key={i}>QEMU refuses: {r}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

// The Overview panel: the file, its geometry and features by name, and ONE verdict line.

import { entryPastEnd, featureList } from '../format';
import type { FileEntry } from '../state/store';
import { setTab } from '../state/actions';
import { findingSummary, spaceRows, verdict } from './derive';
import { formatBytes, formatCount, percent, plural } from './format';
import { StackedBar } from './SpacePanel';
import { SafetyBadge } from './SafetyBadge';

export function OverviewPanel({ file }: { file: FileEntry }) {
  const stage = file.stage;
  const v = verdict(file);
  return (
    <div className="overview">
      <p className={`verdict ${v.severity}`} data-testid="verdict" data-verdict={v.kind} data-severity={v.severity}>
        {v.text}
      </p>
      {v.more.length > 0 && (
        <ul className="verdict-more" data-testid="verdict-more">
          {v.more.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      <SafetyBadge file={file} />
      <dl className="kv">
        <dt>file</dt>
        <dd className="file-name">{file.name}</dd>
        <dt>file size</dt>
        <dd>{formatBytes(file.size)} ({formatCount(file.size)} bytes)</dd>
        {stage && <Geometry file={file} />}
      </dl>
      {file.missingBacking !== null && (
        <p className="warn-text" data-testid="missing-backing-note">
          The backing file <code>{file.missingBacking}</code> was not dropped with this image: guest ranges it would
          provide show as unallocated. Drop both files together to follow the chain.
        </p>
      )}
      {file.result && new Set(file.result.qemuRefuses.map((r) => r.message)).size > 1 && (
        <>
          <h3>Every reason QEMU would refuse it</h3>
          <ul className="refusals">
            {[...groupCounts(file.result.qemuRefuses.map((r) => r.message))].map(([m, n], i) => (
              <li key={i}>
                {m}
                {n > 1 && <span className="muted"> (×{n})</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {file.result && <Summary file={file} />}
      {file.ms !== null && <p className="muted">Analysed in {Math.round(file.ms)} ms.</p>}
    </div>
  );
}

function Geometry({ file }: { file: FileEntry }) {
  const stage = file.stage!;
  const h = stage.header;
  const names = stage.extensions.featureNames;
  const features = [
    ...featureList(h.incompatibleFeatures, 'incompatible', names),
    ...featureList(h.compatibleFeatures, 'compatible', names),
    ...featureList(h.autoclearFeatures, 'autoclear', names),
  ];
  const s = file.structures;
  return (
    <>
      <dt>virtual size</dt>
      <dd>{formatBytes(h.size)} ({formatCount(h.size)} bytes)</dd>
      <dt>cluster size</dt>
      <dd>{h.clusterSize ? formatBytes(h.clusterSize) : `invalid (cluster_bits ${h.clusterBits})`}</dd>
      <dt>version</dt>
      <dd>{h.version === 3 ? '3 (compat 1.1)' : h.version === 2 ? '2 (compat 0.10)' : h.version}</dd>
      <dt>refcounts</dt>
      <dd>{2 ** h.refcountOrder}-bit</dd>
      <dt>compression</dt>
      <dd>{h.compressionType === 1 ? 'zstd' : h.compressionType === 0 ? 'zlib' : `unknown (${h.compressionType})`}</dd>
      <dt>encryption</dt>
      <dd>{['none', 'AES (legacy)', 'LUKS'][h.cryptMethod] ?? `unknown (${h.cryptMethod})`}</dd>
      <dt>features</dt>
      <dd className="features">
        {features.length === 0 ? <span className="muted">none</span> : features.map((f) => <span key={f} className="badge">{f}</span>)}
      </dd>
      {stage.backingFile !== null && (
        <>
          <dt>backing file</dt>
          <dd><code>{stage.backingFile}</code>{stage.extensions.backingFormat ? ` (${stage.extensions.backingFormat})` : ''}</dd>
        </>
      )}
      {s && (
        <>
          <dt>snapshots</dt>
          <dd>{s.snapshotTable ? counted(s.snapshotTable.snapshots, 'snapshot', s.fileSize) : 'none'}</dd>
          <dt>bitmaps</dt>
          <dd>{s.bitmapDirectory ? counted(s.bitmapDirectory.bitmaps, 'bitmap', s.fileSize) : 'none'}</dd>
          <dt>L1 table</dt>
          <dd>{plural(h.l1Size, 'entry', 'entries')}</dd>
        </>
      )}
    </>
  );
}

function Summary({ file }: { file: FileEntry }) {
  const r = file.result!;
  const rows = spaceRows(r).filter((x) => x.bytes > 0);
  const top = rows.slice(0, 4);
  const n = findingSummary(r.findings);
  return (
    <>
      <h3>Where the bytes go</h3>
      <StackedBar rows={rows} total={r.fileSize} />
      <p>
        {top.map((x, i) => (
          <span key={x.key}>
            {i > 0 ? ', ' : ''}
            {x.label} {percent(x.bytes, r.fileSize)}
          </span>
        ))}
        {rows.length > top.length ? ' … ' : ' '}
        <button type="button" className="link" onClick={() => setTab('space')}>details</button>
      </p>
      {!file.saved && <ConvertEstimate file={file} />}
      <h3>Findings</h3>
      <p>
        {plural(n.error, 'error')}, {plural(n.warning, 'warning')}, {plural(n.info, 'note')}{' '}
        <button type="button" className="link" onClick={() => setTab('check')}>list them</button>
      </p>
    </>
  );
}

/** Each distinct text once, with how often it occurs, in first-seen order. */
function groupCounts(texts: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of texts) out.set(t, (out.get(t) ?? 0) + 1);
  return out;
}

/** "2 snapshots", and how many more entries were read past the end of the file (zeros, not real). */
function counted(entries: readonly { readonly entryOffset: number; readonly entryLength: number }[], noun: string, fileSize: number): string {
  const real = entries.filter((e) => !entryPastEnd(e, fileSize)).length;
  const past = entries.length - real;
  return plural(real, noun) + (past > 0 ? ` (+ ${plural(past, 'entry', 'entries')} past the end of the file: zeros)` : '');
}

/** What `qemu-img convert -O qcow2` would write (`qemu-img measure -O qcow2`'s required size, computed in the worker). */
function ConvertEstimate({ file }: { file: FileEntry }) {
  const e = file.estimate;
  if (!e) return null;
  const diff = e.lessThanFile >= 0n ? e.lessThanFile : -e.lessThanFile;
  return (
    <p data-testid="convert-estimate" title="qemu-img measure -O qcow2: the required size">
      qemu-img convert would write about {formatBytes(Number(e.required))}, {formatBytes(Number(diff))}{' '}
      {e.lessThanFile >= 0n ? 'less' : 'more'} than this file.
    </p>
  );
}

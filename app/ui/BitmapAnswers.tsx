// The Bitmaps tab's answers for backup-tool authors: every bitmap of the image as a lane of dirty
// extents on one guest axis; for the chosen bitmap, what an incremental backup from it copies
// (data, zeros, unallocated) as numbers and a lane, "Copy extents" (the CLI's JSON, which is
// nbdinfo's), and its health in plain words; against a second bitmap (of this or another dropped
// image), A∖B, B∖A and A∩B. Extents are computed in the worker (bitmap-maps.ts).

import { useEffect, useMemo, useState } from 'react';
import {
  ALLOCATION_DESCRIPTIONS, BITMAP_DESCRIPTIONS, DIRTY, DIRTY_DATA, DIRTY_UNALLOCATED, DIRTY_ZERO, UNKNOWN,
  Extents, bitmapHealth, nbdinfoText,
} from '../format';
import { bitmapMaps } from '../state/actions';
import { useApp, type FileEntry } from '../state/store';
import type { BitmapMapsMsg, CompactExtents } from '../worker/bitmap-maps';
import type { Lane } from './BitmapLanes';
import { LinkedLanes } from './LinkedLanes';
import type { LaneStyle } from './bitmap-lanes-draw';
import { formatBytes, formatCount } from './format';

const UNKNOWN_FILL = '#8e6cc8';
const PLAIN: LaneStyle = { colors: ['', '#d55e00', UNKNOWN_FILL], priority: [0, 2, 1], names: [...BITMAP_DESCRIPTIONS] };
const ALLOC: LaneStyle = {
  colors: ['', '#0072b2', UNKNOWN_FILL, '#4fb286', '#9aa5b0'],
  priority: [0, 4, 3, 2, 1],
  names: [...ALLOCATION_DESCRIPTIONS],
};
/** Most lanes asked for at once. */
const MAX_LANES = 64;

const bytesOf = (c: CompactExtents, t: number) => c.bytes[t] ?? 0;
const asExtents = (c: CompactExtents) => new Extents(c.starts, c.types, c.starts.length, c.size);
/** Extents copied as text at most: beyond this the clipboard text would be hundreds of MB. */
const MAX_COPY_EXTENTS = 1_000_000;

interface Choice {
  readonly key: string;
  readonly file: number;
  readonly index: number;
  readonly label: string;
}

export function BitmapAnswers({ file }: { file: FileEntry }) {
  const files = useApp((s) => s.files);
  const bitmaps = file.result?.structures.bitmapDirectory?.bitmaps ?? [];
  const [a, setA] = useState(0);
  const [b, setB] = useState('');
  const [maps, setMaps] = useState<BitmapMapsMsg | null>(null);
  const [cmp, setCmp] = useState<BitmapMapsMsg | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const ready = file.result !== null && !file.saved && bitmaps.length > 0;

  useEffect(() => {
    setMaps(null);
    setError(null);
    if (!ready) return;
    let live = true;
    const refs = bitmaps.slice(0, MAX_LANES).map((_, index) => ({ file: file.index, index }));
    bitmapMaps(refs, false).then((m) => live && setMaps(m), (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => void (live = false);
  }, [ready, file.index, file.result]);

  const choices = useMemo<Choice[]>(() => {
    const out: Choice[] = [];
    const many = files.filter((f) => f.result && !f.saved).length > 1;
    for (const f of files) {
      if (!f.result || f.saved) continue;
      (f.result.structures.bitmapDirectory?.bitmaps ?? []).slice(0, MAX_LANES).forEach((bm, index) => {
        out.push({ key: `${f.index}:${index}`, file: f.index, index, label: many ? `${f.name}: ${bm.name}` : bm.name });
      });
    }
    return out;
  }, [files]);

  useEffect(() => {
    setCmp(null);
    const other = choices.find((c) => c.key === b);
    if (!ready || !other) return;
    let live = true;
    bitmapMaps([{ file: file.index, index: a }, { file: other.file, index: other.index }], true).then(
      (m) => live && setCmp(m),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => void (live = false);
  }, [ready, a, b, choices, file.index]);

  if (!file.result) return <p className="muted">Dirty extents come when the analysis is done.</p>;
  if (bitmaps.length === 0) return null;
  if (file.saved) return <p className="muted">Dirty extents need the image itself; this is a saved analysis.</p>;
  if (error) return <p className="error-text">Bitmap extents could not be read: {error}</p>;
  if (!maps) return <p className="muted">Reading the bitmaps' bits…</p>;

  const laneA = maps.lanes[a] ?? maps.lanes[0];
  const chosen = bitmaps[laneA?.ref.index ?? 0];
  const lanes: Lane[] = maps.lanes.map((l) => ({ key: `p${l.ref.index}`, label: l.name, extents: l.plain, style: PLAIN }));
  if (laneA) lanes.push({ key: 'backup', label: `backup from ${laneA.name}`, extents: laneA.alloc, style: ALLOC });
  const other = choices.find((c) => c.key === b);
  if (cmp?.compare && other) {
    const an = laneA?.name ?? 'A';
    const bn = other.label;
    lanes.push(
      { key: 'amb', label: `${an} ∖ ${bn}`, extents: cmp.compare.aMinusB, style: PLAIN },
      { key: 'bma', label: `${bn} ∖ ${an}`, extents: cmp.compare.bMinusA, style: PLAIN },
      { key: 'anb', label: `${an} ∩ ${bn}`, extents: cmp.compare.aAndB, style: PLAIN },
    );
  }
  const size = Math.max(1, ...lanes.map((l) => l.extents.size));
  const alloc = laneA?.alloc;
  const health = chosen && laneA ? bitmapHealth(chosen, file.result.structures.header, bytesOf(laneA.plain, UNKNOWN)) : [];

  const copy = async () => {
    if (!laneA) return;
    if (laneA.plain.starts.length > MAX_COPY_EXTENTS) {
      setCopied(`${formatCount(laneA.plain.starts.length)} extents are too many for the clipboard: use qcowscope bitmap --name on the command line`);
      return;
    }
    try {
      await navigator.clipboard.writeText(nbdinfoText(asExtents(laneA.plain), BITMAP_DESCRIPTIONS, true));
      setCopied(`Copied ${formatCount(laneA.plain.starts.length)} extents of ${laneA.name} (nbdinfo --map --json format)`);
    } catch {
      setCopied('The clipboard refused the text');
    }
  };

  return (
    <section className="bitmap-answers" aria-label="Dirty extents">
      <div className="bitmap-controls">
        <label>
          Bitmap A{' '}
          <select value={a} onChange={(e) => setA(Number(e.target.value))} data-testid="bitmap-a">
            {maps.lanes.map((l, i) => <option key={i} value={i}>{l.name}</option>)}
          </select>
        </label>
        <label>
          compare with B{' '}
          <select value={b} onChange={(e) => setB(e.target.value)} data-testid="bitmap-b">
            <option value="">(none)</option>
            {choices.filter((c) => !(c.file === file.index && c.index === laneA?.ref.index)).map((c) => <option key={c.key} value={c.key}>{c.label}</option>)}
          </select>
        </label>
        <button type="button" className="btn small" onClick={() => void copy()} data-testid="copy-extents">Copy extents</button>
        {copied && <span className="muted" role="status" data-testid="copy-status">{copied}</span>}
      </div>
      <LinkedLanes file={file} result={file.result} lanes={lanes} size={size} />
      <p className="lane-legend muted">
        <span className="swatch" style={{ background: PLAIN.colors[DIRTY] }} /> dirty
        <span className="swatch" style={{ background: ALLOC.colors[DIRTY_DATA] }} /> data to copy
        <span className="swatch" style={{ background: ALLOC.colors[DIRTY_ZERO] }} /> zeros
        <span className="swatch" style={{ background: ALLOC.colors[DIRTY_UNALLOCATED] }} /> unallocated
        <span className="swatch" style={{ background: UNKNOWN_FILL }} /> unknown (bits unreadable)
        {' · '}wheel to zoom, drag to pan, double-click for the whole disk
      </p>
      {alloc && laneA && (
        <div className="backup-figure" data-testid="backup-figure">
          <h3>What a backup from {laneA.name} copies</h3>
          <dl className="kv">
            <dt>data to read and copy</dt><dd data-testid="backup-data" data-bytes={bytesOf(alloc, DIRTY_DATA)}>{formatBytes(bytesOf(alloc, DIRTY_DATA))} ({formatCount(bytesOf(alloc, DIRTY_DATA))} bytes)</dd>
            <dt>zeros to write</dt><dd data-testid="backup-zero" data-bytes={bytesOf(alloc, DIRTY_ZERO)}>{formatBytes(bytesOf(alloc, DIRTY_ZERO))} ({formatCount(bytesOf(alloc, DIRTY_ZERO))} bytes)</dd>
            <dt>unallocated (write zeros or a hole)</dt><dd data-testid="backup-unallocated" data-bytes={bytesOf(alloc, DIRTY_UNALLOCATED)}>{formatBytes(bytesOf(alloc, DIRTY_UNALLOCATED))} ({formatCount(bytesOf(alloc, DIRTY_UNALLOCATED))} bytes)</dd>
            {bytesOf(alloc, UNKNOWN) > 0 && (<><dt>unknown (copy as dirty)</dt><dd data-testid="backup-unknown">{formatBytes(bytesOf(alloc, UNKNOWN))}</dd></>)}
          </dl>
          {laneA.refusal && <p className="explain">qemu-nbd would not export it: {laneA.refusal}</p>}
          {laneA.notes.map((n, i) => <p key={i} className="explain">{n}</p>)}
        </div>
      )}
      {cmp?.compare && other && laneA && (
        <dl className="kv compare-figure" data-testid="compare-figure">
          {([
            ['a-minus-b', `${laneA.name} ∖ ${other.label}`, cmp.compare.aMinusB],
            ['b-minus-a', `${other.label} ∖ ${laneA.name}`, cmp.compare.bMinusA],
            ['a-and-b', `${laneA.name} ∩ ${other.label}`, cmp.compare.aAndB],
          ] as const).map(([id, label, c]) => (
            <div key={id} className="kv-row">
              <dt>{label}</dt>
              <dd data-testid={id} data-bytes={bytesOf(c, DIRTY)}>
                {formatBytes(bytesOf(c, DIRTY))} ({formatCount(bytesOf(c, DIRTY))} bytes){bytesOf(c, UNKNOWN) > 0 && `, ${formatBytes(bytesOf(c, UNKNOWN))} unknown`}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {health.length > 0 && (
        <ul className="health" data-testid="health">
          {health.map((h) => (
            <li key={h.code} className={`health-${h.level}`} data-code={h.code}>
              <strong>{h.text}.</strong> {h.advice}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// The inspector's view of a host cluster holding compressed data: the compressed guest clusters whose
// stored bytes lie in it (from the check's compressed index), and for the one picked, its stored
// bytes read on demand from the worker (one or two host clusters: a stream may run into the next)
// and decompressed in the decompressor's worker (app/format/decompress.ts, under a time budget)
// into a hex preview. Failures are shown as messages, never thrown.

import { useEffect, useState } from 'react';
import { decompressStored, readCluster } from '../state/actions';
import { assembleStored, storedSpan, type Decompressed, type CompressedPiece } from '../format';
import { hex, hexByte, percent } from './format';
import { HexView } from './HexView';

interface Props {
  readonly pieces: readonly CompressedPiece[];
  readonly clusterSize: number;
  /** The header's compression_type: 0 zlib (raw deflate), 1 zstd. */
  readonly compressionType: number;
  /** Identifies the file and cluster, so a late answer for another selection is ignored. */
  readonly scope: string;
}

type Preview = { key: string; stored: number; result: Decompressed } | { key: string; error: string };

/** The byte every position holds, or null when they differ. */
function uniformByte(b: Uint8Array): number | null {
  if (b.length === 0) return null;
  const v = b[0]!;
  for (let i = 1; i < b.length; i++) if (b[i] !== v) return null;
  return v;
}

async function readStored(p: CompressedPiece, cs: number): Promise<Uint8Array> {
  const span = storedSpan(p.host, p.length, cs);
  const clusters: (Uint8Array | null)[] = [];
  for (let k = span.first; k <= span.last; k++) {
    // Past the end of the file the read fails: those bytes read as zeros.
    clusters.push(await readCluster(k).then((c) => c.bytes, () => null));
  }
  if (clusters[0] === null) throw new Error(`host cluster ${span.first} could not be read`);
  return assembleStored(p.host, span.length, cs, span.first, clusters);
}

export function CompressedView({ pieces, clusterSize, compressionType, scope }: Props) {
  const [pick, setPick] = useState<{ scope: string; index: number }>({ scope, index: 0 });
  const index = pick.scope === scope ? pick.index : 0;
  const piece = pieces[index];
  const key = `${scope}:${index}`;
  const [preview, setPreview] = useState<Preview | null>(null);
  const type = compressionType === 0 ? 'zlib' : compressionType === 1 ? 'zstd' : null;

  // Primitive dependencies: `pieces` is rebuilt on every render of the inspector.
  const host = piece?.host ?? -1;
  const length = piece?.length ?? 0;
  const guest = piece?.guest ?? 0;
  useEffect(() => {
    if (host < 0 || type === null) return;
    let live = true;
    readStored({ host, length, guest }, clusterSize).then(
      async (stored) => {
        const result = await decompressStored(type, stored, clusterSize);
        if (live) setPreview({ key, stored: stored.length, result });
      },
      (e: unknown) => live && setPreview({ key, error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [host, length, guest, type, clusterSize, key]);

  const current = preview?.key === key ? preview : null;
  return (
    <div className="compressed-view" data-testid="compressed-view">
      <p className="muted">
        {pieces.length} compressed guest {pieces.length === 1 ? 'cluster has' : 'clusters have'} stored bytes in this host cluster
        ({type === 'zstd' ? 'zstd frames' : type === 'zlib' ? 'raw deflate streams' : `unknown compression type ${compressionType}`}). Pick one to decompress it.
      </p>
      <p className="muted note" data-testid="sector-note">
        An L2 descriptor counts its stored bytes in whole 512-byte sectors, so the byte ranges of neighbouring
        compressed clusters can overlap by up to a sector: a stream ends before the next one starts, inside the
        last sector its descriptor names.
      </p>
      <div className="compressed-list">
        <table className="fields compact entries">
          <thead>
            <tr><th>guest offset</th><th>stored at</th><th className="num" title="Bytes the L2 descriptor covers (to the 512-byte sector)">descriptor bytes</th></tr>
          </thead>
          <tbody>
            {pieces.map((p, i) => (
              <tr
                key={`${p.host}:${p.guest}`}
                className={i === index ? 'picked' : ''}
                aria-selected={i === index}
                data-guest={p.guest}
                tabIndex={0}
                onClick={() => setPick({ scope, index: i })}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && setPick({ scope, index: i })}
              >
                <td className="mono" title={`guest byte ${p.guest}`}>{hex(p.guest)}</td>
                <td className="mono" title={`file byte ${p.host}`}>{hex(p.host)}</td>
                <td className="num">{p.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="compressed-preview">
        {type === null ? (
          <p className="error-text" role="alert">compression_type {compressionType} is not one QEMU knows: nothing to decompress.</p>
        ) : !piece ? null : !current ? (
          <p className="muted">Reading and decompressing guest cluster {hex(piece.guest)}…</p>
        ) : 'error' in current ? (
          <p className="error-text" role="alert">Could not read the stored bytes: {current.error}</p>
        ) : (
          <PreviewBody guest={piece.guest} stored={current.stored} result={current.result} clusterSize={clusterSize} />
        )}
      </div>
    </div>
  );
}

function PreviewBody({ guest, stored, result, clusterSize }: { guest: number; stored: number; result: Decompressed; clusterSize: number }) {
  const bytes = result.bytes;
  const same = bytes ? uniformByte(bytes) : null;
  return (
    <>
      <p data-testid="decompressed-summary" data-size={bytes?.length ?? 0} {...(same !== null ? { 'data-uniform': same } : {})}>
        Guest cluster {hex(guest)}: {stored} bytes per its descriptor → {bytes ? `${bytes.length} bytes decompressed` : 'nothing decompressed'}
        {bytes && bytes.length > 0 ? ` (${percent(stored, clusterSize)} of a cluster stored)` : ''}
        {same !== null ? `; every byte is 0x${hexByte(same)}` : ''}.
      </p>
      {result.problem ? <p className="error-text" role="alert" data-testid="decompress-problem">{result.problem}</p> : null}
      {bytes && bytes.length > 0 ? <HexView bytes={bytes} baseOffset={guest} label={`Decompressed guest cluster ${hex(guest)}`} /> : null}
    </>
  );
}

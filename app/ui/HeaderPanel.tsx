// The Header panel: every header field with its byte offset, raw hex and decoded value; the header
// extensions (unknown ones too, as raw hex); the feature name table; the backing file; the LUKS
// header. Everything read from the file is rendered as text.

import type { FileEntry } from '../state/store';
import type { HeaderStagePayload } from '../worker/protocol';
import { formatBytes, hex, hexBytes, hexField } from './format';
import { ColumnHeads } from './ColumnHeads';
import { ShowMore, usePaged } from './ShowMore';

/** Extension and feature-name rows rendered at first. */
const ROWS = 200;

export function HeaderPanel({ file }: { file: FileEntry }) {
  const stage = file.stage;
  if (!stage) return <p className="muted">Reading the header…</p>;
  return (
    // How soon the header was on screen is for tests and the bench (data-ms), not for the reader.
    <div className="header-panel" {...(file.headerMs !== null ? { 'data-testid': 'header-ms', 'data-ms': file.headerMs } : {})}>
      <HeaderFields stage={stage} />
      <Extensions stage={stage} />
      <Backing stage={stage} file={file} />
      <Luks stage={stage} />
    </div>
  );
}

function HeaderFields({ stage }: { stage: HeaderStagePayload }) {
  return (
    <section aria-labelledby="hdr-fields">
      <h3 id="hdr-fields">Header fields (version {stage.header.version}, {stage.header.headerLength} bytes)</h3>
      <table className="fields">
        <ColumnHeads names={['offset', 'field', 'raw', 'value']} />
        <tbody>
          {stage.header.fields.map((f) => (
            <tr key={f.name}>
              <td className="num mono" title={`byte ${f.offset}`}>{hex(f.offset)}</td>
              <td><code>{f.name}</code></td>
              <td className="mono">{hexField(f.value, f.size)}</td>
              <td>{f.decoded}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Extensions({ stage }: { stage: HeaderStagePayload }) {
  const ext = stage.extensions;
  // Cluster 0 may hold 262144 empty extensions or a feature table of 43690 names.
  const [extShown, moreExt] = usePaged(ROWS, ext.list);
  const [featShown, moreFeat] = usePaged(ROWS, ext.featureTable);
  return (
    <section aria-labelledby="hdr-ext">
      <h3 id="hdr-ext">Header extensions ({ext.list.length})</h3>
      {ext.list.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <table className="fields">
          <ColumnHeads names={['offset', 'type', 'name', 'length', 'content']} />
          <tbody>
            {ext.list.slice(0, extShown).map((e) => (
              <tr key={e.offset} className={e.known ? undefined : 'unknown'}>
                <td className="num mono" title={`byte ${e.offset}`}>{hex(e.offset)}</td>
                <td className="mono">{hex(e.type)}</td>
                <td>{e.name}{!e.known && <span className="badge warn">unknown</span>}</td>
                <td className="num">{e.length}</td>
                <td className="mono wrap">{hexBytes(e.data, 48)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore shown={extShown} total={ext.list.length} noun="extension" onMore={moreExt} />
      {ext.featureTable.length > 0 && (
        <>
          <h4>Feature name table</h4>
          <table className="fields compact">
            <ColumnHeads names={['type', 'bit', 'name']} />
            <tbody>
              {ext.featureTable.slice(0, featShown).map((f) => (
                <tr key={f.offset}>
                  <td>{f.type}</td>
                  <td className="num">{f.bit}</td>
                  <td>{f.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ShowMore shown={featShown} total={ext.featureTable.length} noun="feature name" onMore={moreFeat} />
        </>
      )}
      {ext.bitmaps && (
        <p>
          Bitmaps extension: {ext.bitmaps.nbBitmaps} bitmaps, directory at {hex(ext.bitmaps.directoryOffset)} (
          {formatBytes(ext.bitmaps.directorySize)})
        </p>
      )}
      {ext.dataFile !== null && <p>External data file: <code>{ext.dataFile}</code></p>}
    </section>
  );
}

function Backing({ stage, file }: { stage: HeaderStagePayload; file: FileEntry }) {
  const h = stage.header;
  return (
    <section aria-labelledby="hdr-backing">
      <h3 id="hdr-backing">Backing file</h3>
      {stage.backingFile === null ? (
        <p className="muted">none</p>
      ) : (
        <dl className="kv">
          <dt>name</dt>
          <dd><code>{stage.backingFile}</code> (at <span className="mono" title={`byte ${h.backingFileOffset.toString()}`}>{hex(h.backingFileOffset)}</span>, {h.backingFileSize} bytes)</dd>
          <dt>format</dt>
          <dd>{stage.extensions.backingFormat ?? <span className="muted">not recorded</span>}</dd>
          {file.missingBacking !== null && (
            <>
              <dt>status</dt>
              <dd className="warn-text" data-testid="missing-backing">
                not among the dropped files: drop it together with this image to follow the chain
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

function Luks({ stage }: { stage: HeaderStagePayload }) {
  const l = stage.luks;
  if (!l) return null;
  return (
    <section aria-labelledby="hdr-luks">
      <h3 id="hdr-luks">LUKS header (at {hex(l.offset)}, {formatBytes(l.length)})</h3>
      <dl className="kv">
        <dt>version</dt><dd>{l.version}</dd>
        <dt>cipher</dt><dd>{l.cipherName}-{l.cipherMode}</dd>
        <dt>hash</dt><dd>{l.hashSpec}</dd>
        <dt>key bytes</dt><dd>{l.keyBytes}</dd>
        <dt>payload offset</dt><dd>{l.payloadOffset} sectors (<span className="mono" title={`${l.payloadOffset * 512} bytes`}>{hex(l.payloadOffset * 512)}</span> into the LUKS header)</dd>
        <dt>master key iterations</dt><dd>{l.masterKeyIterations}</dd>
        <dt>UUID</dt><dd className="mono">{l.uuid}</dd>
      </dl>
      <table className="fields compact">
        <ColumnHeads names={['slot', 'active', 'iterations', 'stripes', 'key material (sectors)']} />
        <tbody>
          {l.slots.map((s) => (
            <tr key={s.index}>
              <td className="num">{s.index}</td>
              <td>{s.active ? 'yes' : 'no'}</td>
              <td className="num">{s.iterations}</td>
              <td className="num">{s.stripes}</td>
              <td className="num">{s.keyMaterialOffset} (<span className="mono" title={`${s.keyMaterialOffset * 512} bytes`}>{hex(s.keyMaterialOffset * 512)}</span>)</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

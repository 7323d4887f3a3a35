// Sharing findings without sharing the image: "Download analysis" writes the saved-analysis
// document (a Blob behind an object URL, saved through <a download>: no network), "Copy report"
// puts the Markdown report on the clipboard (with a fallback: the text shown, selected, to copy by
// hand). Also the banner that says a file on screen is a saved analysis and not the image.

import { useEffect, useRef, useState } from 'react';
import { saveBlob } from '../map/save-blob';
import { getClusterArrays } from '../state/registry';
import { analysisDocument, analysisMarkdown, documentFileName } from '../state/saved';
import { useCurrentFile } from '../state/selectors';
import { useApp, type FileEntry } from '../state/store';

function arraysOf(file: FileEntry) {
  const job = useApp.getState().job;
  return job === null ? undefined : getClusterArrays(job, file.index);
}

function download(text: string, name: string): void {
  saveBlob(new Blob([text], { type: 'application/json' }), name);
}

/** Copies with the Clipboard API, else with a selected textarea and execCommand; false if neither works. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const t = document.createElement('textarea');
    t.value = text;
    t.setAttribute('readonly', '');
    t.style.position = 'fixed';
    t.style.opacity = '0';
    document.body.append(t);
    t.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    t.remove();
    return ok;
  }
}

type CopyState = { kind: 'idle' } | { kind: 'copied' } | { kind: 'manual'; text: string };

export function ShareControls() {
  const file = useCurrentFile();
  const [copy, setCopy] = useState<CopyState>({ kind: 'idle' });
  const manual = useRef<HTMLTextAreaElement>(null);
  const name = file?.name;
  useEffect(() => setCopy({ kind: 'idle' }), [name]);
  useEffect(() => {
    if (copy.kind === 'manual') manual.current?.select();
    if (copy.kind !== 'copied') return;
    const id = setTimeout(() => setCopy({ kind: 'idle' }), 2500);
    return () => clearTimeout(id);
  }, [copy]);
  if (!file || !file.result || !file.rolesReady) return null;

  const onDownload = () => {
    const text = analysisDocument(file, arraysOf(file));
    if (text !== null) download(text, documentFileName(file));
  };
  const onCopy = async () => {
    const text = analysisMarkdown(file, arraysOf(file));
    if (text === null) return;
    setCopy((await copyText(text)) ? { kind: 'copied' } : { kind: 'manual', text });
  };
  return (
    <span className="share-controls">
      <button type="button" className="btn" onClick={onDownload} data-testid="download-analysis" title="A small file with the structures, findings and the role of every cluster — not the image. Drop it on this page to see the same panels and map.">
        Download<span className="wide-only"> analysis</span>
      </button>
      <button type="button" className="btn" onClick={() => void onCopy()} data-testid="copy-report" title="Markdown for a bug report: sizes, verdict, qemu-img check, findings, bitmaps, snapshots, space">
        Copy report
      </button>
      <span className="share-status" role="status" aria-live="polite">{copy.kind === 'copied' ? 'Report copied' : ''}</span>
      {copy.kind === 'manual' && (
        <div className="copy-fallback" role="dialog" aria-label="Copy the report" data-testid="copy-fallback">
          <p>The clipboard is not available here: select the report below and copy it.</p>
          <textarea ref={manual} readOnly value={copy.text} rows={12} />
          <button type="button" className="btn small" onClick={() => setCopy({ kind: 'idle' })}>Close</button>
        </div>
      )}
    </span>
  );
}

/** The banner over a saved analysis: what it is, who wrote it, and what it cannot show. */
export function SavedBanner() {
  const file = useCurrentFile();
  const saved = file?.saved;
  if (!file || !saved || file.failure) return null;
  return (
    <div className="banner saved" role="status" data-testid="saved-badge">
      <strong>Saved analysis — image not present.</strong>{' '}
      <span>
        Opened from <code>{saved.documentName}</code>{saved.generator ? `, written by ${saved.generator}` : ''}. The panels and map
        are the image's as analysed then; the bytes of clusters are not in the file.
        {saved.refcountsSaved ? '' : ' Stored refcounts were not saved.'}
      </span>
      {saved.notes.length > 0 && (
        <ul className="saved-notes" data-testid="saved-notes">
          {saved.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

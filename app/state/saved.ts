// Saved analyses in the app (the document of app/format/report.ts): telling a dropped saved
// analysis from an image by its content, reading one into a file entry with its per-cluster
// arrays, and writing the document or the Markdown report of a file on screen. No DOM here: the
// download and the clipboard are the view's (ui/ShareControls.tsx).

import { version } from '../../package.json';
import {
  buildReport, looksLikeReport, parseReport, reportMarkdown, MAX_REPORT_BYTES, ReportError, type RefcountArray, type ReportInput,
} from '../format';
import type { ClusterArrays } from './registry';
import { newFileEntry, type FileEntry } from './store';

/** Who the app says wrote its documents. */
export const APP_GENERATOR = `qcowscope ${version} (app)`;

/** Bytes read from the start of a dropped file to recognise a saved analysis. */
const SNIFF_BYTES = 256;

/** True when `f` is a saved analysis (its first bytes say so), whatever its name. */
export async function isSavedAnalysis(f: Blob): Promise<boolean> {
  if (f.size === 0 || f.size > MAX_REPORT_BYTES) return false;
  return looksLikeReport(await f.slice(0, SNIFF_BYTES).text());
}

/** A saved analysis read into a file entry, with the arrays the map draws. */
export interface SavedEntry {
  readonly entry: FileEntry;
  readonly roles: Uint8Array | null;
  readonly storedRefcounts: RefcountArray | null;
}

/** Reads a dropped saved analysis as file entry `index`; a bad one becomes an entry with a failure. */
export async function readSaved(f: File, index: number): Promise<SavedEntry> {
  let text: string;
  try {
    text = await f.text();
  } catch (e) {
    return failed(f, index, 'UNREADABLE', `the file could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let saved;
  try {
    saved = parseReport(text);
  } catch (e) {
    if (e instanceof ReportError) return failed(f, index, e.code, `not a usable saved analysis: ${e.message}`);
    throw e;
  }
  const a = saved.analysis;
  const { roles, storedRefcounts, ...check } = a.check;
  const entry: FileEntry = {
    ...newFileEntry(index, { name: a.fileName, size: a.fileSize }),
    stage: saved.stage,
    structures: a.structures,
    findings: a.findings,
    result: { ...a, check },
    rolesReady: true,
    arraysVersion: 1,
    saved: { documentName: f.name, generator: saved.generator, refcountsSaved: saved.refcountsSaved, notes: saved.notes },
  };
  return { entry, roles, storedRefcounts: saved.refcountsSaved ? storedRefcounts : null };
}

function failed(f: File, index: number, code: string, message: string): SavedEntry {
  const entry: FileEntry = {
    ...newFileEntry(index, f),
    failure: { code, message, notQcow2: false },
    saved: { documentName: f.name, generator: '', refcountsSaved: false, notes: [] },
  };
  return { entry, roles: null, storedRefcounts: null };
}

/** What buildReport and reportMarkdown need, from a complete entry and its arrays; else null. */
function reportInput(file: FileEntry, arrays: ClusterArrays | undefined): (ReportInput & Pick<NonNullable<FileEntry['result']>, 'qemuRefuses'>) | null {
  const r = file.result;
  if (!r || !file.rolesReady || !arrays?.roles) return null;
  return { ...r, check: { ...r.check, roles: arrays.roles, storedRefcounts: arrays.storedRefcounts } };
}

/** The saved-analysis document of a file on screen (JSON text), or null before it is complete. */
export function analysisDocument(file: FileEntry, arrays: ClusterArrays | undefined): string | null {
  const input = reportInput(file, arrays);
  return input && JSON.stringify(buildReport(input, APP_GENERATOR));
}

/** The Markdown report of a file on screen, or null before it is complete. */
export function analysisMarkdown(file: FileEntry, arrays: ClusterArrays | undefined): string | null {
  const input = reportInput(file, arrays);
  return input && reportMarkdown(input, file.saved ? `a saved analysis (${file.saved.generator})` : 'the image');
}

/** The download's file name: the image's name with ".qcowscope.json", path characters removed. */
export function documentFileName(file: FileEntry): string {
  const base = file.name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').slice(0, 200) || 'image';
  return `${base}.qcowscope.json`;
}

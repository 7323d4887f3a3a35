// The page: top bar (open, samples, files, share), progress, and either the start page or the
// workspace (panels on the left, cluster map and inspector on the right). The view follows the URL
// hash (state/hash.ts). The root element carries data-state (idle | reading | scanning | done |
// error) and data-file for tests and styling. Files may be dropped anywhere on the page.

import { useEffect, useRef, type DragEvent } from 'react';
import { openFiles, setDragging, warmAnalysis } from '../state/actions';
import { startHashSync } from '../state/hash';
import { usePageState, useCurrentFile } from '../state/selectors';
import { useApp } from '../state/store';
import { FileTabs } from './FileTabs';
import { OpenButton, SampleList, SampleSelect } from './OpenControls';
import { ProgressBar } from './ProgressBar';
import { SavedBanner, ShareControls } from './ShareControls';
import { Workspace } from './Workspace';

const hasFiles = (e: DragEvent): boolean => [...e.dataTransfer.types].includes('Files');

export function App() {
  const state = usePageState();
  const file = useCurrentFile();
  const dragging = useApp((s) => s.dragging);
  const error = useApp((s) => s.error);
  const anyFiles = useApp((s) => s.files.length > 0);
  const cancelled = useApp((s) => s.jobStatus === 'cancelled');
  const depth = useRef(0);
  const hasHeader = useApp((s) => s.files.some((f) => f.stage !== null));

  useEffect(() => startHashSync(), []);
  // The worker is started while the page waits for a file, not after the pick.
  useEffect(() => {
    const idle = typeof requestIdleCallback === 'function' ? requestIdleCallback(warmAnalysis, { timeout: 500 }) : null;
    const timer = idle === null ? setTimeout(warmAnalysis, 100) : null;
    return () => {
      if (idle !== null) cancelIdleCallback(idle);
      if (timer !== null) clearTimeout(timer);
    };
  }, []);

  // Marks for `npm run bench`: the header on screen and the complete analysis on screen.
  useEffect(() => {
    if (hasHeader) performance.mark('qcowscope:header');
  }, [hasHeader]);
  useEffect(() => {
    if (state === 'done' || state === 'error') performance.mark('qcowscope:done');
  }, [state]);

  const onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth.current++;
    setDragging(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setDragging(false);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    depth.current = 0;
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length > 0) openFiles(files);
  };

  return (
    <div
      className={dragging ? 'app dragging' : 'app'}
      data-state={state}
      data-file={file?.name ?? ''}
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      <header className="topbar">
        <h1 className="brand">qcowscope</h1>
        <OpenButton />
        <SampleSelect />
        <FileTabs />
        <ShareControls />
      </header>
      <ProgressBar />
      {error !== null && (
        <div className="banner error" role="alert">
          <strong>Error:</strong> {error}
        </div>
      )}
      <SavedBanner />
      {cancelled && error === null && (
        <div className="banner warn" role="status" data-testid="cancelled">
          Analysis cancelled: the panels show what was read before it stopped.
        </div>
      )}
      <main className="main">{anyFiles ? <Workspace /> : <StartPage />}</main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <p>Drop qcow2 images to explore them</p>
        </div>
      )}
    </div>
  );
}

function StartPage() {
  return (
    <div className="start">
      <section className="drop-target" aria-labelledby="start-title">
        <h2 id="start-title">Drop a qcow2 image anywhere on this page</h2>
        <p>
          Only the image's metadata is read, in a worker, through the browser's File API; nothing is uploaded and
          the file is never written. Drop an overlay together with its backing files to follow the chain.
        </p>
        <p>
          A saved analysis (<code>.qcowscope.json</code>, from “Download analysis” or <code>qcowscope report --output=json</code>)
          opens here too: the same panels and map, without the image.
        </p>
        <OpenButton primary />
      </section>
      <SampleList />
    </div>
  );
}

// The workspace for the file on screen: tabbed panels on the left; the cluster map and the
// inspector (hex view of the selected cluster) on the right. A file that is not qcow2, or could
// not be read, gets one clear message instead.

import { useRef, type KeyboardEvent } from 'react';
import { setTab } from '../state/actions';
import { useCurrentFile } from '../state/selectors';
import { TABS, useApp, type FileEntry, type Tab } from '../state/store';
import { BitmapsPanel } from './BitmapsPanel';
import { CheckPanel } from './CheckPanel';
import { HeaderPanel } from './HeaderPanel';
import { Inspector } from './Inspector';
import { MapPane } from './MapPane';
import { OpenButton } from './OpenControls';
import { OverviewPanel } from './OverviewPanel';
import { SnapshotsPanel } from './SnapshotsPanel';
import { SpacePanel } from './SpacePanel';

const TAB_LABEL: Record<Tab, string> = {
  overview: 'Overview',
  header: 'Header',
  snapshots: 'Snapshots',
  bitmaps: 'Bitmaps',
  check: 'Check',
  space: 'Space',
};

export function Workspace() {
  const file = useCurrentFile();
  const tab = useApp((s) => s.tab);
  if (!file) return null;
  if (file.failure) return <FailureMessage file={file} />;
  return (
    <div className="workspace">
      <section className="panels" aria-label="Analysis">
        <PanelTabs />
        <div className="panel-body" role="tabpanel" id="panel" aria-labelledby={`tab-${tab}`} tabIndex={0}>
          <h2 className="visually-hidden">{TAB_LABEL[tab]}</h2>
          <ActivePanel file={file} tab={tab} />
        </div>
      </section>
      <section className="visual" aria-label="Cluster map and inspector">
        <MapPane file={file} />
        <Inspector file={file} />
      </section>
    </div>
  );
}

function PanelTabs() {
  const tab = useApp((s) => s.tab);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.indexOf(tab);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const t = TABS[(next + TABS.length) % TABS.length]!;
    setTab(t);
    refs.current[TABS.indexOf(t)]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label="Panels" onKeyDown={onKey}>
      {TABS.map((t, i) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[i] = el;
          }}
          id={`tab-${t}`}
          type="button"
          role="tab"
          aria-selected={tab === t}
          aria-controls="panel"
          tabIndex={tab === t ? 0 : -1}
          onClick={() => setTab(t)}
        >
          {TAB_LABEL[t]}
        </button>
      ))}
    </div>
  );
}

function ActivePanel({ file, tab }: { file: FileEntry; tab: Tab }) {
  switch (tab) {
    case 'overview':
      return <OverviewPanel file={file} />;
    case 'header':
      return <HeaderPanel file={file} />;
    case 'snapshots':
      return <SnapshotsPanel file={file} />;
    case 'bitmaps':
      return <BitmapsPanel file={file} />;
    case 'check':
      return <CheckPanel file={file} />;
    case 'space':
      return <SpacePanel file={file} />;
  }
}

function FailureMessage({ file }: { file: FileEntry }) {
  const f = file.failure!;
  return (
    <div className="failure" role="alert" data-testid="failure">
      {f.notQcow2 ? (
        <>
          <h2>
            <span className="file-name">{file.name}</span> is not a qcow2 image
          </h2>
          <p className="failure-what">{f.message}</p>
          <p>qcowscope reads QEMU's qcow2 format (versions 2 and 3) only.</p>
          <OpenButton primary label="Open another file…" />
        </>
      ) : (
        <>
          <h2>
            <span className="file-name">{file.name}</span> could not be analysed
          </h2>
          <p className="failure-what">{f.message}</p>
          <p className="muted">code {f.code}</p>
          <OpenButton primary label="Open another file…" />
        </>
      )}
    </div>
  );
}

// The dropped files, when there are several: one button each (the selected one pressed), with
// who backs whom and each file's status. In a narrow window (styles.css) a select takes their place,
// so the top bar stays one line with every file in reach.

import { selectFile } from '../state/actions';
import { useApp, type FileEntry } from '../state/store';

function status(f: FileEntry): string {
  if (f.failure) return f.failure.notQcow2 ? 'not qcow2' : 'failed';
  if (f.result) return 'done';
  if (f.stage) return 'scanning';
  return 'waiting';
}

export function FileTabs() {
  const files = useApp((s) => s.files);
  const current = useApp((s) => s.current);
  if (files.length < 2) return null;
  return (
    <>
      <select
        className="file-select"
        aria-label="File on screen"
        value={current ?? 0}
        onChange={(e) => selectFile(Number(e.target.value))}
        data-testid="file-select"
      >
        {files.map((f) => (
          <option key={f.index} value={f.index}>{f.name}{f.backing !== null && files[f.backing] ? ` → ${files[f.backing]!.name}` : ''} ({status(f)})</option>
        ))}
      </select>
      <nav className="file-tabs" aria-label="Dropped files">
        {files.map((f) => {
          const backing = f.backing !== null ? files[f.backing] : undefined;
          return (
            <button
              key={f.index}
              type="button"
              className="file-tab"
              aria-pressed={current === f.index}
              onClick={() => selectFile(f.index)}
              title={backing ? `backed by ${backing.name}` : undefined}
            >
              <span className="file-name">{f.name}</span>
              {backing && <span className="file-backing">→ {backing.name}</span>}
              <span className={`file-status ${status(f).replace(' ', '-')}`}>{status(f)}</span>
            </button>
          );
        })}
      </nav>
    </>
  );
}

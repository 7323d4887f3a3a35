// The Check panel's "qemu-img output" box: the JSON `qemu-img info`, `check` and `map` print for this
// image, as the chosen release prints it (10.0 by default, or 7.2), to read or copy. Built from the
// analysis alone: the page cannot know the host's allocation, so info has no "actual-size" (see
// README). Long outputs (a map of many ranges) are shown in part; Copy copies all of it.

import { useMemo, useState } from 'react';
import {
  DEFAULT_QEMU_VERSION, guestMapJson, isQemuVersion, QEMU_VERSIONS, qemuCheckJsonText, qemuInfo, qemuInfoText, type QemuVersion,
} from '../format';
import type { FileEntry } from '../state/store';

type Command = 'info' | 'check' | 'map';
const COMMANDS: readonly Command[] = ['info', 'check', 'map'];
/** Characters shown at most; the rest is copied, not rendered. */
const SHOWN = 100_000;

function outputOf(file: FileEntry, command: Command, version: QemuVersion): string {
  const r = file.result;
  if (!r) return '';
  if (command === 'info') {
    return qemuInfoText(qemuInfo(r.structures, { filename: file.name, version, file: { length: r.fileSize } })) + '\n';
  }
  if (command === 'check') return r.check.json ? qemuCheckJsonText(r.check.json) : '';
  return guestMapJson({ ranges: r.guestMap, error: r.check.mapError, truncatedAt: r.check.mapTruncatedAt }, version);
}

export function QemuOutput({ file }: { file: FileEntry }) {
  const [version, setVersion] = useState<QemuVersion>(DEFAULT_QEMU_VERSION);
  const [command, setCommand] = useState<Command>('info');
  const [copied, setCopied] = useState(false);
  const text = useMemo(() => outputOf(file, command, version), [file, command, version]);
  if (!file.result) return null;
  const copy = async () => {
    await navigator.clipboard.writeText(text);
    setCopied(true);
  };
  return (
    <details className="qemu-output" data-testid="qemu-output">
      <summary>qemu-img output</summary>
      <div className="qemu-output-bar">
        <label>
          <select aria-label="qemu-img command" value={command} onChange={(e) => { setCommand(e.currentTarget.value as Command); setCopied(false); }}>
            {COMMANDS.map((c) => <option key={c} value={c}>{c} --output=json</option>)}
          </select>
        </label>
        <label>
          as qemu-img{' '}
          <select
            aria-label="qemu-img version"
            data-testid="qemu-version"
            value={version}
            onChange={(e) => {
              const v = e.currentTarget.value;
              if (isQemuVersion(v)) setVersion(v);
              setCopied(false);
            }}
          >
            {QEMU_VERSIONS.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
        <button type="button" className="btn small" onClick={() => void copy()} disabled={!text} data-testid="qemu-copy">{copied ? 'Copied' : 'Copy'}</button>
      </div>
      {file.result.qemuRefuses.length > 0 && text && (
        <p className="muted">QEMU would refuse to open this image, so qemu-img prints an error instead: this is what it would print otherwise.</p>
      )}
      {text
        ? <pre className="qemu-json" data-testid="qemu-json">{text.length > SHOWN ? `${text.slice(0, SHOWN)}\n… (${text.length - SHOWN} more characters: Copy copies them all)` : text}</pre>
        : <p className="muted">qemu-img {command} prints no JSON for this image: QEMU refuses to open it.</p>}
    </details>
  );
}

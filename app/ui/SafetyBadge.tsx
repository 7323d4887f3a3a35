// The safety badge on the Overview: "Safe to use as an untrusted image", "Unsafe: …" or "QEMU would
// refuse it: …" (app/format/safety), expandable to every reason — what happens and the remedy — and
// the notes. Text from the file is rendered as text only; `backticks` in remedies become <code>.

import type { ReactNode } from 'react';
import { safetySummary, type Safety } from '../format';
import type { FileEntry } from '../state/store';

/** Remedy text with its `commands` as code. */
function withCode(text: string): ReactNode[] {
  return text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}

const MARK = { safe: '✓', unsafe: '✗', refused: '⊘' } as const;

export function SafetyBadge({ file }: { file: FileEntry }) {
  const r = file.result;
  if (!r) return null;
  const s: Safety | undefined = r.safety;
  if (!s) {
    return <p className="safety-missing muted" data-testid="safety" data-safety="unknown">No safety verdict: this saved analysis was written before qcowscope gave one.</p>;
  }
  return (
    <details className={`safety ${s.verdict}`} data-testid="safety" data-safety={s.verdict}>
      <summary>
        <span className="safety-mark" aria-hidden="true">{MARK[s.verdict]}</span> {safetySummary(s)}
      </summary>
      {s.reasons.length === 0 && (
        <p className="muted">No backing file, external data file, second format signature, corruption or oversized table, and QEMU opens it.</p>
      )}
      {s.reasons.length > 0 && (
        <ul className="safety-reasons">
          {s.reasons.map((x, i) => (
            <li key={i} data-code={x.code}>
              <span className={`badge ${x.kind === 'unsafe' ? 'error' : 'warn'}`}>{x.kind}</span> <strong>{x.message}</strong>{' '}
              <span>{x.consequence}</span>
              <div className="safety-remedy">Remedy: {withCode(x.remedy)}</div>
            </li>
          ))}
        </ul>
      )}
      {s.notes.length > 0 && (
        <ul className="safety-notes">
          {s.notes.map((n, i) => (
            <li key={i} data-code={n.code}>
              <span className="badge muted">note</span> {withCode(n.message)}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

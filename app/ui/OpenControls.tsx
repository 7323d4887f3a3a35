// Ways to open images: the file picker button and the "Try a sample" list. Dropping is handled
// by the page itself (App.tsx); all three end in openFiles().

import { useId, useRef } from 'react';
import { openFiles } from '../state/actions';
import { BUNDLED_SAMPLES, sampleFiles } from './samples';

export function OpenButton({ primary = false, label = 'Open image…' }: { primary?: boolean; label?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  return (
    <span className="open-button">
      <input
        ref={input}
        id={id}
        className="visually-hidden"
        tabIndex={-1}
        type="file"
        multiple
        aria-label="Open qcow2 images (several files form a backing chain)"
        data-testid="file-input"
        onChange={(e) => {
          const files = e.currentTarget.files;
          if (files && files.length > 0) openFiles([...files]);
          e.currentTarget.value = '';
        }}
      />
      <button type="button" className={primary ? 'btn primary' : 'btn'} onClick={() => input.current?.click()}>
        {label}
      </button>
    </span>
  );
}

/** A compact select for the top bar. */
export function SampleSelect() {
  const id = useId();
  return (
    <span className="sample-select">
      <label htmlFor={id}>Try a sample</label>
      <select
        id={id}
        value=""
        onChange={(e) => {
          const s = BUNDLED_SAMPLES.find((x) => x.id === e.currentTarget.value);
          if (s) openFiles(sampleFiles(s));
        }}
      >
        <option value="">choose…</option>
        {BUNDLED_SAMPLES.map((s) => (
          <option key={s.id} value={s.id}>{s.title}</option>
        ))}
      </select>
    </span>
  );
}

/** The full list for the start page. */
export function SampleList() {
  return (
    <section className="sample-list" aria-labelledby="samples-title">
      <h2 id="samples-title">Try a sample</h2>
      <ul>
        {BUNDLED_SAMPLES.map((s) => (
          <li key={s.id}>
            <button type="button" className="sample" data-sample={s.id} onClick={() => openFiles(sampleFiles(s))}>
              <strong>{s.title}</strong>
              <span>{s.description}</span>
              <code>{s.files.map((f) => f.name).join(' + ')}</code>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

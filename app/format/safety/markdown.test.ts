// The one-line summary (badge, headline) and the report section, on hand-made verdicts.

import { describe, expect, it } from 'vitest';
import { safetyMarkdown, safetySummary } from './markdown';
import type { Safety, SafetyReason } from './types';

const reason = (code: SafetyReason['code'], kind: SafetyReason['kind'], name?: string): SafetyReason => ({
  code, kind, message: `m ${code}.`, consequence: 'c.', remedy: 'r `x`.', ...(name !== undefined ? { name } : {}),
});

describe('safetySummary', () => {
  it('safe', () => {
    expect(safetySummary({ verdict: 'safe', reasons: [], notes: [] })).toBe('Safe to use as an untrusted image');
  });
  it('names backing and data files, lists the verdict\'s own reasons first-found, at most four', () => {
    const s: Safety = { verdict: 'unsafe', notes: [], reasons: [
      reason('backing-absolute', 'unsafe', '/etc/passwd'), reason('data-file', 'unsafe', 'd'), reason('zero-offset-bitmap', 'refused'),
      reason('polyglot', 'unsafe'), reason('huge-l1', 'unsafe'), reason('truncated', 'unsafe'),
    ] };
    expect(safetySummary(s)).toBe('Unsafe: backing file at an absolute path "/etc/passwd", external data file "d", several formats in one file, huge L1 table and 1 more');
  });
  it('refused, and long names cut', () => {
    const s: Safety = { verdict: 'refused', notes: [], reasons: [reason('qcow1', 'refused', 'qcow')] };
    expect(safetySummary(s)).toBe('QEMU would refuse it: qcow version 1, not qcow2');
    const long = safetySummary({ verdict: 'unsafe', notes: [], reasons: [reason('backing-relative', 'unsafe', 'a'.repeat(500))] });
    expect(long.length).toBeLessThan(120);
  });
});

describe('safetyMarkdown', () => {
  it('escapes what comes from the file, keeps remedies as written; nothing for a missing verdict', () => {
    const lines = safetyMarkdown({ verdict: 'unsafe', notes: [{ code: 'leaks', message: 'n' }], reasons: [reason('backing-json', 'unsafe', 'j')] }, (t) => t.replace(/m/g, 'M'));
    expect(lines).toEqual(['### Safety as an untrusted image', '', '**Unsafe.**', '', '- **unsafe** `backing-json`: M backing-json. c. Remedy: r `x`.', '- note `leaks`: n', '']);
    expect(safetyMarkdown(undefined, (t) => t)).toEqual([]);
  });
});

// The safety verdict in the saved analysis and the Markdown report: written, read back equal,
// optional on read (documents from before it load), checked on read (a verdict that does not follow
// from its reasons, an unknown code), and one section of the report.

import { describe, expect, it } from 'vitest';
import { analyzeSample } from '../../test-support/analyze-sample';
import { reportMarkdown } from './markdown';
import { buildReport, parseReport } from './saved-analysis';

const doc = async (name: string) => JSON.parse(JSON.stringify(buildReport(await analyzeSample(name), 'test'))) as Record<string, unknown>;

describe('safety in the saved analysis', () => {
  it.each(['overlay', 'base', 'seed-zero-offset-bitmap', 'leak'])('%s: written and read back equal', async (name) => {
    const a = await analyzeSample(name);
    const back = parseReport(JSON.stringify(buildReport(a, 'test')));
    expect(back.analysis.safety).toEqual(a.safety);
    expect(a.safety).toBeDefined();
  });

  it('an older document without it still loads, with no verdict', async () => {
    const d = await doc('overlay');
    delete d.safety;
    const back = parseReport(JSON.stringify(d));
    expect(back.analysis.safety).toBeUndefined();
    expect(reportMarkdown(back.analysis)).not.toContain('### Safety');
  });

  it('refuses a verdict its reasons do not give, and unknown codes', async () => {
    const d = await doc('overlay');
    const s = d.safety as { verdict: string; reasons: { code: string }[] };
    expect(() => parseReport(JSON.stringify({ ...d, safety: { ...s, verdict: 'safe' } }))).toThrow(/safety: verdict safe, but the reasons make it unsafe/);
    expect(() => parseReport(JSON.stringify({ ...d, safety: { ...s, reasons: [{ ...s.reasons[0], code: 'made-up' }] } }))).toThrow(/safety\.reasons\[0\]\.code/);
  });
});

describe('safety in the Markdown report', () => {
  it('one section: headline, reasons with remedies, notes', async () => {
    const unsafe = reportMarkdown(await analyzeSample('overlay'));
    expect(unsafe).toContain('### Safety as an untrusted image\n\n**Unsafe.**\n\n- **unsafe** `backing-relative`: The backing file is a relative path: "base.qcow2".');
    expect(unsafe).toContain("Remedy: Check that the guest does not need the backing file's data");
    const safe = reportMarkdown(await analyzeSample('leak'));
    expect(safe).toContain('**Safe to use as an untrusted image.**\n\n- note `leaks`: 2 leaked clusters');
  });
});

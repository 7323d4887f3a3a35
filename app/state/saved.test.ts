// Saved analyses in the app's state: recognised by content (not by name), read into a file entry
// the panels and map can show (roles in the registry's shape), and written again — from the entry
// alone — as the same document; a broken one becomes an entry with a failure, not an exception.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../format';
import { analyzeSample } from '../test-support/analyze-sample';
import { reference, samplePath } from '../test-support/samples';
import { analysisDocument, analysisMarkdown, APP_GENERATOR, documentFileName, isSavedAnalysis, readSaved } from './saved';

async function savedFile(name: string, fileName = `${name}.qcow2.qcowscope.json`): Promise<{ text: string; file: File }> {
  const text = JSON.stringify(buildReport(await analyzeSample(name), APP_GENERATOR));
  return { text, file: new File([text], fileName) };
}

describe('a dropped saved analysis', () => {
  it('is recognised by its content, whatever its name; an image is not', async () => {
    const { file } = await savedFile('leak', 'renamed.bin');
    expect(await isSavedAnalysis(file)).toBe(true);
    expect(await isSavedAnalysis(new File([readFileSync(samplePath('leak'))], 'leak.qcowscope.json'))).toBe(false);
    expect(await isSavedAnalysis(new File(['{"format": "other"}'], 'x.qcowscope.json'))).toBe(false);
  });

  it('becomes a complete entry with the image name, and writes back the same document', async () => {
    const { text, file } = await savedFile('leak');
    const s = await readSaved(file, 2);
    expect(s.entry).toMatchObject({ index: 2, name: 'leak.qcow2', rolesReady: true, failure: null });
    expect(s.entry.saved).toMatchObject({ documentName: 'leak.qcow2.qcowscope.json', generator: APP_GENERATOR, refcountsSaved: true });
    expect(s.entry.result!.check.counts.leaks).toBe(reference<{ leaks: number }>('leak', 'check.json')!.leaks);
    const arrays = { roles: s.roles, storedRefcounts: s.storedRefcounts, filled: { roles: 0, storedRefcounts: 0 } };
    expect(analysisDocument(s.entry, arrays)).toBe(text);
    expect(analysisMarkdown(s.entry, arrays)).toContain(`from a saved analysis (${APP_GENERATOR})`);
    expect(documentFileName(s.entry)).toBe('leak.qcow2.qcowscope.json');
  });

  it('that is broken becomes an entry with a failure naming the field', async () => {
    const { text } = await savedFile('leak');
    const s = await readSaved(new File([text.replace(/"highestCluster":\d+/, '"highestCluster":-4')], 'bad.qcowscope.json'), 0);
    expect(s.entry.failure).toEqual({ code: 'BAD_FIELD', message: expect.stringContaining('check.highestCluster: -4 is outside') as string, notQcow2: false });
    expect(s.roles).toBeNull();
  });
});

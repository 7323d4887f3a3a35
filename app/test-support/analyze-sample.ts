// Test helper: the whole analysis of a file (a sample image, or any path), with backing files
// opened as qemu-img opens them (relative to the image's folder), and the raw text of qemu-img's
// stored outputs beside a sample.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { analyze, type Analysis, type AnalysisEvent } from '../format/analyze';
import type { ByteSource } from '../format/qcow2/source';
import { NodeFileSource } from '../format/qcow2/source-node';
import { SAMPLES, samplePath } from './samples';

/** Analyses the file at `path`; backing files are looked up beside it (and beside `alsoIn`); `onEvent` is told the analysis's events. */
export async function analyzePath(path: string, alsoIn: string = dirname(path), onEvent?: (e: AnalysisEvent) => void): Promise<Analysis> {
  const opened: NodeFileSource[] = [];
  const paths = new Map<ByteSource, string>();
  const top = await NodeFileSource.open(path);
  opened.push(top);
  paths.set(top, path);
  try {
    return await analyze(top, {
      ...(onEvent ? { onEvent } : {}),
      openBacking: async (name: string, from?: ByteSource) => {
        const base = dirname((from && paths.get(from)) ?? path);
        const candidates = isAbsolute(name) ? [name] : [join(base, name), join(alsoIn, name)];
        const found = candidates.find((p) => existsSync(p));
        if (!found) return null;
        const src = await NodeFileSource.open(found);
        opened.push(src);
        paths.set(src, found);
        return src;
      },
    });
  } finally {
    for (const s of opened) await s.close();
  }
}

/** Analyses a sample image (gzipped ones are unpacked to the cache; backing files stay in SAMPLES). */
export const analyzeSample = (name: string): Promise<Analysis> => analyzePath(samplePath(name), SAMPLES);

/** The exact text of a stored qemu-img output beside a sample, or null. */
export function referenceText(name: string, kind: 'check.json' | 'map.json' | 'check.err'): string | null {
  const p = join(SAMPLES, `${name}.${kind}`);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

// The safety verdict of a file on disk (Node only, like qcow2/source-node.ts: not in index.ts, so
// the browser bundle never pulls in node:fs). Backing files are never opened: naming one is the
// danger being judged.

import { analyze } from '../analyze';
import { Qcow2Error } from '../qcow2/errors';
import { NodeFileSource } from '../qcow2/source-node';
import { foreignSafety, unreadableSafety } from './assess';
import type { Safety } from './types';

/** The verdict for one path; never throws. */
export async function fileSafety(path: string): Promise<Safety> {
  let src: NodeFileSource;
  try {
    src = await NodeFileSource.open(path);
  } catch (e) {
    return unreadableSafety(e instanceof Error ? e.message : String(e));
  }
  try {
    const a = await analyze(src);
    return a.safety ?? unreadableSafety('no verdict');
  } catch (e) {
    if (e instanceof Qcow2Error) return await foreignSafety(src, e);
    return unreadableSafety(e instanceof Error ? e.message : String(e));
  } finally {
    await src.close();
  }
}

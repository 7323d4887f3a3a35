// The bundled samples (samples.generated.ts) as Files, so they take exactly the path a dropped
// file takes: File → worker → BlobSource.

import { gunzipSync } from 'fflate';
import { BUNDLED_SAMPLES, type BundledSample } from './samples.generated';

export { BUNDLED_SAMPLES, type BundledSample };

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The sample's images, unpacked; the first is the one to look at. */
export function sampleFiles(s: BundledSample): File[] {
  return s.files.map((f) => {
    const bytes = gunzipSync(fromBase64(f.gzBase64));
    return new File([bytes], f.name, { type: 'application/octet-stream' });
  });
}

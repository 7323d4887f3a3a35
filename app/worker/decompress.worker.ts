// The decompressor's worker: previews one compressed cluster per request, off the page's main
// thread, so that a stream built to make the decompressor spin or loop costs a terminated worker
// (decompress-client.ts enforces the budget), never a frozen page.

import { decompressCluster } from '../format';
import { isDecompressRequest, type DecompressReply } from './decompress-protocol';

function post(m: DecompressReply, transfer: Transferable[] = []): void {
  self.postMessage(m, { transfer });
}

self.onmessage = (ev: MessageEvent<unknown>) => {
  const m = ev.data;
  if (!isDecompressRequest(m)) {
    post({ id: typeof (m as { id?: unknown } | null)?.id === 'number' ? (m as { id: number }).id : -1, bytes: null, problem: 'the decompressor received a malformed request' });
    return;
  }
  const r = decompressCluster(m.kind, m.stored, m.clusterSize);
  const bytes = r.bytes ? r.bytes.slice() : null;
  post({ id: m.id, bytes, problem: r.problem }, bytes ? [bytes.buffer] : []);
};

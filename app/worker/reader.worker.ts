// The reader worker: started by the analysis worker for one File, it reads batches of scattered
// ranges (one composite Blob of slices per request) and moves the bytes back. Requests are served
// in the order they come; the slices of the next request are made while the previous one is read.

import { isToReader, type FromReader } from './reader-protocol';

let file: Blob | null = null;

function post(m: FromReader, transfer: Transferable[] = []): void {
  self.postMessage(m, { transfer });
}

self.onmessage = (ev: MessageEvent<unknown>) => {
  const m = ev.data;
  if (!isToReader(m)) return;
  if (m.type === 'file') {
    file = m.file;
    return;
  }
  const f = file;
  if (!f) {
    post({ type: 'error', id: m.id, message: 'the reader has no file' });
    return;
  }
  const parts: Blob[] = [];
  for (let i = 0; i < m.ranges.length; i += 2) {
    const start = m.ranges[i]!;
    const end = Math.min(f.size, start + m.ranges[i + 1]!);
    if (end > start) parts.push(f.slice(start, end));
  }
  const blob = parts.length === 1 ? parts[0]! : new Blob(parts);
  blob.arrayBuffer().then(
    (buffer) => post({ type: 'bytes', id: m.id, buffer }, [buffer]),
    (err: unknown) => post({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) }),
  );
};

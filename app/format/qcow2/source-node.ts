// ByteSource over a Node file handle, for the CLI and tests. Node only: index.ts does not export it,
// so the browser bundle never pulls in node:fs.

// node:fs only (not node:fs/promises): the CLI's start-up loads no more of Node than it uses.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { ByteSource } from './source';

export class NodeFileSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  private closed = false;
  private constructor(private readonly fd: number, readonly size: number, readonly name: string) {}

  static async open(path: string): Promise<NodeFileSource> {
    const fd = openSync(path, 'r');
    try {
      return new NodeFileSource(fd, fstatSync(fd).size, basename(path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Reads synchronously (pread on the handle's descriptor) behind the async contract: a local
   * file read costs microseconds, while a round trip through libuv's thread pool costs more than
   * the read itself for the thousands of 64 KiB tables of a large image.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const buf = new Uint8Array(end - offset);
    const got = this.fill(offset, buf);
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  /** Synchronous, so returns the count itself (ByteSource.readInto). */
  readInto(offset: number, into: Uint8Array): number {
    const end = Math.min(this.size, offset + into.length);
    return offset >= end ? 0 : this.fill(offset, into.subarray(0, end - offset));
  }

  private fill(offset: number, buf: Uint8Array): number {
    let got = 0;
    while (got < buf.length) {
      const bytesRead = readSync(this.fd, buf, got, buf.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.reads++;
    this.bytesRead += got;
    return got;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

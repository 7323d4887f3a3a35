// A ByteSource that passes everything to another, for tests that watch or change its reads.

import type { ByteSource } from '../format/qcow2/source';

export class WrappedSource implements ByteSource {
  constructor(protected readonly src: ByteSource) {}
  get size() {
    return this.src.size;
  }
  get name() {
    return this.src.name;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.src.read(offset, length);
  }
}

// compress/: decompressing one compressed cluster as QEMU does (zlib raw deflate, zstd frames),
// with bounded work on hostile input.

export { assembleStored, decompressCluster, storedSpan, type Decompressed } from './decompress';

// Dirty bitmaps answered: a bitmap's bits as extents over the guest disk (nbdinfo's
// qemu:dirty-bitmap map), set arithmetic between bitmaps, the split by what a backup must copy,
// and each bitmap's health in plain words.

export {
  ALLOCATION_DESCRIPTIONS, BITMAP_DESCRIPTIONS, CLEAN, DIRTY, DIRTY_DATA, DIRTY_UNALLOCATED, DIRTY_ZERO, UNKNOWN,
  Extents, ExtentsBuilder, combine, combineType, type SetOp,
} from './extents';
export { readBitmapExtents, type BitmapExtents, type BitmapRef } from './read-bits';
export { splitByAllocation, type GuestAllocation } from './allocation';
export { bitmapHealth, qemuExportRefusal, sizeText, type HealthCode, type HealthLevel, type HealthLine } from './health';
export { summarize, summarizeBitmaps, summariesJson, summariesText, type BitmapSummary } from './summary';
export { nbdinfoChunks, nbdinfoText } from './nbdinfo-text';
export { ExtentPyramid, MAX_BASE_BUCKETS, type ExtentArrays, type PyramidLevel } from './lod';

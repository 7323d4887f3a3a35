// freed/: what each free cluster (refcount 0) held before it was freed, and what freed it, from its
// bytes and from the stale structures among the free clusters that still name it.

export { classifyFreed, type FreedInput } from './classify';
export { EMPTY_FREED, FREED_KINDS, MAX_FREED_BYTES, type FreedKind, type FreedResult, type FreedRun } from './types';

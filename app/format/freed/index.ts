// freed/: what each free cluster (refcount 0) held before it was freed, and what freed it, from its
// bytes and from the stale structures among the free clusters that still name it.

export { classifyFreed, type FreedInput } from './classify';
export { EMPTY_FREED, FREED_KINDS, FREED_ROLE, MAX_FREED_BYTES, freedRunAt, type FreedKind, type FreedResult, type FreedRun } from './types';
export { stalePlace } from './stale-place';

// check/: qemu-img check rebuilt (block/qcow2-refcount.c): expected refcounts from every reference
// (metadata, L1 and L2 tables), compared with the stored ones; the role and owner of every host

export { runCheck, MAX_CHECK_CLUSTERS, REFUSED, type CheckResult } from './check';
export { Role, ROLE_COUNT, ROLE_INFO, type RoleId, type RoleInfo } from './roles';
export { clusterOwners, describeCluster, roleClusterCounts, roleCounts } from './cluster-roles';
export { NO_OWNERS } from './owners';
export { compressedTouching, type CompressedIndexView } from './compressed-index';
export { accountSpace, freeAtEnd, type BitmapSpace, type SnapshotSpace, type SpaceAccounting, type SpaceCategory } from './space';
export { changedRange, clusterUsage, ownerMasks, MAX_USAGE_BUCKETS, type ClusterUsage, type OwnerSummary } from './usage';

// guest/: what the guest sees: qemu-img map's block status over the backing chain (block-status.ts)

export {
  qcow2Layer, resolveChain, tableRuns, Kind, MAX_MAP_RANGES, RunList, type GuestMap, type MapRange,
  type TableFlags,
} from './block-status';
export { backingLayer, type OpenBacking } from './backing-chain';

// qemu-img/: qemu-img's own output, byte for byte: `info` (text and JSON), `check` (counts, JSON,
// human summary) and the QDict key order and JSON printer they share.

export { qemuInfo, qemuInfoText, type QemuInfoJson, type QemuSnapshotInfo } from './info';
export { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText, type CheckCounts, type QemuCheckJson } from './check-json';
export { qdictOrder, type QValue } from './qemu-json';
export { humanInfo, sizeToStr } from './info-human';
export type { FileNodeFacts } from './info-children';
export { guestMapJson, mapRangesFor } from './map-json';
export { DEFAULT_QEMU_VERSION, QEMU_VERSIONS, isQemuVersion, profileForBanner, type QemuVersion } from './version';

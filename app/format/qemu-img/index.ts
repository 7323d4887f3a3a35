// qemu-img/: qemu-img's own output, byte for byte: `info` (text and JSON), `check` (counts, JSON,
// human summary) and the QDict key order and JSON printer they share.

export {
  fullBackingFilename, qemuInfo, qemuInfoText,
  type QemuBitmapInfo, type QemuEncryptInfo, type QemuInfoJson, type QemuInfoOptions, type QemuLuksSlot,
  type QemuQcow2Info, type QemuSnapshotInfo, type QInt,
} from './info';
export { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText, type CheckCounts, type QemuCheckJson } from './check-json';
export { qdictOrder, qemuDecodeCString, toQemuJson, type QValue } from './qemu-json';

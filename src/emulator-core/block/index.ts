// The block engine's public surface: what virtio-blk, `viv img` and the app's image store use.
export type { BlockDriver, BlockStatus, ImageFormat, ImageInfo, IoRequest, WriteZeroesOptions } from './driver';
export type { SnapshotInfo, Qcow2FormatInfo } from './info';
export { BlockError, type BlockErrorCode } from './errors';
export type { IoFaults } from './host-file';
export { openImage, probeFormat, resolveBackingPath, type OpenImageOptions } from './open';
export { RawDriver } from './raw';
export { Qcow2Driver } from './qcow2/driver';
export { createQcow2, type Qcow2CreateOptions, type Preallocation } from './qcow2/create';

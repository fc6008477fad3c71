export { BpfError, BPF_ERROR_CODES, type BpfOwnErrorCode, type BpfStep } from './errors.js';
export {
  BpfObject,
  BpfProgram,
  liveResources,
  type GlobalValue,
  type OpenOptions,
  type TestRunResult,
} from './object.js';
export {
  TcLink,
  TracingLink,
  detachPinnedTcx,
  tcxPrograms,
  type Detachable,
  type TcAttachKind,
  type TcAttachOptions,
  type TcDirection,
} from './links.js';
export type { TcFilterState } from './native.js';
export { BpfMap, type MapUpdateMode } from './map.js';
export {
  RingBufferReader,
  batchRecord,
  batchRecords,
  type BatchHandler,
  type RecordBatch,
  type RingBufferOptions,
} from './ringbuf.js';
export { requireRoot } from './root.js';
export {
  BPF_FS,
  TRACE_FS,
  ensureBpfFs,
  ensureTraceFs,
  isMounted,
  unmountIfMountedNow,
  type MountResult,
} from './mounts.js';

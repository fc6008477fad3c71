export { BpfError, BPF_ERROR_CODES, type BpfOwnErrorCode, type BpfStep } from './errors.js';
export {
  BpfObject,
  BpfProgram,
  TcLink,
  TracingLink,
  liveResources,
  type Detachable,
  type GlobalValue,
  type OpenOptions,
  type TcAttachOptions,
  type TcDirection,
  type TestRunResult,
} from './object.js';
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

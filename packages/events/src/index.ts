export {
  LAYOUT,
  ENUMS,
  EVENT_MAGIC,
  EVENT_VERSION,
  EventType,
  type FieldLayout,
  type StructLayout,
  type StructName,
} from './layout.js';
export {
  EventDecoder,
  formatProbeEvent,
  protocolName,
  tcpFlagNames,
  type BenchEvent,
  type DecodedEvent,
  type DecoderStats,
  type Direction,
  type EventHeader,
  type ProbeEvent,
  type RecordBatchLike,
  type SkipReason,
} from './decode.js';
export { formatIPv4, formatIPv6 } from './ip.js';

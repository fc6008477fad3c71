// Hand-rolled protobuf wire helpers for the hot path: the relay and the observer pass flow bytes
// through without decoding them, reading only the time to merge by.
import { create, toBinary } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from './gen/flow/flow_pb.js';

/** Time as microseconds since the epoch: exact in a double until the year 2255. */
export type TimeMicros = number;

export function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  const value = varint(buf, pos);
  return [value, varintEnd];
}

// The relay reads the time (and the client the kind) of every response it passes on: these
// readers return the varint and leave its end in `varintEnd` instead of allocating a [value,
// next] pair per field (the pairs were most of the relay's garbage).
let varintEnd = 0;

const VARINT_MAX_MUL = 2 ** 63;

function varint(buf: Uint8Array, pos: number): number {
  const n = buf.length;
  // one and two bytes: tags, and the lengths of flows and batches
  if (pos + 1 < n) {
    const b0 = buf[pos]!;
    if (b0 < 0x80) {
      varintEnd = pos + 1;
      return b0;
    }
    const b1 = buf[pos + 1]!;
    if (b1 < 0x80) {
      varintEnd = pos + 2;
      return (b0 & 0x7f) | (b1 << 7);
    }
  }
  let result = 0;
  let mul = 1;
  let p = pos;
  for (;;) {
    if (p >= n) throw new RangeError('truncated varint');
    const b = buf[p++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      varintEnd = p;
      return result;
    }
    mul *= 128;
    if (mul > VARINT_MAX_MUL) throw new RangeError('varint too long');
  }
}

function skipField(buf: Uint8Array, wireType: number, pos: number): number {
  switch (wireType) {
    case 0:
      varint(buf, pos);
      return varintEnd;
    case 1:
      return pos + 8;
    case 2:
      return varint(buf, pos) + varintEnd;
    case 5:
      return pos + 4;
    default:
      throw new RangeError(`unsupported wire type ${wireType}`);
  }
}

/** Decodes a google.protobuf.Timestamp body into microseconds. */
export function readTimestampMicros(buf: Uint8Array, start: number, end: number): TimeMicros {
  let seconds = 0;
  let nanos = 0;
  let p = start;
  while (p < end) {
    const tag = varint(buf, p);
    p = varintEnd;
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0 && (field === 1 || field === 2)) {
      const v = varint(buf, p);
      if (field === 1) seconds = v;
      else nanos = v;
      p = varintEnd;
    } else {
      p = skipField(buf, wireType, p);
    }
  }
  return seconds * 1e6 + Math.floor(nanos / 1000);
}

/** Start of the last top-level length-delimited field `fieldNumber` found by scan(), end in scanEnd. */
let scanEnd = 0;

function scan(buf: Uint8Array, fieldNumber: number): number {
  let p = 0;
  let found = -1;
  while (p < buf.length) {
    const tag = varint(buf, p);
    p = varintEnd;
    const wireType = tag & 7;
    if (wireType === 2) {
      const len = varint(buf, p);
      p = varintEnd;
      if (Math.floor(tag / 8) === fieldNumber) {
        found = p;
        scanEnd = p + len;
      }
      p += len;
    } else {
      p = skipField(buf, wireType, p);
    }
  }
  return found;
}

/**
 * Finds the top-level length-delimited field `fieldNumber` and returns its [start, end) or
 * undefined. Last occurrence wins, as protobuf merge semantics say for singular fields.
 */
export function findField(buf: Uint8Array, fieldNumber: number): [number, number] | undefined {
  const start = scan(buf, fieldNumber);
  return start < 0 ? undefined : [start, scanEnd];
}

/** Time of an encoded GetFlowsResponse (field 1001), or of its flow (flow.time) as fallback. */
export function responseTimeMicros(buf: Uint8Array): TimeMicros {
  const t = scan(buf, 1001);
  if (t >= 0) return readTimestampMicros(buf, t, scanEnd);
  const flow = scan(buf, 1);
  if (flow >= 0) return flowTimeMicros(buf.subarray(flow, scanEnd));
  return 0;
}

/** Time of an encoded flow.Flow (field 1). */
export function flowTimeMicros(buf: Uint8Array): TimeMicros {
  const t = scan(buf, 1);
  return t >= 0 ? readTimestampMicros(buf, t, scanEnd) : 0;
}

/** Oneof case of an encoded GetFlowsResponse: 1 flow, 2 node_status, 3 lost_events, 0 none. */
export function responseKind(buf: Uint8Array): number {
  let p = 0;
  while (p < buf.length) {
    const tag = varint(buf, p);
    const field = Math.floor(tag / 8);
    if (field >= 1 && field <= 3) return field;
    p = skipField(buf, tag & 7, varintEnd);
  }
  return 0;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

function timestampParts(micros: TimeMicros): [seconds: number, nanos: number, size: number] {
  const seconds = Math.floor(micros / 1e6);
  const nanos = Math.round((micros - seconds * 1e6) * 1000);
  const size = (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
  return [seconds, nanos, size];
}

function writeTimestampField(buf: Uint8Array, pos: number, tag: number, micros: TimeMicros): number {
  const [seconds, nanos, size] = timestampParts(micros);
  pos = writeVarint(buf, pos, tag);
  pos = writeVarint(buf, pos, size);
  if (seconds !== 0) {
    buf[pos++] = 0x08;
    pos = writeVarint(buf, pos, seconds);
  }
  if (nanos !== 0) {
    buf[pos++] = 0x10;
    pos = writeVarint(buf, pos, nanos);
  }
  return pos;
}

function timestampFieldSize(tag: number, micros: TimeMicros): number {
  const size = timestampParts(micros)[2];
  return varintSize(tag) + varintSize(size) + size;
}

// Small buffers come from one slab: allocating each flow's few hundred bytes separately made
// allocation and GC the largest cost of serving flows.
const slabSize = 256 * 1024;
let slab = Buffer.allocUnsafe(slabSize);
let slabUsed = 0;

function allocate(size: number): Buffer {
  if (size > slabSize / 8) return Buffer.allocUnsafe(size);
  if (slabUsed + size > slabSize) {
    slab = Buffer.allocUnsafe(slabSize);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return out;
}

const utf8 = new TextEncoder();
const nodeNameCache = new Map<string, Uint8Array>();

function encodedName(name: string): Uint8Array {
  let b = nodeNameCache.get(name);
  if (!b) {
    b = utf8.encode(name);
    if (nodeNameCache.size < 4096) nodeNameCache.set(name, b);
  }
  return b;
}

const RESPONSE_NODE_NAME_TAG = (1000 << 3) | 2;
const RESPONSE_TIME_TAG = (1001 << 3) | 2;

/** Bytes of GetFlowsResponse's node_name (1000, omitted when empty) and time (1001) fields. */
function responseTailSize(name: Uint8Array, timeMicros: TimeMicros): number {
  const nameSize =
    name.length > 0 ? varintSize(RESPONSE_NODE_NAME_TAG) + varintSize(name.length) + name.length : 0;
  return nameSize + timestampFieldSize(RESPONSE_TIME_TAG, timeMicros);
}

function writeResponseTail(buf: Uint8Array, pos: number, name: Uint8Array, timeMicros: TimeMicros): void {
  if (name.length > 0) {
    pos = writeVarint(buf, pos, RESPONSE_NODE_NAME_TAG);
    pos = writeVarint(buf, pos, name.length);
    buf.set(name, pos);
    pos += name.length;
  }
  writeTimestampField(buf, pos, RESPONSE_TIME_TAG, timeMicros);
}

/**
 * Encodes GetFlowsResponse{flow, node_name, time} around already-encoded flow bytes, so a flow is
 * serialized once however many clients read it.
 */
export function encodeFlowResponse(
  flowBytes: Uint8Array,
  nodeName: string,
  timeMicros: TimeMicros,
): Uint8Array {
  const name = encodedName(nodeName);
  const size = 1 + varintSize(flowBytes.length) + flowBytes.length + responseTailSize(name, timeMicros);
  const buf = allocate(size);
  let pos = 0;
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, flowBytes.length);
  buf.set(flowBytes, pos);
  pos += flowBytes.length;
  writeResponseTail(buf, pos, name, timeMicros);
  return buf;
}

/**
 * Gives recorded flow bytes (encoded without a time) a new time by prepending field 1: protobuf
 * decoders merge concatenated fields, so this is a complete, valid Flow.
 */
export function stampFlowBytes(flowBytesWithoutTime: Uint8Array, timeMicros: TimeMicros): Uint8Array {
  const buf = allocate(timestampFieldSize(0x0a, timeMicros) + flowBytesWithoutTime.length);
  const pos = writeTimestampField(buf, 0, 0x0a, timeMicros);
  buf.set(flowBytesWithoutTime, pos);
  return buf;
}

/**
 * encodeFlowResponse(stampFlowBytes(flow, t), nodeName, t) in one pass and one copy: the
 * replay path of recorded flows.
 */
export function encodeStampedFlowResponse(
  flowBytesWithoutTime: Uint8Array,
  nodeName: string,
  timeMicros: TimeMicros,
): Uint8Array {
  const name = encodedName(nodeName);
  const flowTime = timestampFieldSize(0x0a, timeMicros);
  const flowLength = flowTime + flowBytesWithoutTime.length;
  const size = 1 + varintSize(flowLength) + flowLength + responseTailSize(name, timeMicros);
  const buf = allocate(size);
  let pos = 0;
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, flowLength);
  pos = writeTimestampField(buf, pos, 0x0a, timeMicros);
  buf.set(flowBytesWithoutTime, pos);
  pos += flowBytesWithoutTime.length;
  writeResponseTail(buf, pos, name, timeMicros);
  return buf;
}

/** Encodes a flow with its time removed, ready for stampFlowBytes. */
export function encodeFlowWithoutTime(flow: Flow): Uint8Array {
  const copy = create(FlowSchema, { ...flow, time: undefined });
  return toBinary(FlowSchema, copy);
}

/**
 * Encodes wirescope.v1.FlowBatch{responses} from already-encoded GetFlowsResponses: one copy of
 * each, no protobuf runtime on the hot path.
 */
export function encodeFlowBatch(responses: readonly Uint8Array[]): Buffer {
  return encodeFlowBatchFrame(responses).subarray(5);
}

/**
 * The FlowBatch as one gRPC length-prefixed message (the uncompressed flag and a 32-bit
 * big-endian length, then the FlowBatch): what a server writes to its HTTP/2 stream, built in
 * the one copy of the responses the batch needs anyway.
 */
export function encodeFlowBatchFrame(responses: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const r of responses) size += 1 + varintSize(r.length) + r.length;
  const buf = Buffer.allocUnsafe(5 + size);
  buf[0] = 0;
  buf.writeUInt32BE(size, 1);
  let pos = 5;
  for (const r of responses) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, r.length);
    buf.set(r, pos);
    pos += r.length;
  }
  return buf;
}

/**
 * Calls `each` with every response of an encoded FlowBatch, as views into `batch` (no copy).
 * Fields other than responses are skipped, as protobuf readers do with unknown fields.
 */
export function forEachBatchedResponse(batch: Buffer, each: (response: Buffer) => void): void {
  let p = 0;
  while (p < batch.length) {
    const tag = varint(batch, p);
    p = varintEnd;
    if (tag === 0x0a) {
      const len = varint(batch, p);
      const r = varintEnd;
      if (r + len > batch.length) throw new RangeError('truncated FlowBatch');
      each(batch.subarray(r, r + len));
      p = r + len;
    } else {
      p = skipField(batch, tag & 7, p);
    }
  }
}

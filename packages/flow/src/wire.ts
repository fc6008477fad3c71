// Hand-rolled protobuf wire helpers for the hot path: the relay and the observer pass flow bytes
// through without decoding them, reading only the time to merge by.
import { create, toBinary } from '@bufbuild/protobuf';
import { FlowSchema, type Flow } from './gen/flow/flow_pb.js';

/** Time as microseconds since the epoch: exact in a double until the year 2255. */
export type TimeMicros = number;

export function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= buf.length) throw new RangeError('truncated varint');
    const b = buf[p++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [result, p];
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}

function skipField(buf: Uint8Array, wireType: number, pos: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, p] = readVarint(buf, pos);
      return p + len;
    }
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
    const [tag, q] = readVarint(buf, p);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0 && (field === 1 || field === 2)) {
      const [v, r] = readVarint(buf, q);
      if (field === 1) seconds = v;
      else nanos = v;
      p = r;
    } else {
      p = skipField(buf, wireType, q);
    }
  }
  return seconds * 1e6 + Math.floor(nanos / 1000);
}

/**
 * Finds the top-level length-delimited field `fieldNumber` and returns its [start, end) or
 * undefined. Last occurrence wins, as protobuf merge semantics say for singular fields.
 */
export function findField(buf: Uint8Array, fieldNumber: number): [number, number] | undefined {
  let p = 0;
  let found: [number, number] | undefined;
  while (p < buf.length) {
    const [tag, q] = readVarint(buf, p);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 2) {
      const [len, r] = readVarint(buf, q);
      if (field === fieldNumber) found = [r, r + len];
      p = r + len;
    } else {
      p = skipField(buf, wireType, q);
    }
  }
  return found;
}

/** Time of an encoded GetFlowsResponse (field 1001), or of its flow (flow.time) as fallback. */
export function responseTimeMicros(buf: Uint8Array): TimeMicros {
  const t = findField(buf, 1001);
  if (t) return readTimestampMicros(buf, t[0], t[1]);
  const flow = findField(buf, 1);
  if (flow) return flowTimeMicros(buf.subarray(flow[0], flow[1]));
  return 0;
}

/** Time of an encoded flow.Flow (field 1). */
export function flowTimeMicros(buf: Uint8Array): TimeMicros {
  const t = findField(buf, 1);
  return t ? readTimestampMicros(buf, t[0], t[1]) : 0;
}

/** Oneof case of an encoded GetFlowsResponse: 1 flow, 2 node_status, 3 lost_events, 0 none. */
export function responseKind(buf: Uint8Array): number {
  let p = 0;
  while (p < buf.length) {
    const [tag, q] = readVarint(buf, p);
    const field = Math.floor(tag / 8);
    if (field >= 1 && field <= 3) return field;
    p = skipField(buf, tag & 7, q);
  }
  return 0;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  varint(v: number): this {
    let n = v;
    while (n >= 0x80) {
      this.scratch.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.scratch.push(n);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.flush();
    this.chunks.push(b);
    return this;
  }
  private flush(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }
  finish(): Uint8Array {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}

function timestampBody(micros: TimeMicros): Uint8Array {
  const seconds = Math.floor(micros / 1e6);
  const nanos = (micros - seconds * 1e6) * 1000;
  const w = new Writer();
  if (seconds !== 0) w.varint(0x08).varint(seconds);
  if (nanos !== 0) w.varint(0x10).varint(nanos);
  return w.finish();
}

const utf8 = new TextEncoder();

/**
 * Encodes GetFlowsResponse{flow, node_name, time} around already-encoded flow bytes, so a flow is
 * serialized once however many clients read it.
 */
export function encodeFlowResponse(flowBytes: Uint8Array, nodeName: string, timeMicros: TimeMicros): Uint8Array {
  const ts = timestampBody(timeMicros);
  const name = utf8.encode(nodeName);
  const w = new Writer();
  w.varint(0x0a).varint(flowBytes.length).bytes(flowBytes);
  if (name.length > 0) w.varint((1000 << 3) | 2).varint(name.length).bytes(name);
  w.varint((1001 << 3) | 2).varint(ts.length).bytes(ts);
  return w.finish();
}

/**
 * Gives recorded flow bytes (encoded without a time) a new time by prepending field 1: protobuf
 * decoders merge concatenated fields, so this is a complete, valid Flow.
 */
export function stampFlowBytes(flowBytesWithoutTime: Uint8Array, timeMicros: TimeMicros): Uint8Array {
  const ts = timestampBody(timeMicros);
  return new Writer().varint(0x0a).varint(ts.length).bytes(ts).bytes(flowBytesWithoutTime).finish();
}

/** Encodes a flow with its time removed, ready for stampFlowBytes. */
export function encodeFlowWithoutTime(flow: Flow): Uint8Array {
  const copy = create(FlowSchema, { ...flow, time: undefined });
  return toBinary(FlowSchema, copy);
}

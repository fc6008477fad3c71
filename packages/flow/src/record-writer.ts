// The record writer: a FlowRecord -> GetFlowsResponse{flow, node_name, time} bytes in one pass,
// byte-identical to encodeFlowResponse(toBinary(FlowSchema, recordToFlow(r)), r.nodeName, t) with
// t = recordTimeMicros(r). It writes only the fields a record has (the compiled encoder tests
// each of Flow's ~40 fields and looks up every frozen member's memoized bytes in a WeakMap),
// copies the shared endpoints' and extension's bytes, and writes the response around the flow
// in the same buffer (no second copy of the flow, no search for it afterwards). Fields go in
// field-number order with proto3 presence, as toBinary writes them.
import type { FlowRecord } from './record.js';

// RecordL4's values, local: a module binding read per flow costs a getter where the package is
// loaded as CommonJS (tsx, in the benchmarks)
const L4_ABSENT = -1;
const L4_TCP = 1;
const L4_ICMPV4 = 3;
const L4_ICMPV6 = 4;
const L4_SCTP = 5;

// Results are views of shared blocks, as Node's Buffer pool gives out (and encodeFlowResponse's).
const BLOCK = 256 * 1024;
let buf = new Uint8Array(BLOCK);
let next = 0;
const te = new TextEncoder();

function tag(field: number, wireType: number): number {
  return ((field << 3) | wireType) >>> 0;
}
const T_EVENT_TYPE = tag(19, 2);
const T_TRAFFIC_DIRECTION = tag(22, 0);
const T_POLICY_MATCH_TYPE = tag(23, 0);
const T_TRACE_POINT = tag(24, 0);
const T_DROP_REASON_DESC = tag(25, 0);
const T_IS_REPLY = tag(26, 2);
const T_INTERFACE = tag(28, 2);
const T_UUID = tag(34, 2);
const T_TRACE_REASON = tag(36, 0);
const T_SUMMARY = tag(100000, 2);
const T_EXTENSIONS = tag(150000, 2);
const T_NODE_NAME = tag(1000, 2);
const T_TIME = tag(1001, 2);
/** Layer4's oneof members by RecordL4 case (field number = case). */
const L4_TAGS = [0, tag(1, 2), tag(2, 2), tag(3, 2), tag(4, 2), tag(5, 2)];

function u32(p: number, v: number): number {
  while (v > 127) {
    buf[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** int32 (enums): negative values take ten bytes, as protobuf writes them. */
function i32(p: number, v: number): number {
  if (v >= 0) return u32(p, v);
  for (let i = 0; i < 9; i++) {
    buf[p++] = (v & 127) | 128;
    v >>= 7;
  }
  buf[p++] = 1;
  return p;
}

/** A non-negative integer up to 2^53 (int64 seconds) as a varint. */
function uint53(p: number, n: number): number {
  while (n > 127) {
    buf[p++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[p++] = n;
  return p;
}

/** int64 seconds before 1970: two's complement, ten bytes. */
function negativeInt64(p: number, n: number): number {
  let v = BigInt.asUintN(64, BigInt(n));
  while (v > 127n) {
    buf[p++] = Number(v & 127n) | 128;
    v >>= 7n;
  }
  buf[p++] = Number(v);
  return p;
}

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : n < 268435456 ? 4 : 5;
}

/** A string field's length and UTF-8 bytes (room for 3 bytes per UTF-16 unit + 5 is ensured). */
function str(p: number, s: string): number {
  const n = s.length;
  if (n < 128) {
    const start = p + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) break;
      buf[start + i] = c;
    }
    if (i === n) {
      buf[p] = n;
      return start + n;
    }
  }
  const reserved = varintSize(3 * n);
  const start = p + reserved;
  const written = te.encodeInto(s, buf.subarray(start)).written;
  const needed = varintSize(written);
  if (needed < reserved) buf.copyWithin(p + needed, start, start + written);
  return u32(p, written) + written;
}

function bytes(p: number, b: Uint8Array): number {
  p = u32(p, b.length);
  buf.set(b, p);
  return p + b.length;
}

/** Writes the length of buf[start, p) into the `reserved` bytes before start, moving the body to fit. */
function finish(start: number, p: number, reserved: number): number {
  const len = p - start;
  const k = varintSize(len);
  const at = start - reserved;
  if (k !== reserved) {
    buf.copyWithin(at + k, start, p);
    p += k - reserved;
  }
  u32(at, len);
  return p;
}

/** Bytes the record's fields can take at most. */
function bound(r: FlowRecord): number {
  return (
    256 +
    3 *
      (r.uuid.length +
        r.ipSource.length +
        r.ipDestination.length +
        2 * r.nodeName.length +
        r.interfaceName.length +
        r.summary.length) +
    (r.source ? r.source.bytes.length : 0) +
    (r.destination ? r.destination.bytes.length : 0) +
    (r.extensions ? r.extensions.bytes.length : 0)
  );
}

// Proto3 implicit presence: a zero scalar or an empty string is not written.
function u32Field(p: number, tagValue: number, v: number): number {
  return v === 0 ? p : u32(u32(p, tagValue), v);
}
function i32Field(p: number, tagValue: number, v: number): number {
  return v === 0 ? p : i32(u32(p, tagValue), v);
}
function strField(p: number, tagValue: number, v: string): number {
  return v === '' ? p : str(u32(p, tagValue), v);
}
function bytesField(p: number, tagValue: number, v: Uint8Array | undefined): number {
  return v === undefined ? p : bytes(u32(p, tagValue), v);
}

/** A google.protobuf.Timestamp field (`tagValue`): always present, its zero members left out. */
function timestamp(p: number, tagValue: number, seconds: number, nanos: number): number {
  p = u32(p, tagValue);
  const s = ++p;
  if (seconds > 0) {
    buf[p++] = 0x08;
    p = uint53(p, seconds);
  } else if (seconds < 0) {
    buf[p++] = 0x08;
    p = negativeInt64(p, seconds);
  }
  p = i32Field(p, 0x10, nanos);
  return finish(s, p, 1);
}

function writeFlow(r: FlowRecord, p: number): number {
  p = timestamp(p, 0x0a, r.timeSeconds, r.timeNanos);
  p = i32Field(p, 0x10, r.verdict);
  p = u32Field(p, 0x18, r.dropReason);
  if (r.hasIP) {
    buf[p++] = 0x2a;
    const s = ++p;
    p = strField(p, 0x0a, r.ipSource);
    p = strField(p, 0x12, r.ipDestination);
    p = i32Field(p, 0x18, r.ipVersion);
    p = u32Field(p, 0x20, r.ipEncrypted ? 1 : 0);
    p = finish(s, p, 1);
  }
  if (r.l4 !== L4_ABSENT) p = writeLayer4(r, p);
  p = bytesField(p, 0x42, r.source?.bytes);
  p = bytesField(p, 0x4a, r.destination?.bytes);
  p = i32Field(p, 0x50, r.type);
  p = strField(p, 0x5a, r.nodeName);
  if (r.eventType >= 0) {
    p = u32(p, T_EVENT_TYPE);
    const s = ++p;
    p = i32Field(p, 0x08, r.eventType);
    p = i32Field(p, 0x10, r.eventSubType);
    p = finish(s, p, 1);
  }
  p = i32Field(p, T_TRAFFIC_DIRECTION, r.trafficDirection);
  p = u32Field(p, T_POLICY_MATCH_TYPE, r.policyMatchType);
  p = i32Field(p, T_TRACE_POINT, r.traceObservationPoint);
  p = i32Field(p, T_DROP_REASON_DESC, r.dropReasonDesc);
  if (r.isReply >= 0) {
    // a BoolValue: present even when false (then empty)
    p = u32(p, T_IS_REPLY);
    if (r.isReply === 1) {
      buf[p++] = 2;
      buf[p++] = 0x08;
      buf[p++] = 1;
    } else buf[p++] = 0;
  }
  if (r.interfaceIndex >= 0) {
    p = u32(p, T_INTERFACE);
    const s = ++p;
    p = u32Field(p, 0x08, r.interfaceIndex);
    p = strField(p, 0x12, r.interfaceName);
    p = finish(s, p, 1);
  }
  p = strField(p, T_UUID, r.uuid);
  p = i32Field(p, T_TRACE_REASON, r.traceReason);
  p = strField(p, T_SUMMARY, r.summary);
  return bytesField(p, T_EXTENSIONS, r.extensions?.bytes);
}

function writeLayer4(r: FlowRecord, p: number): number {
  buf[p++] = 0x32;
  const s = ++p;
  const c = r.l4;
  if (c >= L4_TCP && c <= L4_SCTP) {
    // a oneof member: present even when empty
    buf[p++] = L4_TAGS[c]!;
    const inner = ++p;
    if (c === L4_ICMPV4 || c === L4_ICMPV6) {
      p = u32Field(p, 0x08, r.icmpType);
      p = u32Field(p, 0x10, r.icmpCode);
    } else {
      p = u32Field(p, 0x08, r.sourcePort);
      p = u32Field(p, 0x10, r.destinationPort);
      if (c === L4_TCP && r.tcpFlags >= 0) {
        buf[p++] = 0x1a;
        const f = ++p;
        // TCPFlags' fields 1..9 are FIN..NS, the kernel's bit order
        for (let i = 0; i < 9; i++)
          if (r.tcpFlags & (1 << i)) {
            buf[p++] = (i + 1) << 3;
            buf[p++] = 1;
          }
        p = finish(f, p, 1);
      }
    }
    p = finish(inner, p, 1);
  }
  return finish(s, p, 1);
}

/**
 * The encoded GetFlowsResponse of a record: flow, node_name (r.nodeName, omitted when empty) and
 * time (the flow's, at µs resolution, as the ring keys it). A view of a shared block.
 */
export function encodeRecordResponse(r: FlowRecord): Uint8Array {
  const most = bound(r);
  if (next + most > buf.length) {
    buf = new Uint8Array(Math.max(BLOCK, most));
    next = 0;
  }
  const start = next;
  let p = start;
  buf[p++] = 0x0a;
  // a flow is 128 B to 16 KiB: two length bytes reserved, moved when it needs one or three
  p += 2;
  p = finish(start + 3, writeFlow(r, start + 3), 2);
  p = strField(p, T_NODE_NAME, r.nodeName);
  p = timestamp(p, T_TIME, r.timeSeconds, r.timeNanos - (r.timeNanos % 1000));
  next = (p + 7) & ~7;
  return new Uint8Array(buf.buffer, start, p - start);
}

/**
 * Offsets and sizes of every struct in bpf/include/events.h, in one table. The decoder reads
 * through these constants only; layout.test.ts checks them against the BTF of the compiled
 * BPF object so that C and TypeScript cannot drift apart.
 */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

export const LAYOUT = {
  ws_event_header: {
    size: 24,
    fields: {
      magic: { offset: 0, size: 2 },
      version: { offset: 2, size: 1 },
      type: { offset: 3, size: 1 },
      len: { offset: 4, size: 2 },
      subtype: { offset: 6, size: 2 },
      cpu: { offset: 8, size: 4 },
      reserved: { offset: 12, size: 4 },
      ktime_ns: { offset: 16, size: 8 },
    },
  },
  ws_probe_event: {
    size: 80,
    fields: {
      hdr: { offset: 0, size: 24 },
      saddr: { offset: 24, size: 16 },
      daddr: { offset: 40, size: 16 },
      sport: { offset: 56, size: 2 },
      dport: { offset: 58, size: 2 },
      ifindex: { offset: 60, size: 4 },
      pkt_len: { offset: 64, size: 4 },
      family: { offset: 68, size: 1 },
      protocol: { offset: 69, size: 1 },
      tcp_flags: { offset: 70, size: 1 },
      direction: { offset: 71, size: 1 },
      icmp_type: { offset: 72, size: 1 },
      icmp_code: { offset: 73, size: 1 },
      pad: { offset: 74, size: 6 },
    },
  },
  ws_bench_event: {
    size: 32,
    fields: {
      hdr: { offset: 0, size: 24 },
      seq: { offset: 24, size: 8 },
    },
  },
  ws_packet_info: {
    size: 64,
    fields: {
      saddr: { offset: 0, size: 16 },
      daddr: { offset: 16, size: 16 },
      sport: { offset: 32, size: 2 },
      dport: { offset: 34, size: 2 },
      ifindex: { offset: 36, size: 4 },
      pkt_len: { offset: 40, size: 4 },
      src_identity: { offset: 44, size: 4 },
      dst_identity: { offset: 48, size: 4 },
      peer_node_id: { offset: 52, size: 4 },
      family: { offset: 56, size: 1 },
      protocol: { offset: 57, size: 1 },
      tcp_flags: { offset: 58, size: 1 },
      direction: { offset: 59, size: 1 },
      icmp_type: { offset: 60, size: 1 },
      icmp_code: { offset: 61, size: 1 },
      flags: { offset: 62, size: 2 },
    },
  },
  ws_trace_event: {
    size: 120,
    fields: {
      hdr: { offset: 0, size: 24 },
      pkt: { offset: 24, size: 64 },
      flow_packets: { offset: 88, size: 8 },
      flow_bytes: { offset: 96, size: 8 },
      first_seen_ns: { offset: 104, size: 8 },
      reason: { offset: 112, size: 1 },
      tcp_flags_seen: { offset: 113, size: 1 },
      pad: { offset: 114, size: 6 },
    },
  },
  ws_drop_event: {
    size: 104,
    fields: {
      hdr: { offset: 0, size: 24 },
      pkt: { offset: 24, size: 64 },
      location: { offset: 88, size: 8 },
      trace_point: { offset: 96, size: 1 },
      pad: { offset: 97, size: 7 },
    },
  },
  ws_policy_verdict_event: {
    size: 104,
    fields: {
      hdr: { offset: 0, size: 24 },
      pkt: { offset: 24, size: 64 },
      remote_identity: { offset: 88, size: 4 },
      cookie: { offset: 92, size: 4 },
      drop_reason: { offset: 96, size: 2 },
      match_type: { offset: 98, size: 1 },
      audited: { offset: 99, size: 1 },
      pad: { offset: 100, size: 4 },
    },
  },
  ws_handshake_event: {
    size: 80,
    fields: {
      hdr: { offset: 0, size: 24 },
      saddr: { offset: 24, size: 16 },
      daddr: { offset: 40, size: 16 },
      sport: { offset: 56, size: 2 },
      dport: { offset: 58, size: 2 },
      ifindex: { offset: 60, size: 4 },
      sender_index: { offset: 64, size: 4 },
      receiver_index: { offset: 68, size: 4 },
      direction: { offset: 72, size: 1 },
      pad: { offset: 73, size: 7 },
    },
  },
} as const satisfies Record<string, StructLayout>;

export type StructName = keyof typeof LAYOUT;

/** The constants and enums of events.h, by their C names (checked against BTF too). */
export const EVENT_MAGIC = 0x5753;
export const EVENT_VERSION = 1;

export const ENUMS = {
  ws_event_type: {
    WS_EVENT_PROBE: 1,
    WS_EVENT_TRACE: 2,
    WS_EVENT_DROP: 3,
    WS_EVENT_HANDSHAKE: 4,
    WS_EVENT_FLOW: 5,
    WS_EVENT_POLICY_VERDICT: 6,
    WS_EVENT_BENCH: 255,
  },
  ws_direction: {
    WS_DIR_UNKNOWN: 0,
    WS_DIR_INGRESS: 1,
    WS_DIR_EGRESS: 2,
  },
  ws_tcp_flag: {
    WS_TCP_FIN: 0x01,
    WS_TCP_SYN: 0x02,
    WS_TCP_RST: 0x04,
    WS_TCP_PSH: 0x08,
    WS_TCP_ACK: 0x10,
    WS_TCP_URG: 0x20,
    WS_TCP_ECE: 0x40,
    WS_TCP_CWR: 0x80,
  },
  ws_trace_point: {
    WS_TRACE_TO_ENDPOINT: 0,
    WS_TRACE_TO_STACK: 3,
    WS_TRACE_FROM_ENDPOINT: 5,
    WS_TRACE_FROM_NETWORK: 10,
    WS_TRACE_TO_NETWORK: 11,
    WS_TRACE_FROM_CRYPTO: 12,
    WS_TRACE_TO_CRYPTO: 13,
  },
  ws_trace_reason: {
    WS_REASON_NEW: 1,
    WS_REASON_FLAGS: 2,
    WS_REASON_PERIODIC: 3,
  },
  ws_trace_flag: {
    WS_F_IS_REPLY: 0x01,
    WS_F_REPLY_KNOWN: 0x02,
    WS_F_ENCRYPTED: 0x04,
    WS_F_LEAK: 0x08,
    WS_F_KERNEL: 0x10,
    WS_F_REDIRECTED: 0x20,
  },
  ws_drop_reason: {
    WS_DROP_POLICY_DENIED: 133,
    WS_DROP_POLICY_DENY: 181,
    WS_DROP_UNENCRYPTED_TRAFFIC: 195,
  },
  ws_policy_match: {
    WS_MATCH_NONE: 0,
    WS_MATCH_L3_ONLY: 1,
    WS_MATCH_L3_L4: 2,
    WS_MATCH_L4_ONLY: 3,
    WS_MATCH_ALL: 4,
    WS_MATCH_L3_PROTO: 5,
    WS_MATCH_PROTO_ONLY: 6,
  },
} as const;

export const EventType = {
  PROBE: ENUMS.ws_event_type.WS_EVENT_PROBE,
  TRACE: ENUMS.ws_event_type.WS_EVENT_TRACE,
  DROP: ENUMS.ws_event_type.WS_EVENT_DROP,
  HANDSHAKE: ENUMS.ws_event_type.WS_EVENT_HANDSHAKE,
  FLOW: ENUMS.ws_event_type.WS_EVENT_FLOW,
  POLICY_VERDICT: ENUMS.ws_event_type.WS_EVENT_POLICY_VERDICT,
  BENCH: ENUMS.ws_event_type.WS_EVENT_BENCH,
} as const;

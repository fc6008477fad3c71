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
} as const;

export const EventType = {
  PROBE: ENUMS.ws_event_type.WS_EVENT_PROBE,
  TRACE: ENUMS.ws_event_type.WS_EVENT_TRACE,
  DROP: ENUMS.ws_event_type.WS_EVENT_DROP,
  HANDSHAKE: ENUMS.ws_event_type.WS_EVENT_HANDSHAKE,
  FLOW: ENUMS.ws_event_type.WS_EVENT_FLOW,
  BENCH: ENUMS.ws_event_type.WS_EVENT_BENCH,
} as const;

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The event ABI: every record Wirescope's BPF programs put in a ring buffer starts with
 * struct ws_event_header. Readers dispatch on `type`, skip records whose `version` they do
 * not know, and use `len` (the whole record, header included) to step over types they do
 * not decode, so new record types and longer versions of old ones never break old readers.
 *
 * Rules that keep the ABI stable:
 *   - fields are only appended, never reordered or resized; bump WS_EVENT_VERSION when a
 *     record's meaning changes;
 *   - every struct is naturally aligned with explicit padding (the layout test in
 *     packages/events compares each offset and size with this object's BTF);
 *   - integers are host byte order (the producer and the reader share one machine), except
 *     addresses, which stay in network order as 16-byte arrays.
 *
 * Compiled both by clang -target bpf (with vmlinux.h) and, for userspace consumers, by the
 * host compiler with <linux/types.h>.
 */
#ifndef WIRESCOPE_EVENTS_H
#define WIRESCOPE_EVENTS_H

#define WS_EVENT_MAGIC 0x5753 /* "WS" */
#define WS_EVENT_VERSION 1

enum ws_event_type {
	WS_EVENT_PROBE = 1,	/* struct ws_probe_event: one packet seen by the probe */
	WS_EVENT_TRACE = 2,	/* struct ws_trace_event: new flow, new TCP flag, or periodic */
	WS_EVENT_DROP = 3,	/* struct ws_drop_event: datapath or kernel drop with reason */
	WS_EVENT_HANDSHAKE = 4, /* struct ws_handshake_event: WireGuard handshake message */
	WS_EVENT_FLOW = 5,	/* reserved: aggregated flow record */
	WS_EVENT_POLICY_VERDICT = 6, /* struct ws_policy_verdict_event: Cilium's monitor type 5 */
	WS_EVENT_BENCH = 255,	/* struct ws_bench_event: ring-buffer benchmark filler */
};

/* Matches Hubble's TrafficDirection numbering. */
enum ws_direction {
	WS_DIR_UNKNOWN = 0,
	WS_DIR_INGRESS = 1,
	WS_DIR_EGRESS = 2,
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum ws_tcp_flag {
	WS_TCP_FIN = 0x01,
	WS_TCP_SYN = 0x02,
	WS_TCP_RST = 0x04,
	WS_TCP_PSH = 0x08,
	WS_TCP_ACK = 0x10,
	WS_TCP_URG = 0x20,
	WS_TCP_ECE = 0x40,
	WS_TCP_CWR = 0x80,
};

struct ws_event_header {
	__u16 magic;	/* WS_EVENT_MAGIC */
	__u8 version;	/* WS_EVENT_VERSION of the record's layout */
	__u8 type;	/* enum ws_event_type */
	__u16 len;	/* whole record in bytes, header included */
	__u16 subtype;	/* type-specific: observation point, drop reason, ... */
	__u32 cpu;	/* CPU that produced the record */
	__u32 reserved; /* zero; room for a flags word without moving ktime_ns */
	__u64 ktime_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
};

struct ws_probe_event {
	struct ws_event_header hdr;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes (rest zero), or IPv6 */
	__u8 daddr[16];
	__u16 sport;	/* host order; 0 when the protocol has no ports */
	__u16 dport;
	__u32 ifindex;	/* interface the program is attached to */
	__u32 pkt_len;	/* skb->len: bytes from the L2 header on */
	__u8 family;	/* 4 or 6 */
	__u8 protocol;	/* IPPROTO_* of the L4 header (after IPv6 extension headers) */
	__u8 tcp_flags; /* enum ws_tcp_flag bits, TCP only */
	__u8 direction; /* enum ws_direction */
	__u8 icmp_type; /* ICMP / ICMPv6 only */
	__u8 icmp_code;
	__u8 pad[6];
};

struct ws_bench_event {
	struct ws_event_header hdr;
	__u64 seq; /* run number * records per run + index, for loss/order checks */
};

/*
 * Observation points: Cilium's trace points, so that header.subtype is Hubble's
 * event_type.sub_type as is (TraceObservationPoint equals it, except TO_ENDPOINT = 101).
 */
enum ws_trace_point {
	WS_TRACE_TO_ENDPOINT = 0,
	WS_TRACE_TO_STACK = 3,
	WS_TRACE_FROM_ENDPOINT = 5,
	WS_TRACE_FROM_NETWORK = 10,
	WS_TRACE_TO_NETWORK = 11,
	WS_TRACE_FROM_CRYPTO = 12,
	WS_TRACE_TO_CRYPTO = 13,
};

/* Why a trace record was emitted (monitor aggregation). */
enum ws_trace_reason {
	WS_REASON_NEW = 1,	/* first packet of a flow at this point */
	WS_REASON_FLAGS = 2,	/* a TCP flag not seen before on this flow */
	WS_REASON_PERIODIC = 3, /* once per aggregation interval while the flow is active */
};

/* ws_trace_event.flags and ws_drop_event.flags bits. */
enum ws_trace_flag {
	WS_F_IS_REPLY = 0x01,	 /* packet goes against the flow's first direction */
	WS_F_REPLY_KNOWN = 0x02, /* WS_F_IS_REPLY is meaningful */
	WS_F_ENCRYPTED = 0x04,	 /* handed to (or received from) the WireGuard device */
	WS_F_LEAK = 0x08,	 /* pod-CIDR address seen in clear on the underlay */
	WS_F_KERNEL = 0x10,	 /* drop: kernel skb_drop_reason in hdr.subtype */
	WS_F_REDIRECTED = 0x20,	 /* from-endpoint: steered into the WireGuard device (lib/steering.h) */
};

/* Datapath drop reasons (Cilium's numbers). */
enum ws_drop_reason {
	WS_DROP_POLICY_DENIED = 133, /* no entry allows it (default deny) */
	WS_DROP_POLICY_DENY = 181,   /* an ingressDeny / egressDeny entry matched */
	WS_DROP_UNENCRYPTED_TRAFFIC = 195,
};

/* Hubble's policy_match_type numbers (which kind of entry decided). */
enum ws_policy_match {
	WS_MATCH_NONE = 0,
	WS_MATCH_L3_ONLY = 1,
	WS_MATCH_L3_L4 = 2,
	WS_MATCH_L4_ONLY = 3,
	WS_MATCH_ALL = 4,
	WS_MATCH_L3_PROTO = 5,
	WS_MATCH_PROTO_ONLY = 6,
};

/* The packet part shared by trace and drop records. */
struct ws_packet_info {
	__u8 saddr[16]; /* IPv4 in the first 4 bytes (rest zero), or IPv6 */
	__u8 daddr[16];
	__u16 sport;	/* host order; 0 when the protocol has no ports */
	__u16 dport;
	__u32 ifindex;	/* interface the program ran on (kfree_skb: skb->dev, may be 0) */
	__u32 pkt_len;	/* skb->len */
	__u32 src_identity; /* security identity from the ipcache, 0 when unknown */
	__u32 dst_identity;
	__u32 peer_node_id; /* node on the other side (ipcache node id), 0 when none */
	__u8 family;	/* 4 or 6 */
	__u8 protocol;
	__u8 tcp_flags; /* this packet's flags (enum ws_tcp_flag) */
	__u8 direction; /* enum ws_direction */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 flags;	/* enum ws_trace_flag bits */
};

/* hdr.subtype: enum ws_trace_point. */
struct ws_trace_event {
	struct ws_event_header hdr;
	struct ws_packet_info pkt;
	__u64 flow_packets; /* the flow's counters at this point, this packet included */
	__u64 flow_bytes;
	__u64 first_seen_ns;
	__u8 reason;	    /* enum ws_trace_reason */
	__u8 tcp_flags_seen; /* union of the flow's TCP flags so far */
	__u8 pad[6];
};

/* hdr.subtype: drop reason (Cilium's, or the kernel's with WS_F_KERNEL). */
struct ws_drop_event {
	struct ws_event_header hdr;
	struct ws_packet_info pkt;
	__u64 location; /* kernel: address that freed the skb; datapath: 0 */
	__u8 trace_point; /* enum ws_trace_point where the datapath dropped */
	__u8 pad[7];
};

/*
 * hdr.subtype: enum ws_trace_point where the verdict was taken. Emitted for the first packet of
 * every allowed connection of an enforced direction and for every denied packet (Cilium's
 * policy_verdict_notify); a denied packet is followed by its WS_EVENT_DROP record.
 */
struct ws_policy_verdict_event {
	struct ws_event_header hdr;
	struct ws_packet_info pkt;
	__u32 remote_identity; /* the peer's identity the lookup used (world when unknown) */
	__u32 cookie;	       /* the winning entry's policy attribution (the agent's table); 0 none */
	__u16 drop_reason;     /* 0: allowed; else enum ws_drop_reason (133, 181, 195), also when audited */
	__u8 match_type;       /* enum ws_policy_match */
	__u8 audited;	       /* 1: audit mode let a would-be deny pass */
	__u8 pad[4];
};

/* hdr.subtype: WireGuard message type 1..3. */
struct ws_handshake_event {
	struct ws_event_header hdr;
	__u8 saddr[16]; /* underlay addresses of the UDP packet, IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 ifindex;
	__u32 sender_index;   /* initiation, response; 0 otherwise */
	__u32 receiver_index; /* response, cookie reply; 0 otherwise */
	__u8 direction;	      /* WS_DIR_EGRESS: sent by this node */
	__u8 pad[7];
};

#endif /* WIRESCOPE_EVENTS_H */

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
	WS_EVENT_TRACE = 2,	/* reserved: datapath trace (new flow, new flag, periodic) */
	WS_EVENT_DROP = 3,	/* reserved: datapath or kernel drop with reason */
	WS_EVENT_HANDSHAKE = 4, /* reserved: WireGuard handshake message */
	WS_EVENT_FLOW = 5,	/* reserved: aggregated flow record */
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

#endif /* WIRESCOPE_EVENTS_H */

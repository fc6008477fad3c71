/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Monitor aggregation (Cilium's idea): every packet updates its flow's counters in ws_flows,
 * so metrics cover 100% of packets, but a WS_EVENT_TRACE record is only emitted for the first
 * packet of a flow at an observation point, for a TCP flag the flow had not shown yet, and
 * once per cfg_aggregation_ns while the flow stays active.
 *
 * API:
 *   ws_flow_observe(pkt, point, segs, id)  account the packet; emit a trace record when due (the
 *                                    identities are resolved then, through id: lib/packet.h).
 *   ws_flow_find(pkt, point, ref), ws_flow_account(pkt, segs, id, ref)  the same in two steps, for
 *                                    a program that reads the flow's entry before accounting
 *                                    (the pod veth's policy, lib/policy.h): one lookup for both.
 *   ws_skb_segs(skb)  wire packets an skb stands for (GSO skbs carry many).
 *   ws_emit_drop(pkt, reason, point, location)  always emit a WS_EVENT_DROP record.
 */
#ifndef WIRESCOPE_LIB_FLOWAGG_H
#define WIRESCOPE_LIB_FLOWAGG_H

#include "common.h"
#include "maps.h"
#include "packet.h"
#include "ringbuf.h"

static __always_inline __u32 ws_skb_segs(struct __sk_buff *skb)
{
	__u32 segs = skb->gso_segs;

	return segs ? segs : 1;
}

struct ws_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 protocol;
	__u8 point; /* enum ws_trace_point */
	__u8 family;
	__u8 pad;
};

struct ws_flow_value {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;
	__u64 last_ns;
	__u64 last_report_ns;
	__u32 src_identity;
	__u32 dst_identity;
	__u8 tcp_flags_seen;
	__u8 reply_flags; /* WS_F_IS_REPLY | WS_F_REPLY_KNOWN, decided on the first packet */
	__u8 policy_reply; /* the pod veth's policy passed it as a reply of a tracked connection */
	__u8 pad;
	/* the pod veth's policy passed this flow under this ws_policy_ep generation (0: never) */
	__u32 policy_generation;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ws_flow_key);
	__type(value, struct ws_flow_value);
} ws_flows SEC(".maps");

/* The point where the other direction of a flow shows up on the same device. */
static __always_inline __u8 ws_mirror_point(__u8 point)
{
	switch (point) {
	case WS_TRACE_FROM_ENDPOINT:
		return WS_TRACE_TO_ENDPOINT;
	case WS_TRACE_TO_ENDPOINT:
		return WS_TRACE_FROM_ENDPOINT;
	case WS_TRACE_TO_CRYPTO:
		return WS_TRACE_FROM_CRYPTO;
	case WS_TRACE_FROM_CRYPTO:
		return WS_TRACE_TO_CRYPTO;
	case WS_TRACE_TO_NETWORK:
		return WS_TRACE_FROM_NETWORK;
	default:
		return WS_TRACE_TO_NETWORK;
	}
}

/* Direction of a new flow: from its first packet (TCP/ICMP), else from the reverse flow. */
static __always_inline __u8 ws_reply_flags(const struct ws_packet_info *p, const struct ws_flow_key *key)
{
	struct ws_flow_key rev = {};

	if (p->protocol == IPPROTO_TCP && (p->tcp_flags & WS_TCP_SYN))
		return WS_F_REPLY_KNOWN | ((p->tcp_flags & WS_TCP_ACK) ? WS_F_IS_REPLY : 0);
	if (p->protocol == IPPROTO_ICMP && (p->icmp_type == 8 || p->icmp_type == 0))
		return WS_F_REPLY_KNOWN | (p->icmp_type == 0 ? WS_F_IS_REPLY : 0);
	if (p->protocol == IPPROTO_ICMPV6 && (p->icmp_type == 128 || p->icmp_type == 129))
		return WS_F_REPLY_KNOWN | (p->icmp_type == 129 ? WS_F_IS_REPLY : 0);
	__builtin_memcpy(rev.saddr, key->daddr, 16);
	__builtin_memcpy(rev.daddr, key->saddr, 16);
	rev.sport = key->dport;
	rev.dport = key->sport;
	rev.protocol = key->protocol;
	rev.family = key->family;
	rev.point = ws_mirror_point(key->point);
	if (bpf_map_lookup_elem(&ws_flows, &rev))
		return WS_F_REPLY_KNOWN | WS_F_IS_REPLY;
	rev.point = key->point; /* forwarding points (crypto, network) see both directions */
	if (bpf_map_lookup_elem(&ws_flows, &rev))
		return WS_F_REPLY_KNOWN | WS_F_IS_REPLY;
	return WS_F_REPLY_KNOWN;
}

/*
 * A SYN on a flow that has seen FIN or RST opens a new connection on the same 5-tuple (a reused
 * source port): without this it would add no flag, so its whole handshake went unreported.
 */
static __always_inline bool ws_flow_reopened(const struct ws_packet_info *p, const struct ws_flow_value *flow)
{
	return p->protocol == IPPROTO_TCP && (p->tcp_flags & WS_TCP_SYN) &&
	       (flow->tcp_flags_seen & (WS_TCP_FIN | WS_TCP_RST));
}

static __always_inline void ws_emit_trace(const struct ws_packet_info *p, __u8 point, __u8 reason,
					  const struct ws_flow_value *flow)
{
	struct ws_trace_event *ev = ws_event_reserve(sizeof(*ev));

	if (!ev)
		return;
	ws_event_header_init(&ev->hdr, WS_EVENT_TRACE, sizeof(*ev), point);
	__builtin_memcpy(&ev->pkt, p, sizeof(*p));
	ev->pkt.flags |= flow->reply_flags;
	ev->flow_packets = flow->packets;
	ev->flow_bytes = flow->bytes;
	ev->first_seen_ns = flow->first_ns;
	ev->reason = reason;
	ev->tcp_flags_seen = flow->tcp_flags_seen;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	ws_event_submit(ev);
	ws_stat_add(WS_STAT_TRACES, 1);
}

/* A flow's key at an observation point and its entry (NULL: not seen yet, or just reopened). */
struct ws_flow_ref {
	struct ws_flow_key key;
	struct ws_flow_value *flow;
	__u8 point;
};

static __always_inline void ws_flow_find(const struct ws_packet_info *p, __u8 point, struct ws_flow_ref *ref)
{
	__builtin_memset(&ref->key, 0, sizeof(ref->key));
	__builtin_memcpy(ref->key.saddr, p->saddr, 16);
	__builtin_memcpy(ref->key.daddr, p->daddr, 16);
	ref->key.sport = p->sport;
	ref->key.dport = p->dport;
	ref->key.protocol = p->protocol;
	ref->key.family = p->family;
	ref->key.point = point;
	ref->point = point;

	ref->flow = bpf_map_lookup_elem(&ws_flows, &ref->key);
	if (ref->flow && ws_flow_reopened(p, ref->flow)) {
		/* a new connection on a closed one's 5-tuple is a new flow, as a new CT entry is in Cilium */
		bpf_map_delete_elem(&ws_flows, &ref->key);
		ref->flow = NULL;
	}
}

/*
 * segs: wire packets in this skb (gso_segs of a GSO skb, else 1).
 * A new flow takes the precise clock (first_ns is its records' first_seen_ns); every later packet
 * the tick clock (bpf_ktime_get_coarse_ns) for last_ns and the periodic report's cadence: the
 * precise one reads the TSC behind a fence that waits for the packet's outstanding loads, and its
 * read_tsc + ktime_get_mono_fast_ns were ~15% of the datapath programs' cost in a perf profile of
 * a bulk transfer. The two clocks are the same CLOCK_MONOTONIC, the tick one up to a tick behind:
 * last_ns only moves forward, and a report is due once now >= last report + interval (never an
 * unsigned wrap of now - last report).
 */
static __always_inline void ws_flow_account(struct ws_packet_info *p, __u32 segs, struct ws_identities *id,
					    struct ws_flow_ref *ref)
{
	struct ws_flow_value *flow = ref->flow;
	__u8 point = ref->point;
	__u64 now;

	if (!flow) {
		__u64 first = bpf_ktime_get_ns();
		struct ws_flow_value fresh = {
			.packets = segs,
			.bytes = p->pkt_len,
			.first_ns = first,
			.last_ns = first,
			.last_report_ns = first,
			.tcp_flags_seen = p->tcp_flags,
		};

		ws_ident_resolve(p, id);
		fresh.src_identity = p->src_identity;
		fresh.dst_identity = p->dst_identity;
		fresh.reply_flags = ws_reply_flags(p, &ref->key);
		/* NOEXIST: another CPU may have created it meanwhile; then count on its entry */
		if (bpf_map_update_elem(&ws_flows, &ref->key, &fresh, BPF_NOEXIST) == 0) {
			ws_stat_add(WS_STAT_FLOWS_CREATED, 1);
			ws_emit_trace(p, point, WS_REASON_NEW, &fresh);
			return;
		}
		flow = bpf_map_lookup_elem(&ws_flows, &ref->key);
		if (!flow)
			return;
	}
	now = bpf_ktime_get_coarse_ns();
	__sync_fetch_and_add(&flow->packets, segs);
	__sync_fetch_and_add(&flow->bytes, p->pkt_len);
	if (now > flow->last_ns)
		flow->last_ns = now;
	if (p->tcp_flags & ~flow->tcp_flags_seen) {
		flow->tcp_flags_seen |= p->tcp_flags;
		flow->last_report_ns = now;
		ws_ident_resolve(p, id);
		ws_emit_trace(p, point, WS_REASON_FLAGS, flow);
		return;
	}
	if (now >= flow->last_report_ns + cfg_aggregation_ns) {
		flow->last_report_ns = now;
		ws_ident_resolve(p, id);
		ws_emit_trace(p, point, WS_REASON_PERIODIC, flow);
	}
}

static __always_inline void ws_flow_observe(struct ws_packet_info *p, __u8 point, __u32 segs,
					    struct ws_identities *id)
{
	struct ws_flow_ref ref;

	ws_flow_find(p, point, &ref);
	ws_flow_account(p, segs, id, &ref);
}

static __always_inline void ws_emit_drop(const struct ws_packet_info *p, __u16 reason, __u8 point, __u64 location)
{
	struct ws_drop_event *ev = ws_event_reserve(sizeof(*ev));

	if (!ev)
		return;
	ws_event_header_init(&ev->hdr, WS_EVENT_DROP, sizeof(*ev), reason);
	__builtin_memcpy(&ev->pkt, p, sizeof(*p));
	ev->location = location;
	ev->trace_point = point;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	ws_event_submit(ev);
}

#endif

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Node underlay interface. WireGuard messages become handshake records and per-peer transport
 * counters; a packet from or to a pod address seen in clear is a leak (traced with WS_F_LEAK
 * and counted). Other underlay traffic (etcd, ARP) is not traced.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/flowagg.h"
#include "lib/wireguard.h"

static __always_inline int ws_underlay_observe(struct __sk_buff *skb, __u8 point, __u8 direction)
{
	struct ws_identities id = { .peer = direction == WS_DIR_EGRESS ? WS_PEER_DST : WS_PEER_SRC };
	struct ws_packet_info p = {};
	int l4_off;

	l4_off = ws_parse_at(skb, ETH_HLEN, &p);
	if (l4_off < 0)
		return TC_ACT_OK;
	p.ifindex = skb->ifindex;
	p.direction = direction;
	if (ws_wireguard_observe(skb, &p, l4_off, direction))
		return TC_ACT_OK;
	/* every packet that is not WireGuard: whether it is a leak depends on both ends */
	ws_ident_resolve(&p, &id);
	if ((id.src && (id.src->flags & WS_IPC_POD)) || (id.dst && (id.dst->flags & WS_IPC_POD))) {
		p.flags = WS_F_LEAK;
		ws_stat_add(WS_STAT_LEAK_PACKETS, 1);
		ws_flow_observe(&p, point, ws_skb_segs(skb), &id);
	}
	return TC_ACT_OK;
}

SEC("tc")
int to_network(struct __sk_buff *skb)
{
	return ws_underlay_observe(skb, WS_TRACE_TO_NETWORK, WS_DIR_EGRESS);
}

SEC("tc")
int from_network(struct __sk_buff *skb)
{
	return ws_underlay_observe(skb, WS_TRACE_FROM_NETWORK, WS_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

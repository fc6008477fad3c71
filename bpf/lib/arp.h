/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_arp_respond(skb)  answer a pod's ARP request with its host-side veth's MAC (Cilium's
 *                        ARP responder): pods reach every address through the veth, whether
 *                        or not the node has a route for it (steering is by eBPF, not routes).
 * Returns a tc verdict; anything but a request for another address follows the stack.
 */
#ifndef WIRESCOPE_LIB_ARP_H
#define WIRESCOPE_LIB_ARP_H

#include "common.h"
#include "maps.h"

#define ETH_P_ARP 0x0806
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

struct ws_arp_eth {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
	__be16 hw_type;
	__be16 proto_type;
	__u8 hw_len;
	__u8 proto_len;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline int ws_arp_respond(struct __sk_buff *skb)
{
	struct ws_endpoint_value *ep;
	struct ws_arp_eth arp;
	__u32 ifindex = skb->ifindex;

	ep = bpf_map_lookup_elem(&ws_endpoints, &ifindex);
	if (!ep)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, 0, &arp, sizeof(arp)) < 0)
		return TC_ACT_OK;
	if (arp.op != bpf_htons(ARPOP_REQUEST) || arp.hw_len != 6 || arp.proto_len != 4 ||
	    arp.proto_type != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	/* duplicate-address probes and gratuitous ARP for the pod's own address */
	if (__builtin_memcmp(arp.tpa, arp.spa, 4) == 0 || *(__u32 *)arp.tpa == ep->ip ||
	    *(__u32 *)arp.spa == 0)
		return TC_ACT_OK;
	{
		__u8 target[4];

		__builtin_memcpy(target, arp.tpa, 4);
		__builtin_memcpy(arp.tha, arp.sha, 6);
		__builtin_memcpy(arp.tpa, arp.spa, 4);
		__builtin_memcpy(arp.sha, ep->mac, 6);
		__builtin_memcpy(arp.spa, target, 4);
		__builtin_memcpy(arp.dst, arp.src, 6);
		__builtin_memcpy(arp.src, ep->mac, 6);
		arp.op = bpf_htons(ARPOP_REPLY);
	}
	if (bpf_skb_store_bytes(skb, 0, &arp, sizeof(arp), 0) < 0)
		return TC_ACT_OK;
	ws_stat_add(WS_STAT_ARP_REPLIES, 1);
	return bpf_redirect(ifindex, 0);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel drops (tp_btf/kfree_skb): which ones this node reports, and what they carry. The
 * tracepoint fires for every namespace on the machine; a node reports a drop when the kernel
 * dropped the packet in one of its own namespaces (lib/netns.h) and the packet is to or from one
 * of its endpoints. Only when the skb names no namespace (no device, no socket), or the agent has
 * not turned namespace scoping on (ws_config WS_CONFIG_NETNS_SCOPE, set once ws_local_netns holds
 * the node's namespace), do the addresses alone decide, as they would on a kernel of one node.
 *
 * API:
 *   ws_kdrop_scope(skb)            1 when the skb is in one of this node's namespaces, -1 when
 *                                  in another node's (nothing more to do: its agent reports it),
 *                                  0 when no namespace decides (none known, or scoping off)
 *   ws_kdrop_parse(skb, pkt)       IPv4 addresses, protocol, ports / ICMP type, length from the
 *                                  skb's headers (kernel memory); -1 when it is not IPv4
 *   ws_kdrop_attribute(skb, pkt, scope)  0 when this node reports the drop (direction and
 *                                  identities filled), -1 when it belongs to another node or none
 */
#ifndef WIRESCOPE_LIB_KDROP_H
#define WIRESCOPE_LIB_KDROP_H

#include "common.h"
#include "maps.h"
#include "netns.h"
#include <bpf/bpf_core_read.h>

/* SKB_NOT_DROPPED_YET, SKB_CONSUMED, SKB_DROP_REASON_NOT_SPECIFIED carry no information. */
#define WS_FIRST_REAL_DROP_REASON 3
#define WS_NO_SOCKET 3

static __always_inline int ws_kdrop_parse(struct sk_buff *skb, struct ws_packet_info *p)
{
	unsigned char *head;
	struct iphdr ip;
	__u16 nh;

	if (BPF_CORE_READ(skb, protocol) != bpf_htons(ETH_P_IP))
		return -1;
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	if (nh == (__u16)~0U)
		return -1;
	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) < 0 || ip.version != 4)
		return -1;
	__builtin_memcpy(p->saddr, &ip.saddr, 4);
	__builtin_memcpy(p->daddr, &ip.daddr, 4);
	p->family = 4;
	p->protocol = ip.protocol;
	p->pkt_len = BPF_CORE_READ(skb, len);
	if (!(ip.frag_off & bpf_htons(0x1fff))) {
		__u8 l4[14] = {};
		unsigned char *l4p = head + nh + ip.ihl * 4;

		if (bpf_probe_read_kernel(l4, sizeof(l4), l4p) == 0) {
			if (ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP) {
				p->sport = (l4[0] << 8) | l4[1];
				p->dport = (l4[2] << 8) | l4[3];
				if (ip.protocol == IPPROTO_TCP)
					p->tcp_flags = l4[13];
			} else if (ip.protocol == IPPROTO_ICMP) {
				p->icmp_type = l4[0];
				p->icmp_code = l4[1];
			}
		}
	}
	return 0;
}

/*
 * First, before parsing: the tracepoint runs every node's program for every drop on the machine,
 * and a busy lab drops thousands of datagrams a second at a full wireguard-go socket (reason
 * SOCKET_RCVBUFF); only the node whose namespace it was needs to look further.
 */
static __always_inline int ws_kdrop_scope(struct sk_buff *skb)
{
	__u32 netns;

	if (!ws_config_get(WS_CONFIG_NETNS_SCOPE))
		return 0;
	netns = ws_skb_netns(skb);
	if (!netns)
		return 0;
	/* dropped in another node's namespace (or outside the cluster): not ours */
	return ws_netns_is_local(netns) ? 1 : -1;
}

static __always_inline int ws_kdrop_attribute(struct sk_buff *skb, struct ws_packet_info *p, int scope)
{
	struct ws_ipcache_value *src = ws_ipcache_lookup4(p->saddr);
	struct ws_ipcache_value *dst = ws_ipcache_lookup4(p->daddr);
	int src_local = src && (src->flags & WS_IPC_LOCAL);
	int dst_local = dst && (dst->flags & WS_IPC_LOCAL);
	struct net_device *dev;

	if (scope < 0)
		return -1;
	if (scope > 0) {
		if (dst_local)
			p->direction = WS_DIR_INGRESS;
		else if (src_local)
			p->direction = WS_DIR_EGRESS;
		else
			return -1;
	} else if (dst_local) {
		p->direction = WS_DIR_INGRESS;
	} else if (src_local && !(dst && (dst->flags & WS_IPC_POD))) {
		/* to another node's pod: that node's agent reports it */
		p->direction = WS_DIR_EGRESS;
	} else {
		return -1;
	}
	if (src)
		p->src_identity = src->identity;
	if (dst)
		p->dst_identity = dst->identity;
	p->flags = WS_F_KERNEL;
	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		p->ifindex = BPF_CORE_READ(dev, ifindex);
	return 0;
}

#endif

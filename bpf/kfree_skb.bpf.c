// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel drops (tp_btf/kfree_skb) with the kernel's own skb_drop_reason. The tracepoint fires
 * for every namespace on the machine, so a node only reports drops of packets to one of its
 * own endpoints, or from one of them to an address that is not another node's pod.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/flowagg.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* SKB_NOT_DROPPED_YET, SKB_CONSUMED, SKB_DROP_REASON_NOT_SPECIFIED carry no information. */
#define WS_FIRST_REAL_DROP_REASON 3
#define WS_NO_SOCKET 3

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct ws_ipcache_value *src, *dst;
	struct ws_packet_info p = {};
	unsigned char *head;
	__u16 nh;
	struct iphdr ip;
	struct net_device *dev;

	if ((__u32)reason < WS_FIRST_REAL_DROP_REASON || (__u32)reason > 0xffff)
		return 0;
	if (BPF_CORE_READ(skb, protocol) != bpf_htons(ETH_P_IP))
		return 0;
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	if (nh == (__u16)~0U)
		return 0;
	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) < 0 || ip.version != 4)
		return 0;
	__builtin_memcpy(p.saddr, &ip.saddr, 4);
	__builtin_memcpy(p.daddr, &ip.daddr, 4);
	src = ws_ipcache_lookup4(p.saddr);
	dst = ws_ipcache_lookup4(p.daddr);
	if (dst && (dst->flags & WS_IPC_LOCAL)) {
		p.direction = WS_DIR_INGRESS;
	} else if (src && (src->flags & WS_IPC_LOCAL) && !(dst && (dst->flags & WS_IPC_POD))) {
		p.direction = WS_DIR_EGRESS;
	} else {
		return 0;
	}
	/* ICMP echo replies are freed with NO_SOCKET after a ping socket took its copy */
	if (ip.protocol == IPPROTO_ICMP && (__u32)reason == WS_NO_SOCKET)
		return 0;
	p.family = 4;
	p.protocol = ip.protocol;
	p.pkt_len = BPF_CORE_READ(skb, len);
	p.flags = WS_F_KERNEL;
	if (src)
		p.src_identity = src->identity;
	if (dst)
		p.dst_identity = dst->identity;
	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		p.ifindex = BPF_CORE_READ(dev, ifindex);
	if (!(ip.frag_off & bpf_htons(0x1fff))) {
		__u8 l4[14] = {};
		unsigned char *l4p = head + nh + ip.ihl * 4;

		if (bpf_probe_read_kernel(l4, sizeof(l4), l4p) == 0) {
			if (ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP) {
				p.sport = (l4[0] << 8) | l4[1];
				p.dport = (l4[2] << 8) | l4[3];
				if (ip.protocol == IPPROTO_TCP)
					p.tcp_flags = l4[13];
			} else if (ip.protocol == IPPROTO_ICMP) {
				p.icmp_type = l4[0];
				p.icmp_code = l4[1];
			}
		}
	}
	ws_emit_drop(&p, (__u16)reason, 0, (__u64)location);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

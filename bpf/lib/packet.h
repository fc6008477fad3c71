/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_parse_at(skb, l3_off, pkt)  fill a ws_packet_info from the IP header at l3_off
 *                                  (ETH_HLEN on veths and the underlay, 0 on the L3 TUN device);
 *                                  returns the L4 offset, or -1 for non-IP / truncated packets.
 */
#ifndef WIRESCOPE_LIB_PACKET_H
#define WIRESCOPE_LIB_PACKET_H

#include "common.h"
#include "maps.h"

static __always_inline void ws_parse_l4_at(struct __sk_buff *skb, __u32 off, struct ws_packet_info *p)
{
	if (p->protocol == IPPROTO_TCP) {
		__u8 tcp[14];

		if (bpf_skb_load_bytes(skb, off, tcp, sizeof(tcp)) < 0)
			return;
		p->sport = (tcp[0] << 8) | tcp[1];
		p->dport = (tcp[2] << 8) | tcp[3];
		p->tcp_flags = tcp[13];
	} else if (p->protocol == IPPROTO_UDP) {
		__u8 udp[4];

		if (bpf_skb_load_bytes(skb, off, udp, sizeof(udp)) < 0)
			return;
		p->sport = (udp[0] << 8) | udp[1];
		p->dport = (udp[2] << 8) | udp[3];
	} else if (p->protocol == IPPROTO_ICMP || p->protocol == IPPROTO_ICMPV6) {
		__u8 tc[2];

		if (bpf_skb_load_bytes(skb, off, tc, sizeof(tc)) < 0)
			return;
		p->icmp_type = tc[0];
		p->icmp_code = tc[1];
	}
}

static __always_inline int ws_parse_at(struct __sk_buff *skb, __u32 l3_off, struct ws_packet_info *p)
{
	__u32 l4_off;

	p->pkt_len = skb->len;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, l3_off, &ip, sizeof(ip)) < 0)
			return -1;
		p->family = 4;
		p->protocol = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		l4_off = l3_off + ip.ihl * 4;
		if (ip.frag_off & bpf_htons(0x1fff))
			return l4_off; /* later fragment: no L4 header */
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, l3_off, &ip6, sizeof(ip6)) < 0)
			return -1;
		p->family = 6;
		p->protocol = ip6.nexthdr; /* extension headers are not walked here */
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		l4_off = l3_off + sizeof(ip6);
	} else {
		return -1;
	}
	ws_parse_l4_at(skb, l4_off, p);
	return l4_off;
}

/* Identities and peer node from the ipcache (IPv4 only; the lab and the ipcache are IPv4). */
static __always_inline void ws_resolve_identities(struct ws_packet_info *p, struct ws_ipcache_value **src,
						  struct ws_ipcache_value **dst)
{
	*src = 0;
	*dst = 0;
	if (p->family != 4)
		return;
	*src = ws_ipcache_lookup4(p->saddr);
	*dst = ws_ipcache_lookup4(p->daddr);
	if (*src)
		p->src_identity = (*src)->identity;
	if (*dst)
		p->dst_identity = (*dst)->identity;
}

#endif

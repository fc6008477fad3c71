/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_parse_packet(skb, out)  fill addresses, ports, protocol, TCP flags and ICMP type/code
 *                              of an Ethernet IPv4/IPv6 packet into a ws_probe_event;
 *                              returns 0, or -1 for non-IP or truncated packets.
 * Reads through bpf_skb_load_bytes so that non-linear skbs (GSO, veth) parse the same way.
 */
#ifndef WIRESCOPE_LIB_PARSE_H
#define WIRESCOPE_LIB_PARSE_H

#include "common.h"

/* IPv6 extension headers walked before giving up on finding the L4 header. */
#define WS_MAX_IPV6_EXT_HEADERS 4

static __always_inline int ws_parse_l4(struct __sk_buff *skb, __u32 l4_off,
				       struct ws_probe_event *out)
{
	switch (out->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr tcp;

		if (bpf_skb_load_bytes(skb, l4_off, &tcp, sizeof(tcp)) < 0)
			return 0; /* keep the L3 part of a truncated packet */
		out->sport = bpf_ntohs(tcp.source);
		out->dport = bpf_ntohs(tcp.dest);
		/* byte 13 of the header holds CWR..FIN in wire order */
		out->tcp_flags = ((__u8 *)&tcp)[13];
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr udp;

		if (bpf_skb_load_bytes(skb, l4_off, &udp, sizeof(udp)) < 0)
			return 0;
		out->sport = bpf_ntohs(udp.source);
		out->dport = bpf_ntohs(udp.dest);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 type_code[2];

		if (bpf_skb_load_bytes(skb, l4_off, type_code, sizeof(type_code)) < 0)
			return 0;
		out->icmp_type = type_code[0];
		out->icmp_code = type_code[1];
		break;
	}
	}
	return 0;
}

static __always_inline int ws_parse_ipv4(struct __sk_buff *skb, struct ws_probe_event *out)
{
	struct iphdr ip;
	__u32 l4_off;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return -1;
	out->family = 4;
	out->protocol = ip.protocol;
	__builtin_memcpy(out->saddr, &ip.saddr, 4);
	__builtin_memcpy(out->daddr, &ip.daddr, 4);
	/* later fragments carry no L4 header */
	if (ip.frag_off & bpf_htons(0x1fff))
		return 0;
	l4_off = ETH_HLEN + ip.ihl * 4;
	return ws_parse_l4(skb, l4_off, out);
}

static __always_inline int ws_parse_ipv6(struct __sk_buff *skb, struct ws_probe_event *out)
{
	struct ipv6hdr ip6;
	__u32 off = ETH_HLEN + sizeof(struct ipv6hdr);
	__u8 next;
	int i;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
		return -1;
	out->family = 6;
	__builtin_memcpy(out->saddr, &ip6.saddr, 16);
	__builtin_memcpy(out->daddr, &ip6.daddr, 16);
	next = ip6.nexthdr;

#pragma unroll
	for (i = 0; i < WS_MAX_IPV6_EXT_HEADERS; i++) {
		__u8 ext[2];

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)) < 0)
			return 0;
		if (next == IPPROTO_FRAGMENT) {
			__be16 frag_off;

			if (bpf_skb_load_bytes(skb, off + 2, &frag_off, sizeof(frag_off)) < 0)
				return 0;
			next = ext[0];
			off += 8;
			if (frag_off & bpf_htons(0xfff8)) {
				out->protocol = next;
				return 0; /* not the first fragment: no L4 header here */
			}
			continue;
		}
		next = ext[0];
		off += (ext[1] + 1) * 8;
	}
	out->protocol = next;
	return ws_parse_l4(skb, off, out);
}

static __always_inline int ws_parse_packet(struct __sk_buff *skb, struct ws_probe_event *out)
{
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return ws_parse_ipv4(skb, out);
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return ws_parse_ipv6(skb, out);
	return -1;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_parse_at(skb, l3_off, pkt)  fill a ws_packet_info from the IP header at l3_off
 *                                  (ETH_HLEN on veths and the underlay, 0 on the L3 TUN device);
 *                                  returns the L4 offset, or -1 for non-IP / truncated packets.
 *   ws_load(skb, off, to, len)     bpf_skb_load_bytes, by direct packet access when it can
 *   ws_fits_mtu(skb, ifindex)      whether the packet (every segment of a GSO packet) fits the
 *                                  MTU of the L3 device ifindex once its Ethernet header is gone
 *   ws_ident_src(pkt, id), ws_ident_dst(pkt, id)  one side's ipcache entry (looked up once)
 *   ws_ident_resolve(pkt, id)      both identities and the peer node into pkt, before a record
 */
#ifndef WIRESCOPE_LIB_PACKET_H
#define WIRESCOPE_LIB_PACKET_H

#include "common.h"
#include "maps.h"

#define WS_IPV4_MIN_MTU 68

/*
 * len bytes at off, straight from the skb's linear data when they lie in it (the headers of every
 * packet on these devices in practice: the stacks that build them put the headers in the head),
 * else through bpf_skb_load_bytes, which also reads paged data. The helper call per header was
 * most of the parse's cost; the copy of a header is a few loads.
 */
static __always_inline int ws_load(struct __sk_buff *skb, __u32 off, void *to, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (data + off + len <= data_end) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
}

/*
 * Whether an skb from a veth (Ethernet header included) fits the MTU of the L3 device ifindex
 * (the WireGuard device: no link header). A GSO packet is checked segment by segment
 * (BPF_MTU_CHK_SEGS, which takes no length difference: it compares each segment's network
 * length); without that flag bpf_check_mtu passes any GSO packet, and one built with the pod's
 * MTU of 1500 would be segmented above the tunnel's 1420 after the redirect, so that every
 * datagram wireguard-go sent for it was fragmented on the underlay (the first flight of every
 * connection whose path MTU the pod had not learnt yet, or had forgotten after 10 minutes).
 */
static __always_inline bool ws_fits_mtu(struct __sk_buff *skb, __u32 ifindex)
{
	__u32 mtu_len = 0;

	/* no device takes an MTU below IPv4's 68 (tun's MIN_MTU): a pure ACK needs no helper call */
	if (!skb->gso_size && skb->len <= ETH_HLEN + WS_IPV4_MIN_MTU)
		return true;
	if (skb->gso_size)
		return bpf_check_mtu(skb, ifindex, &mtu_len, 0, BPF_MTU_CHK_SEGS) == BPF_MTU_CHK_RET_SUCCESS;
	return bpf_check_mtu(skb, ifindex, &mtu_len, -ETH_HLEN, 0) == BPF_MTU_CHK_RET_SUCCESS;
}

static __always_inline void ws_parse_l4_at(struct __sk_buff *skb, __u32 off, struct ws_packet_info *p)
{
	if (p->protocol == IPPROTO_TCP) {
		__u8 tcp[14];

		if (ws_load(skb, off, tcp, sizeof(tcp)) < 0)
			return;
		p->sport = (tcp[0] << 8) | tcp[1];
		p->dport = (tcp[2] << 8) | tcp[3];
		p->tcp_flags = tcp[13];
	} else if (p->protocol == IPPROTO_UDP) {
		__u8 udp[4];

		if (ws_load(skb, off, udp, sizeof(udp)) < 0)
			return;
		p->sport = (udp[0] << 8) | udp[1];
		p->dport = (udp[2] << 8) | udp[3];
	} else if (p->protocol == IPPROTO_ICMP || p->protocol == IPPROTO_ICMPV6) {
		__u8 tc[2];

		if (ws_load(skb, off, tc, sizeof(tc)) < 0)
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

		if (ws_load(skb, l3_off, &ip, sizeof(ip)) < 0)
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

		if (ws_load(skb, l3_off, &ip6, sizeof(ip6)) < 0)
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

/*
 * Identities and the peer node from the ipcache (IPv4 only; the lab and the ipcache are IPv4),
 * looked up on demand: a packet needs them only for a record (new flow, new TCP flag, periodic
 * report, verdict, drop) or a policy lookup, so most packets of a flow skip both ipcache lookups
 * (each a walk of the LPM trie: 14% of the datapath programs' samples in a perf profile of a bulk
 * transfer, with the lookups' cache misses in the programs' own samples on top). Records
 * carry the same identities as when every packet looked them up.
 */
enum ws_peer_side {
	WS_PEER_NONE = 0,	/* the caller sets peer_node_id itself */
	WS_PEER_SRC = 1,	/* the source's node */
	WS_PEER_DST = 2,	/* the destination's node */
	WS_PEER_REMOTE_POD_SRC = 3, /* the source's node when the source is a pod of another node */
};

struct ws_identities {
	struct ws_ipcache_value *src;
	struct ws_ipcache_value *dst;
	__u8 src_done;
	__u8 dst_done;
	__u8 peer; /* enum ws_peer_side */
};

/* One side's entry, looked up the first time it is asked for; *identity set from it. */
static __always_inline struct ws_ipcache_value *ws_ident_side(const struct ws_packet_info *p, const __u8 *addr,
							       struct ws_ipcache_value **entry, __u8 *done,
							       __u32 *identity)
{
	if (!*done) {
		*done = 1;
		*entry = p->family == 4 ? ws_ipcache_lookup4(addr) : 0;
		if (*entry)
			*identity = (*entry)->identity;
	}
	return *entry;
}

static __always_inline struct ws_ipcache_value *ws_ident_src(struct ws_packet_info *p, struct ws_identities *id)
{
	return ws_ident_side(p, p->saddr, &id->src, &id->src_done, &p->src_identity);
}

static __always_inline struct ws_ipcache_value *ws_ident_dst(struct ws_packet_info *p, struct ws_identities *id)
{
	return ws_ident_side(p, p->daddr, &id->dst, &id->dst_done, &p->dst_identity);
}

/* Both identities and the peer node in p; every record is written after this. */
static __always_inline void ws_ident_resolve(struct ws_packet_info *p, struct ws_identities *id)
{
	struct ws_ipcache_value *src = ws_ident_src(p, id);
	struct ws_ipcache_value *dst = ws_ident_dst(p, id);

	if (id->peer == WS_PEER_SRC && src)
		p->peer_node_id = src->node_id;
	else if (id->peer == WS_PEER_DST && dst)
		p->peer_node_id = dst->node_id;
	else if (id->peer == WS_PEER_REMOTE_POD_SRC && src && (src->flags & WS_IPC_POD) &&
		 !(src->flags & WS_IPC_LOCAL))
		p->peer_node_id = src->node_id;
}

#endif

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * WireGuard device (wireguard-go's TUN: L3, packets start at the IP header). to_crypto at
 * egress sees plaintext about to be encrypted, from_crypto at ingress plaintext just
 * decrypted; both with source and destination identity and the peer node.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/flowagg.h"

static __always_inline int ws_crypto_observe(struct __sk_buff *skb, __u8 point, __u8 direction)
{
	struct ws_identities id = { .peer = direction == WS_DIR_EGRESS ? WS_PEER_DST : WS_PEER_SRC };
	struct ws_packet_info p = {};

	if (ws_parse_at(skb, 0, &p) < 0)
		return TC_ACT_OK;
	p.ifindex = skb->ifindex;
	p.direction = direction;
	p.flags = WS_F_ENCRYPTED;
	ws_flow_observe(&p, point, ws_skb_segs(skb), &id);
	return TC_ACT_OK;
}

SEC("tc")
int to_crypto(struct __sk_buff *skb)
{
	return ws_crypto_observe(skb, WS_TRACE_TO_CRYPTO, WS_DIR_EGRESS);
}

SEC("tc")
int from_crypto(struct __sk_buff *skb)
{
	return ws_crypto_observe(skb, WS_TRACE_FROM_CRYPTO, WS_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

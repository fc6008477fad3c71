/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * WireGuard on the underlay (message format: REFERENCE.md): handshake messages (types 1-3)
 * become WS_EVENT_HANDSHAKE records, transport messages (type 4) are counted per peer.
 *
 * API:
 *   ws_wireguard_observe(skb, pkt, l4_off, direction)  1 when the packet was WireGuard.
 */
#ifndef WIRESCOPE_LIB_WIREGUARD_H
#define WIRESCOPE_LIB_WIREGUARD_H

#include "common.h"
#include "maps.h"
#include "packet.h"
#include "ringbuf.h"

#define WG_INITIATION 1
#define WG_RESPONSE 2
#define WG_COOKIE_REPLY 3
#define WG_TRANSPORT 4

struct ws_peer_traffic_key {
	__u32 peer_ip; /* underlay address of the peer, network order */
	__u32 direction; /* enum ws_direction: EGRESS = sent to the peer */
};

struct ws_peer_traffic_value {
	__u64 packets;
	__u64 bytes; /* UDP payload bytes */
};

/* Per CPU, summed by the agent: every transport packet counts here; one shared counter would
 * bounce between the CPUs on every packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ws_peer_traffic_key);
	__type(value, struct ws_peer_traffic_value);
} ws_peer_traffic SEC(".maps");

static __always_inline int ws_wireguard_observe(struct __sk_buff *skb, const struct ws_packet_info *p,
						__u32 l4_off, __u8 direction)
{
	__u8 msg[12];
	__u32 payload_len, type;
	struct ws_handshake_event *ev;

	if (p->family != 4 || p->protocol != IPPROTO_UDP)
		return 0;
	if (p->sport != cfg_wg_port && p->dport != cfg_wg_port)
		return 0;
	if (skb->len < l4_off + 8 + sizeof(msg))
		return 0;
	payload_len = skb->len - l4_off - 8;
	if (ws_load(skb, l4_off + 8, msg, sizeof(msg)) < 0)
		return 0;
	type = msg[0];
	if (msg[1] || msg[2] || msg[3])
		return 0;
	if (type == WG_TRANSPORT) {
		struct ws_peer_traffic_key key = { .direction = direction };
		struct ws_peer_traffic_value *v, fresh = { .packets = 1, .bytes = payload_len };

		__builtin_memcpy(&key.peer_ip, direction == WS_DIR_EGRESS ? p->daddr : p->saddr, 4);
		v = bpf_map_lookup_elem(&ws_peer_traffic, &key);
		if (v) {
			v->packets += 1; /* this CPU's slot */
			v->bytes += payload_len;
		} else {
			/* the first packet of this peer on this CPU (other CPUs' slots start at zero) */
			bpf_map_update_elem(&ws_peer_traffic, &key, &fresh, BPF_ANY);
		}
		ws_stat_add(WS_STAT_TRANSPORT_PACKETS, 1);
		return 1;
	}
	if (!((type == WG_INITIATION && payload_len == 148) || (type == WG_RESPONSE && payload_len == 92) ||
	      (type == WG_COOKIE_REPLY && payload_len == 64)))
		return 1; /* WireGuard port, but not a well-formed handshake message */
	ev = ws_event_reserve(sizeof(*ev));
	if (!ev)
		return 1;
	__builtin_memset(ev, 0, sizeof(*ev));
	ws_event_header_init(&ev->hdr, WS_EVENT_HANDSHAKE, sizeof(*ev), type);
	__builtin_memcpy(ev->saddr, p->saddr, 4);
	__builtin_memcpy(ev->daddr, p->daddr, 4);
	ev->sport = p->sport;
	ev->dport = p->dport;
	ev->ifindex = skb->ifindex;
	ev->direction = direction;
	if (type == WG_INITIATION) {
		ev->sender_index = *(__u32 *)&msg[4];
	} else if (type == WG_RESPONSE) {
		ev->sender_index = *(__u32 *)&msg[4];
		ev->receiver_index = *(__u32 *)&msg[8];
	} else {
		ev->receiver_index = *(__u32 *)&msg[4];
	}
	ws_event_submit(ev);
	return 1;
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_probe_packet(skb, direction)  emit one WS_EVENT_PROBE record for an IP packet;
 *                                    always lets the packet continue (TC_ACT_UNSPEC).
 * Tunables (set before load): probe_ifindex_filter, probe_family_mask.
 */
#ifndef WIRESCOPE_LIB_PROBE_H
#define WIRESCOPE_LIB_PROBE_H

#include "common.h"
#include "parse.h"
#include "ringbuf.h"

/* Only emit for this interface index; 0 emits for every interface the program is on. */
const volatile __u32 probe_ifindex_filter = 0;
/* Bit 0 emits IPv4 packets, bit 1 IPv6 packets. */
const volatile __u8 probe_family_mask = 3;

static __always_inline int ws_probe_packet(struct __sk_buff *skb, __u8 direction)
{
	struct ws_probe_event *ev;
	__u32 family_bit;

	if (probe_ifindex_filter && skb->ifindex != probe_ifindex_filter)
		return TC_ACT_UNSPEC;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		family_bit = 1;
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		family_bit = 2;
	else
		return TC_ACT_UNSPEC;
	if (!(probe_family_mask & family_bit))
		return TC_ACT_UNSPEC;

	ev = ws_event_reserve(sizeof(*ev));
	if (!ev)
		return TC_ACT_UNSPEC;
	/* ring-buffer memory is not zeroed: clear what parsing may leave unset */
	__builtin_memset(ev, 0, sizeof(*ev));
	if (ws_parse_packet(skb, ev) < 0) {
		bpf_ringbuf_discard(ev, 0);
		return TC_ACT_UNSPEC;
	}
	ws_event_header_init(&ev->hdr, WS_EVENT_PROBE, sizeof(*ev), 0);
	ev->ifindex = skb->ifindex;
	ev->pkt_len = skb->len;
	ev->direction = direction;
	ws_event_submit(ev);
	return TC_ACT_UNSPEC;
}

#endif

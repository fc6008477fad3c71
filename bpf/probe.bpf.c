// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The issue-2 probe: one WS_EVENT_PROBE record per packet on a tc hook (tests and demo). */
#include "lib/probe.h"

SEC("tc")
int probe_ingress(struct __sk_buff *skb)
{
	return ws_probe_packet(skb, WS_DIR_INGRESS);
}

SEC("tc")
int probe_egress(struct __sk_buff *skb)
{
	return ws_probe_packet(skb, WS_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel drops (tp_btf/kfree_skb) with the kernel's own skb_drop_reason. The tracepoint fires
 * for every namespace on the machine: a node reports the drops that happened in its own
 * namespaces (its node netns and its pods', lib/netns.h) to or from one of its endpoints
 * (lib/kdrop.h).
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/flowagg.h"
#include "lib/kdrop.h"
#include <bpf/bpf_tracing.h>

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct ws_packet_info p = {};
	int scope;

	if ((__u32)reason < WS_FIRST_REAL_DROP_REASON || (__u32)reason > 0xffff)
		return 0;
	/*
	 * A tc program's TC_ACT_SHOT: the datapath's own drops (policy, strict encryption), which it
	 * already reported with Cilium's reason; a second, kernel-side record would double them.
	 */
	if ((__u32)reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TC_EGRESS) ||
	    (__u32)reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TC_INGRESS))
		return 0;
	scope = ws_kdrop_scope(skb);
	if (scope < 0)
		return 0;
	if (ws_kdrop_parse(skb, &p) < 0)
		return 0;
	/* ICMP echo replies are freed with NO_SOCKET after a ping socket took its copy */
	if (p.protocol == IPPROTO_ICMP && (__u32)reason == WS_NO_SOCKET)
		return 0;
	if (ws_kdrop_attribute(skb, &p, scope) < 0)
		return 0;
	ws_emit_drop(&p, (__u16)reason, 0, (__u64)location);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Encryption coverage: every cross-node pod packet leaving a local pod is counted by destination
 * node and what happened to it (redirected into WireGuard, sent in clear, dropped by strict
 * mode), so the coverage metric is exact rather than estimated from sampled trace records.
 *
 * API:
 *   ws_coverage_add(node_id, state, skb)  count the skb's wire packets and bytes.
 */
#ifndef WIRESCOPE_LIB_COVERAGE_H
#define WIRESCOPE_LIB_COVERAGE_H

#include "common.h"
#include "flowagg.h"

enum ws_coverage_state {
	WS_COVERAGE_ENCRYPTED = 0,
	WS_COVERAGE_PLAINTEXT = 1,
	WS_COVERAGE_DROPPED = 2,
};

struct ws_coverage_key {
	__u32 node_id; /* destination node (ipcache node id) */
	__u32 state;   /* enum ws_coverage_state */
};

struct ws_coverage_value {
	__u64 packets; /* wire packets: a GSO skb counts its segments */
	__u64 bytes;   /* skb length as the pod sent it (L2 included) */
};

/* Per CPU, summed by the agent: one shared counter would bounce between the CPUs on every packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ws_coverage_key);
	__type(value, struct ws_coverage_value);
} ws_coverage SEC(".maps");

static __always_inline void ws_coverage_add(__u32 node_id, __u32 state, struct __sk_buff *skb)
{
	struct ws_coverage_key key = { .node_id = node_id, .state = state };
	struct ws_coverage_value *v, fresh = { .packets = ws_skb_segs(skb), .bytes = skb->len };

	v = bpf_map_lookup_elem(&ws_coverage, &key);
	if (v) {
		v->packets += fresh.packets; /* this CPU's slot */
		v->bytes += fresh.bytes;
	} else {
		/* the key's first packet on this CPU (other CPUs' slots start at zero) */
		bpf_map_update_elem(&ws_coverage, &key, &fresh, BPF_ANY);
	}
}

#endif

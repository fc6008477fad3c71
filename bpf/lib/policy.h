/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Network policy at the pod's veth (Cilium's design): egress is enforced in from_endpoint,
 * ingress in to_endpoint (after WireGuard decryption, the peer's identity from the inner
 * packet). The agent compiles each local endpoint's rules into ws_policy; layouts are mirrored in
 * packages/policy/src/map-entries.ts.
 *
 *   ws_policy     LPM trie (endpoint, remote identity, direction | protocol, dport prefix) -> entry;
 *                 identity 0 = any peer (L4-only). Endpoint, identity and direction always
 *                 match exactly (72 bits); protocol and port are the prefix.
 *   ws_policy_ep  host-side veth ifindex -> which directions have rules / are default deny, audit
 *   ws_policy_ct  connection tracking: replies of tracked connections pass; a forward packet of
 *                 a tracked connection passes without a lookup while the endpoint's policy
 *                 generation is the one it was allowed under (any change of the endpoint's entries
 *                 makes open connections be looked up again, so a new deny applies to them); the
 *                 verdict record is emitted once per connection
 *
 * API:
 *   ws_policy_enforce(skb, pkt, dir, point, id, flow)  WS_POLICY_PASS or WS_POLICY_DROP (records
 *                                  emitted); identities resolved through id only when needed;
 *                                  flow: the packet's entry at this point (lib/flowagg.h) or NULL
 *
 * A flow's entry remembers the generation it last passed under (and whether as a reply): its
 * next packets under the same generation pass on that, as the CT's would, without the CT's one or
 * two lookups of a 44-byte key (38% of to_endpoint's time per packet, measured by taking the
 * policy out of the program: 418 -> 258 ns per run in a bulk transfer). Any change of the
 * endpoint's entries or flags changes its generation, so every flow is looked up again. (The CT
 * entry of such a flow is no longer touched per packet, so under LRU pressure it may go before
 * the flow's entry does: after a policy change that flow is then looked up as a new connection.)
 */
#ifndef WIRESCOPE_LIB_POLICY_H
#define WIRESCOPE_LIB_POLICY_H

#include "common.h"
#include "maps.h"
#include "flowagg.h"

#define WS_POLICY_FULL_PREFIX 96
#define WS_POLICY_DENY_PRECEDENCE 0xffffffff
#define WS_IDENTITY_WORLD 2

enum { WS_POLICY_PASS = 0, WS_POLICY_DROP = 1 };

enum ws_policy_ep_flag {
	WS_PEP_INGRESS_ACTIVE = 0x1,
	WS_PEP_EGRESS_ACTIVE = 0x2,
	WS_PEP_INGRESS_ENFORCED = 0x4,
	WS_PEP_EGRESS_ENFORCED = 0x8,
	WS_PEP_AUDIT = 0x10,
	WS_PEP_REQUIRE_ENCRYPTION = 0x20, /* cross-node traffic to it must come out of WireGuard */
};

struct ws_policy_key {
	__u32 prefixlen;
	__u32 endpoint; /* host-side veth ifindex */
	__u32 identity; /* remote identity; 0 = any */
	__u8 egress;
	__u8 protocol; /* 0 = any (then dport is wildcarded too) */
	__be16 dport;
};

struct ws_policy_value {
	__u32 precedence; /* higher wins: deny = WS_POLICY_DENY_PRECEDENCE */
	__u32 cookie;	  /* attribution, resolved by the agent */
	__u8 deny;
	__u8 prefix_len; /* protocol + port bits of the entry: 0, 8, 8..24 */
	__u8 pad[2];
};

struct ws_policy_ep {
	__u32 flags;	  /* enum ws_policy_ep_flag */
	__u32 generation; /* changes whenever the endpoint's entries or flags change */
};

struct ws_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 protocol;
	__u8 pad[3];
	__u32 endpoint;
};

struct ws_ct_value {
	__u64 created_ns;
	__u8 direction; /* enum ws_direction of the connection's first packet at the endpoint */
	__u8 audited;
	__u8 pad[2];
	__u32 generation; /* ws_policy_ep.generation it was last allowed under; 0: never looked up */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ws_policy_key);
	__type(value, struct ws_policy_value);
} ws_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ws_policy_ep);
} ws_policy_ep SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ws_ct_key);
	__type(value, struct ws_ct_value);
} ws_policy_ct SEC(".maps");

static __always_inline struct ws_policy_value *ws_policy_lookup(__u32 ep, __u32 identity, __u8 egress,
								 __u8 protocol, __u16 dport)
{
	struct ws_policy_key key = {
		.prefixlen = WS_POLICY_FULL_PREFIX,
		.endpoint = ep,
		.identity = identity,
		.egress = egress,
		.protocol = protocol,
		.dport = bpf_htons(dport),
	};

	return bpf_map_lookup_elem(&ws_policy, &key);
}

/* Cilium's __policy_can_access: the peer's entry, else (or when weaker) the L4-only one. */
static __always_inline struct ws_policy_value *ws_policy_decide(const struct ws_packet_info *p, __u32 ep,
								 __u32 remote, __u8 egress, __u8 *match)
{
	struct ws_policy_value *l3, *l4;

	l3 = ws_policy_lookup(ep, remote, egress, p->protocol, p->dport);
	if (l3 && l3->precedence == WS_POLICY_DENY_PRECEDENCE) {
		*match = l3->prefix_len > 8 ? WS_MATCH_L3_L4 : l3->prefix_len ? WS_MATCH_L3_PROTO : WS_MATCH_L3_ONLY;
		return l3;
	}
	l4 = ws_policy_lookup(ep, 0, egress, p->protocol, p->dport);
	if (l4 && (!l3 || l4->precedence > l3->precedence ||
		   (l4->precedence == l3->precedence && l4->prefix_len > l3->prefix_len))) {
		*match = !l4->prefix_len ? WS_MATCH_ALL : l4->prefix_len <= 8 ? WS_MATCH_PROTO_ONLY : WS_MATCH_L4_ONLY;
		return l4;
	}
	if (l3) {
		*match = l3->prefix_len > 8 ? WS_MATCH_L3_L4 : l3->prefix_len ? WS_MATCH_L3_PROTO : WS_MATCH_L3_ONLY;
		return l3;
	}
	*match = WS_MATCH_NONE;
	return 0;
}

static __always_inline void ws_emit_policy_verdict(const struct ws_packet_info *p, __u8 point, __u32 remote,
						   __u32 cookie, __u16 reason, __u8 match, __u8 audited)
{
	struct ws_policy_verdict_event *ev = ws_event_reserve(sizeof(*ev));

	if (!ev)
		return;
	ws_event_header_init(&ev->hdr, WS_EVENT_POLICY_VERDICT, sizeof(*ev), point);
	__builtin_memcpy(&ev->pkt, p, sizeof(*p));
	ev->remote_identity = remote;
	ev->cookie = cookie;
	ev->drop_reason = reason;
	ev->match_type = match;
	ev->audited = audited;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	ws_event_submit(ev);
}

static __always_inline void ws_ct_fill(struct ws_ct_key *key, const struct ws_packet_info *p, __u32 ep, int reverse)
{
	__builtin_memcpy(key->saddr, reverse ? p->daddr : p->saddr, 16);
	__builtin_memcpy(key->daddr, reverse ? p->saddr : p->daddr, 16);
	key->sport = reverse ? p->dport : p->sport;
	key->dport = reverse ? p->sport : p->dport;
	key->protocol = p->protocol;
	key->endpoint = ep;
}

static __always_inline void ws_ct_create(const struct ws_ct_key *key, __u8 direction, __u8 audited,
					 __u32 generation)
{
	struct ws_ct_value v = {
		.created_ns = bpf_ktime_get_ns(),
		.direction = direction,
		.audited = audited,
		.generation = generation,
	};

	bpf_map_update_elem(&ws_policy_ct, key, &v, BPF_ANY);
}

/* What the flow's next packets pass on while the endpoint's generation stays (written once). */
static __always_inline int ws_policy_pass_remembered(struct ws_flow_value *flow, __u32 generation, __u8 reply)
{
	if (flow && (flow->policy_generation != generation || flow->policy_reply != reply)) {
		flow->policy_reply = reply;
		flow->policy_generation = generation;
	}
	return WS_POLICY_PASS;
}

static __always_inline int ws_policy_drop(const struct ws_packet_info *p, __u8 point, __u16 reason)
{
	ws_stat_add(WS_STAT_POLICY_DROPS, 1);
	ws_emit_drop(p, reason, point, 0);
	return WS_POLICY_DROP;
}

/*
 * skb: the packet at the endpoint's veth (from_endpoint: dir egress; to_endpoint: dir ingress);
 * pkt: parsed; its identities are resolved (id) only for a lookup or a record: a packet of a
 * connection the CT already allowed needs neither.
 */
static __always_inline int ws_policy_enforce(struct __sk_buff *skb, struct ws_packet_info *p, __u8 dir,
					     __u8 point, struct ws_identities *id, struct ws_flow_value *flow)
{
	__u32 ep = skb->ifindex;
	struct ws_policy_ep *cfg = bpf_map_lookup_elem(&ws_policy_ep, &ep);
	struct ws_ct_key key = {}, rev = {};
	struct ws_policy_value *entry;
	struct ws_ct_value *ct = 0;
	__u8 egress = dir == WS_DIR_EGRESS;
	__u8 match = WS_MATCH_NONE;
	__u32 remote, flags;
	__u16 reason;
	bool remembered;

	if (!cfg)
		return WS_POLICY_PASS;
	flags = cfg->flags;
	/* the generation is never 0 (packages/policy map-entries.ts), a new entry's is */
	remembered = flow && flow->policy_generation == cfg->generation;
	/* a reply: before the encryption demand, as the CT's reverse entry below */
	if (remembered && flow->policy_reply)
		return WS_POLICY_PASS;
	if (!remembered) {
		ws_ct_fill(&key, p, ep, 0);
		ct = bpf_map_lookup_elem(&ws_policy_ct, &key);
		if (!ct) {
			ws_ct_fill(&rev, p, ep, 1);
			if (bpf_map_lookup_elem(&ws_policy_ct, &rev)) /* a reply of a tracked connection */
				return ws_policy_pass_remembered(flow, cfg->generation, 1);
		}
	}
	/*
	 * A policy demanding encryption: cross-node pod traffic to the endpoint must have come out of
	 * the WireGuard device (same-node traffic never leaves the node, and is never encrypted).
	 */
	if (!egress && (flags & WS_PEP_REQUIRE_ENCRYPTION) && cfg_wg_ifindex &&
	    skb->ingress_ifindex != cfg_wg_ifindex) {
		struct ws_ipcache_value *src = ws_ident_src(p, id);

		if (src && (src->flags & WS_IPC_POD) && !(src->flags & WS_IPC_LOCAL)) {
			/* a verdict record too: its flow names the policy that demanded encryption */
			ws_ident_resolve(p, id);
			ws_emit_policy_verdict(p, point, p->src_identity, 0, WS_DROP_UNENCRYPTED_TRAFFIC, WS_MATCH_NONE, 0);
			return ws_policy_drop(p, point, WS_DROP_UNENCRYPTED_TRAFFIC);
		}
	}
	/* passed under this very policy (a forward packet): the verdict stands */
	if (remembered)
		return WS_POLICY_PASS;
	if (!(flags & (egress ? WS_PEP_EGRESS_ACTIVE : WS_PEP_INGRESS_ACTIVE))) {
		if (!ct)
			ws_ct_create(&key, dir, 0, 0); /* so that its replies pass the other direction */
		return ws_policy_pass_remembered(flow, cfg->generation, 0);
	}
	/* allowed under this very policy: the verdict stands (no lookup per packet) */
	if (ct && cfg->generation && ct->generation == cfg->generation && !ct->audited)
		return ws_policy_pass_remembered(flow, cfg->generation, 0);
	ws_ident_resolve(p, id);
	remote = egress ? p->dst_identity : p->src_identity;
	if (!remote)
		remote = WS_IDENTITY_WORLD;
	entry = ws_policy_decide(p, ep, remote, egress, &match);
	if (entry && !entry->deny) {
		if (ct) {
			ct->generation = cfg->generation;
		} else {
			ws_ct_create(&key, dir, 0, cfg->generation);
			if (flags & (egress ? WS_PEP_EGRESS_ENFORCED : WS_PEP_INGRESS_ENFORCED))
				ws_emit_policy_verdict(p, point, remote, entry->cookie, 0, match, 0);
		}
		return ws_policy_pass_remembered(flow, cfg->generation, 0);
	}
	reason = entry ? WS_DROP_POLICY_DENY : WS_DROP_POLICY_DENIED;
	if (flags & WS_PEP_AUDIT) {
		if (!ct) {
			ws_ct_create(&key, dir, 1, 0);
			ws_emit_policy_verdict(p, point, remote, entry ? entry->cookie : 0, reason, match, 1);
		}
		return WS_POLICY_PASS;
	}
	ws_emit_policy_verdict(p, point, remote, entry ? entry->cookie : 0, reason, match, 0);
	return ws_policy_drop(p, point, reason);
}

#endif

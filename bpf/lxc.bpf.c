// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pod host-side veth (lxc…). from_endpoint at tc ingress (packets leaving the pod): ARP
 * answers, ipcache lookup, cross-node pod traffic steered into the WireGuard device (or
 * dropped in strict mode when the destination node has no peer), everything else follows the
 * stack. to_endpoint at tc egress (packets delivered to the pod): trace. Both enforce network
 * policy first (lib/policy.h): from_endpoint the pod's egress, to_endpoint its ingress.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/flowagg.h"
#include "lib/arp.h"
#include "lib/coverage.h"
#include "lib/policy.h"
#include "lib/steering.h"

#define TC_ACT_SHOT 2

SEC("tc")
int from_endpoint(struct __sk_buff *skb)
{
	struct ws_identities id = { .peer = WS_PEER_NONE }; /* peer_node_id: the steering's node */
	struct ws_ipcache_value *dst;
	struct ws_packet_info p = {};
	struct ws_flow_ref flow;

	if (skb->protocol == bpf_htons(ETH_P_ARP))
		return ws_arp_respond(skb);
	if (ws_parse_at(skb, ETH_HLEN, &p) < 0)
		return TC_ACT_OK;
	p.ifindex = skb->ifindex;
	p.direction = WS_DIR_EGRESS;
	dst = ws_ident_dst(&p, &id); /* steering needs it for every packet; the source only for records */
	ws_flow_find(&p, WS_TRACE_FROM_ENDPOINT, &flow); /* one lookup for the policy and the accounting */
	if (ws_policy_enforce(skb, &p, WS_DIR_EGRESS, WS_TRACE_FROM_ENDPOINT, &id, flow.flow) == WS_POLICY_DROP)
		return TC_ACT_SHOT;
	if (dst && (dst->flags & WS_IPC_POD) && !(dst->flags & WS_IPC_LOCAL) && dst->node_id &&
	    dst->node_id != cfg_node_id) {
		__u32 node = dst->node_id;

		p.peer_node_id = node;
		if (cfg_wg_ifindex && bpf_map_lookup_elem(&ws_peers, &node)) {
			/*
			 * Too big for the WireGuard device (pod MTU above the tunnel's): hand it to
			 * the stack, whose forwarding path answers with ICMP fragmentation-needed, so
			 * the pod learns the path MTU.
			 */
			if (!ws_fits_mtu(skb, cfg_wg_ifindex)) {
				ws_flow_account(&p, ws_skb_segs(skb), &id, &flow);
				return TC_ACT_OK;
			}
			p.flags |= WS_F_ENCRYPTED | WS_F_REDIRECTED;
			ws_coverage_add(node, WS_COVERAGE_ENCRYPTED, skb);
			ws_flow_account(&p, ws_skb_segs(skb), &id, &flow);
			ws_stat_add(WS_STAT_REDIRECTS, 1);
			return ws_steer_to_wireguard(skb);
		}
		if (ws_config_get(WS_CONFIG_STRICT)) {
			ws_coverage_add(node, WS_COVERAGE_DROPPED, skb);
			ws_stat_add(WS_STAT_STRICT_DROPS, 1);
			ws_ident_resolve(&p, &id);
			ws_emit_drop(&p, WS_DROP_UNENCRYPTED_TRAFFIC, WS_TRACE_FROM_ENDPOINT, 0);
			return TC_ACT_SHOT;
		}
		/* no peer for that node: it leaves in clear, whichever route the stack takes */
		ws_coverage_add(node, WS_COVERAGE_PLAINTEXT, skb);
	}
	ws_flow_account(&p, ws_skb_segs(skb), &id, &flow);
	return TC_ACT_OK;
}

SEC("tc")
int to_endpoint(struct __sk_buff *skb)
{
	struct ws_identities id = { .peer = WS_PEER_REMOTE_POD_SRC };
	struct ws_packet_info p = {};
	struct ws_flow_ref flow;

	if (ws_parse_at(skb, ETH_HLEN, &p) < 0)
		return TC_ACT_OK;
	p.ifindex = skb->ifindex;
	p.direction = WS_DIR_INGRESS;
	ws_flow_find(&p, WS_TRACE_TO_ENDPOINT, &flow);
	if (ws_policy_enforce(skb, &p, WS_DIR_INGRESS, WS_TRACE_TO_ENDPOINT, &id, flow.flow) == WS_POLICY_DROP)
		return TC_ACT_SHOT;
	ws_flow_account(&p, ws_skb_segs(skb), &id, &flow);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

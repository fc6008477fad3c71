/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which node a packet is on, when several nodes share one kernel (the lab: every node and pod is
 * a network namespace of the same machine). A node's namespaces are its own (the agent's) and
 * those of its local pods; the agent keeps their inode numbers in ws_local_netns.
 *
 * API:
 *   ws_skb_netns(skb)         inode of the network namespace the skb is in: its device's, else
 *                             its socket's; 0 when it has neither
 *   ws_netns_is_local(inum)   1 when inum is one of this node's namespaces
 */
#ifndef WIRESCOPE_LIB_NETNS_H
#define WIRESCOPE_LIB_NETNS_H

#include "common.h"
#include <bpf/bpf_core_read.h>

/* Network namespace inode (ns.inum, as stat() of /proc/<pid>/ns/net gives) -> 1 for this node's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} ws_local_netns SEC(".maps");

static __always_inline __u32 ws_skb_netns(struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk;
	__u32 inum = 0;

	if (dev)
		inum = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	if (inum)
		return inum;
	sk = BPF_CORE_READ(skb, sk);
	if (sk)
		inum = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return inum;
}

static __always_inline int ws_netns_is_local(__u32 inum)
{
	return bpf_map_lookup_elem(&ws_local_netns, &inum) != 0;
}

#endif

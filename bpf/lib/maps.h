/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps the agent keeps in sync from the cluster store, and the datapath's configuration.
 * Layouts are mirrored in apps/agent/src/datapath/maps.ts (host byte order except addresses).
 *
 *   ws_ipcache    LPM trie: IPv4 address/prefix -> identity, node id, tunnel endpoint, flags
 *   ws_endpoints  host-side veth ifindex -> the local pod behind it (MAC of the veth for ARP)
 *   ws_peers      node id -> 1 when this node's WireGuard device has a peer for that node
 *   ws_stats      per-CPU counters (enum ws_stat)
 *   ws_config     settings the agent may change at run time (enum ws_config_slot)
 * Every object has its own copy of these maps; the agent writes the same content to each.
 */
#ifndef WIRESCOPE_LIB_MAPS_H
#define WIRESCOPE_LIB_MAPS_H

#include "common.h"

/* Set by the agent before load. */
const volatile __u32 cfg_node_id = 0;	  /* this node's id in the ipcache */
const volatile __u32 cfg_wg_ifindex = 0;  /* WireGuard device; 0 disables redirects */
const volatile __u32 cfg_wg_port = 51871; /* UDP port WireGuard listens on (underlay parsing) */
const volatile __u64 cfg_aggregation_ns = 5000000000ULL; /* periodic trace interval per flow */

enum ws_ipcache_flag {
	WS_IPC_POD = 0x1,   /* a pod address or pod CIDR */
	WS_IPC_LOCAL = 0x2, /* an endpoint on this node */
	WS_IPC_NODE = 0x4,  /* a node's underlay address */
};

struct ws_ipcache_key {
	__u32 prefixlen; /* LPM: bits of addr that count */
	__u8 addr[4];
};

struct ws_ipcache_value {
	__u32 identity;
	__u32 node_id;	 /* node that hosts the address (0: outside the cluster) */
	__u32 tunnel_ip; /* that node's underlay address, network order */
	__u32 ifindex;	 /* WS_IPC_LOCAL: host-side veth of the endpoint */
	__u32 flags;	 /* enum ws_ipcache_flag */
	__u32 pad;
};

struct ws_endpoint_value {
	__u8 mac[6]; /* of the host-side veth: the answer to every ARP request of the pod */
	__u16 pad;
	__u32 identity;
	__u32 ip; /* network order */
	__u32 pad2;
};

enum ws_config_slot {
	WS_CONFIG_STRICT = 0, /* 1: drop cross-node pod traffic that has no WireGuard peer (195) */
	WS_CONFIG_NETNS_SCOPE = 1, /* 1: kernel drops only from this node's namespaces (lib/netns.h) */
	WS_CONFIG_SLOTS = 4,
};

enum ws_stat {
	WS_STAT_LEAK_PACKETS = 0,
	WS_STAT_REDIRECTS = 1,
	WS_STAT_STRICT_DROPS = 2,
	WS_STAT_FLOWS_CREATED = 3,
	WS_STAT_TRACES = 4,
	WS_STAT_ARP_REPLIES = 5,
	WS_STAT_TRANSPORT_PACKETS = 6,
	WS_STAT_POLICY_DROPS = 7, /* dropped by policy (133, 181) or a policy's encryption demand (195) */
	WS_STAT_SLOTS = 8,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ws_ipcache_key);
	__type(value, struct ws_ipcache_value);
} ws_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ws_endpoint_value);
} ws_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} ws_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WS_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} ws_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WS_CONFIG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} ws_config SEC(".maps");

static __always_inline __u32 ws_config_get(__u32 slot)
{
	__u32 *v = bpf_map_lookup_elem(&ws_config, &slot);

	return v ? *v : 0;
}

static __always_inline void ws_stat_add(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&ws_stats, &slot);

	if (v)
		*v += n; /* per-CPU slot */
}

static __always_inline struct ws_ipcache_value *ws_ipcache_lookup4(const __u8 *addr)
{
	struct ws_ipcache_key key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, addr, 4);
	return bpf_map_lookup_elem(&ws_ipcache, &key);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Steering into WireGuard by mark (Cilium's MARK_MAGIC_ENCRYPT under its magic mask): the packet
 * keeps its way through the stack, and the agent's rule `fwmark 0xe00/0xf00 lookup 201`
 * (apps/agent/src/datapath/mark-steering.ts, priority 1, before the main table) forwards it into
 * the WireGuard device whatever the main table says; table 201 refuses it while that device is gone.
 * bpf_redirect into the same device cost 6% of a bulk transfer's throughput on bench:datapath
 * (redirect-only programs 0.940, empty programs 1.013): the forwarding path orphans the sender's
 * skb at ip_rcv, a redirected one keeps the pod's socket through the device's queue.
 *
 * API:
 *   ws_steer_to_wireguard(skb)  mark the packet for table 201; returns the tc verdict.
 */
#ifndef WIRESCOPE_LIB_STEERING_H
#define WIRESCOPE_LIB_STEERING_H

#include "common.h"

/* an enum, not #defines: abi.bpf.c puts it in BTF, where the agent's test compares its constants */
enum ws_steering_mark {
	WS_MARK_ENCRYPT = 0x0e00,
	WS_MARK_MAGIC_MASK = 0x0f00,
};

static __always_inline int ws_steer_to_wireguard(struct __sk_buff *skb)
{
	skb->mark = (skb->mark & ~WS_MARK_MAGIC_MASK) | WS_MARK_ENCRYPT;
	return TC_ACT_OK;
}

#endif

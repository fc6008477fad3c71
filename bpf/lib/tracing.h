/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_count_hit(slot)  add one to `hits[slot]` (enum ws_hit_slot) for the traced process.
 * Lets tests prove that a tracing program is attached and running.
 */
#ifndef WIRESCOPE_LIB_TRACING_H
#define WIRESCOPE_LIB_TRACING_H

#include "common.h"

enum ws_hit_slot {
	WS_HIT_TP_BTF = 0,
	WS_HIT_RAW_TP = 1,
	WS_HIT_FENTRY = 2,
	WS_HIT_FEXIT = 3,
	WS_HIT_TRACEPOINT = 4,
	WS_HIT_SLOTS = 8,
};

/* Hit counters for the test tracing programs, one slot per program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WS_HIT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* Scratch hash map for the addon's map tests (lookup/update/delete/iterate/pin). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} test_kv SEC(".maps");

/* Only count events of this process (0 counts every process). */
const volatile __u32 trace_tgid = 0;

static __always_inline void ws_count_hit(__u32 slot)
{
	__u64 *count;

	if (trace_tgid && (bpf_get_current_pid_tgid() >> 32) != trace_tgid)
		return;
	count = bpf_map_lookup_elem(&hits, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_event_reserve(size)              reserve a record or count it lost on this CPU
 *   ws_event_header_init(hdr, type, len, subtype)  fill the common header
 *   ws_event_submit(rec)                publish a reserved record
 * Userspace reads `events` and sums `lost_events` across CPUs for lost-record figures.
 */
#ifndef WIRESCOPE_LIB_RINGBUF_H
#define WIRESCOPE_LIB_RINGBUF_H

#include "common.h"

/* Records for userspace, each starting with struct ws_event_header. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Per-CPU count of records dropped because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

static __always_inline void ws_count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&lost_events, &zero);

	if (lost)
		*lost += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void *ws_event_reserve(__u32 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec)
		ws_count_lost();
	return rec;
}

static __always_inline void ws_event_header_init(struct ws_event_header *hdr, __u8 type,
						 __u16 len, __u16 subtype)
{
	hdr->magic = WS_EVENT_MAGIC;
	hdr->version = WS_EVENT_VERSION;
	hdr->type = type;
	hdr->len = len;
	hdr->subtype = subtype;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->reserved = 0;
	hdr->ktime_ns = bpf_ktime_get_ns();
}

static __always_inline void ws_event_submit(void *rec)
{
	bpf_ringbuf_submit(rec, 0);
}

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_bench_emit()  emit bench_records_per_run WS_EVENT_BENCH records with rising seq.
 * Driven by BPF_PROG_TEST_RUN with a large repeat count to fill the ring buffer fast.
 */
#ifndef WIRESCOPE_LIB_BENCH_H
#define WIRESCOPE_LIB_BENCH_H

#include "common.h"
#include "ringbuf.h"

/* Records emitted per program run (bounded by the loop limit below). */
const volatile __u32 bench_records_per_run = 64;

#define WS_BENCH_MAX_RECORDS_PER_RUN 1024

/* Next sequence number; one slot, written only by the test-run CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_seq SEC(".maps");

static __always_inline int ws_bench_emit(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&bench_seq, &zero);
	__u32 i;

	if (!seq)
		return TC_ACT_OK;
	for (i = 0; i < WS_BENCH_MAX_RECORDS_PER_RUN && i < bench_records_per_run; i++) {
		struct ws_bench_event *ev = ws_event_reserve(sizeof(*ev));

		if (!ev)
			continue;
		ws_event_header_init(&ev->hdr, WS_EVENT_BENCH, sizeof(*ev), 0);
		ev->seq = *seq + i;
		ws_event_submit(ev);
	}
	*seq += i;
	return TC_ACT_OK;
}

#endif

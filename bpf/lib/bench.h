/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * API:
 *   ws_bench_emit()  emit bench_records_per_run WS_EVENT_BENCH records with rising seq.
 * Driven by BPF_PROG_TEST_RUN with a large repeat count to fill the ring buffer fast;
 * bpf_loop keeps verification cost independent of the record count.
 */
#ifndef WIRESCOPE_LIB_BENCH_H
#define WIRESCOPE_LIB_BENCH_H

#include "common.h"
#include "ringbuf.h"

/* Records emitted per program run. */
const volatile __u32 bench_records_per_run = 64;

/* Next sequence number; one slot, written only by the test-run CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_seq SEC(".maps");

static long ws_bench_emit_one(__u32 index, void *ctx)
{
	__u64 *seq = ctx;
	struct ws_bench_event *ev = ws_event_reserve(sizeof(*ev));

	if (!ev)
		return 0; /* counted lost; keep going so the count of attempts stays exact */
	ws_event_header_init(&ev->hdr, WS_EVENT_BENCH, sizeof(*ev), 0);
	ev->seq = *seq + index;
	ws_event_submit(ev);
	return 0;
}

static __always_inline int ws_bench_emit(void)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&bench_seq, &zero);
	__u64 seq;

	if (!slot)
		return TC_ACT_OK;
	seq = *slot;
	bpf_loop(bench_records_per_run, ws_bench_emit_one, &seq, 0);
	*slot = seq + bench_records_per_run;
	return TC_ACT_OK;
}

#endif

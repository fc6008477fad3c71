// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Ring-buffer benchmark filler for bench/ringbuf.ts, run through BPF_PROG_TEST_RUN. */
#include "lib/bench.h"

SEC("tc")
int bench_fill(struct __sk_buff *skb)
{
	return ws_bench_emit();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

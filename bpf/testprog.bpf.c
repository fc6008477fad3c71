// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tracing programs for the addon's attach tests: each counts umask(2) calls of the test
 * process (trace_tgid) in its own `hits` slot. fentry/fexit need ftrace trampolines, which
 * some kernels lack, so they (and the verifier-reject case) are "?" sections: not loaded
 * unless a test turns their autoload on.
 */
#include "lib/tracing.h"
#include <bpf/bpf_tracing.h>

#define NR_UMASK_X86_64 95

SEC("tp_btf/sys_enter")
int BPF_PROG(count_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_UMASK_X86_64)
		ws_count_hit(WS_HIT_TP_BTF);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(count_raw_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_UMASK_X86_64)
		ws_count_hit(WS_HIT_RAW_TP);
	return 0;
}

SEC("?fentry/__x64_sys_umask")
int BPF_PROG(count_umask_entry)
{
	ws_count_hit(WS_HIT_FENTRY);
	return 0;
}

SEC("?fexit/__x64_sys_umask")
int BPF_PROG(count_umask_exit)
{
	ws_count_hit(WS_HIT_FEXIT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_umask")
int count_umask_tracepoint(void *ctx)
{
	ws_count_hit(WS_HIT_TRACEPOINT);
	return 0;
}

/* Rejected by the verifier (packet read without a bounds check): tests the load error path. */
SEC("?tc")
int rejected_by_verifier(struct __sk_buff *skb)
{
	return *(__u8 *)(long)skb->data;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

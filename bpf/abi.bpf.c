// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Not loaded by anything: one global of every struct in events.h, so that this object's BTF
 * describes them all (programs only carry BTF for types that reach a map or a signature).
 * packages/events' layout test compares its decoder table with this BTF, as Cilium's
 * alignchecker does with bpf_alignchecker.c.
 */
#include "lib/common.h"

struct ws_event_header ws_abi_event_header;
struct ws_probe_event ws_abi_probe_event;
struct ws_bench_event ws_abi_bench_event;
enum ws_event_type ws_abi_event_type;
enum ws_direction ws_abi_direction;
enum ws_tcp_flag ws_abi_tcp_flag;

char LICENSE[] SEC("license") = "Dual BSD/GPL";

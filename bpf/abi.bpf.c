// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Not loaded by anything: one global of every struct in events.h, so that this object's BTF
 * describes them all (programs only carry BTF for types that reach a map or a signature).
 * packages/events' layout test compares its decoder table with this BTF, as Cilium's
 * alignchecker does with bpf_alignchecker.c.
 */
#include "lib/common.h"
#include "lib/steering.h"

struct ws_event_header ws_abi_event_header;
struct ws_probe_event ws_abi_probe_event;
struct ws_bench_event ws_abi_bench_event;
struct ws_packet_info ws_abi_packet_info;
struct ws_trace_event ws_abi_trace_event;
struct ws_drop_event ws_abi_drop_event;
struct ws_handshake_event ws_abi_handshake_event;
struct ws_policy_verdict_event ws_abi_policy_verdict_event;
enum ws_event_type ws_abi_event_type;
enum ws_direction ws_abi_direction;
enum ws_tcp_flag ws_abi_tcp_flag;
enum ws_trace_point ws_abi_trace_point;
enum ws_trace_reason ws_abi_trace_reason;
enum ws_trace_flag ws_abi_trace_flag;
enum ws_drop_reason ws_abi_drop_reason;
enum ws_policy_match ws_abi_policy_match;
enum ws_steering_mark ws_abi_steering_mark;

char LICENSE[] SEC("license") = "Dual BSD/GPL";

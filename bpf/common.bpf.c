// SPDX-License-Identifier: GPL-2.0-only
/* The maps and filters every subcommand shares; declared in tcptrace.bpf.h. */
#include "tcptrace.bpf.h"

struct events_map events SEC(".maps");
struct event_slots_map event_slots SEC(".maps");
struct counters_map counters SEC(".maps");
struct filter_ports_map filter_ports SEC(".maps");
struct filter_cgroup_map filter_cgroup SEC(".maps");

const volatile __u32 filter_tgid = 0;
const volatile bool filter_ports_enabled = false;
const volatile __u32 filter_uid = FILTER_UID_ANY;
const volatile bool filter_cgroup_enabled = false;
const volatile __u16 filter_family = 0;
const volatile __u32 filter_netns = 0;
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile bool use_perf_buffer = false;

char LICENSE[] SEC("license") = "GPL";

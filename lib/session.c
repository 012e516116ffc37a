// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* vasprintf() */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/types.h>
#include "../bpf/event.h"
#include "tcptrace.skel.h"
#include "array.h"
#include "kernel.h"
#include "loadlog.h"
#include "perfbuf.h"
#include "probes.h"
#include "programs.h"
#include "session.h"

/* An LRU map keeps up to this many free entries per CPU (kernel/bpf/bpf_lru_list.h). */
#define LRU_LOCAL_FREE_TARGET 128

static int fail_kind(struct failure *failure, enum failure_kind kind, int err)
{
	failure->kind = kind;
	return err;
}

static int fail(struct failure *failure, const char *action, const char *object, int err)
{
	failure_step(failure, action, object);
	return err;
}

/* The same, for libbpf's own steps: it says more about those under -v. */
static int fail_libbpf(struct failure *failure, const char *action, const char *object, int err)
{
	failure->from_libbpf = true;
	return fail(failure, action, object, err);
}

/* libbpf's print callback has no context: -v, and what the load under way lacked. */
static bool libbpf_verbose;
static struct load_lack load_lack;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && !load_lack.what[0] && !load_lack.map[0]) {
		va_list copy;
		char *text;

		va_copy(copy, args);
		if (vasprintf(&text, fmt, copy) >= 0) {
			load_lack_scan(text, &load_lack);
			free(text);
		}
		va_end(copy);
	}
	return libbpf_verbose ? vfprintf(stderr, fmt, args) : 0;
}

/*
 * A failed load, named by what the kernel lacked where libbpf's warnings said so. A
 * map that failed to be created is one whose type the kernel lacks only if probing
 * the type says so: it may have failed for memory.
 */
static int fail_load(struct session *session, struct failure *failure, int err)
{
	const struct bpf_map *map =
		load_lack.map[0] ? bpf_object__find_map_by_name(session->skel->obj, load_lack.map)
				 : NULL;

	if (map && libbpf_probe_bpf_map_type(bpf_map__type(map), NULL) == 0) {
		snprintf(load_lack.what, sizeof(load_lack.what), "the BPF map type %s",
			 libbpf_bpf_map_type_str(bpf_map__type(map)));
		load_lack.since = load_lack_map_since(bpf_map__type(map));
	}
	if (!load_lack.what[0])
		return fail_libbpf(failure, "load", "the BPF programs", err);
	failure_step(failure, "load", load_lack.what);
	failure->kind = FAILURE_KERNEL_LACKS;
	failure->since = load_lack.since;
	failure->from_libbpf = true;
	return err;
}

/*
 * What the kernel must offer before anything is loaded, so failures come with advice.
 * Features are probed, not inferred from the version: distributions backport them.
 */
static int check_kernel(const struct trace_config *config, struct session *session,
			struct failure *failure)
{
	int err;

	if (!config->btf_path && access(KERNEL_BTF, R_OK))
		return fail_kind(failure, FAILURE_NO_BTF, -errno);
	err = kernel_check_privileges();
	if (err)
		return fail_kind(failure, FAILURE_PRIVILEGES, err);
	/* Before 5.8, the events go through a perf buffer instead (lib/perfbuf.h). */
	session->perf_buffer = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 0;
	return 0;
}

/*
 * Classic tracepoints are attached by their ID, which only tracefs tells. A fresh boot
 * often has it unmounted; mount it where libbpf looks. It stays mounted: other tools
 * may start using it meanwhile. The checks use the effective IDs and capabilities:
 * tracefs is mode 0700, and a capable non-root user must not take it for missing.
 */
static int ensure_tracefs(struct session *session, struct failure *failure)
{
	int err;

	session->tracefs = kernel_tracefs(&err);
	if (session->tracefs)
		return 0;
	if (err == -EACCES)
		return fail_kind(failure, FAILURE_TRACEFS_ACCESS, err);
	if (mount("tracefs", SESSION_TRACEFS, "tracefs", 0, NULL))
		return fail(failure, "mount", "tracefs on " SESSION_TRACEFS, -errno);
	session->mounted_tracefs = true;
	session->tracefs = SESSION_TRACEFS;
	return 0;
}

static const struct optional_program *optional(const struct trace_config *config, const char *name)
{
	for (size_t i = 0; i < CONFIG_PROGRAM_LIST && config->optional_programs[i].name; i++)
		if (program_is(name, config->optional_programs[i].name))
			return &config->optional_programs[i];
	return NULL;
}

/*
 * A tracepoint this kernel does not have: an optional program is left out (and named,
 * for -v); a required one fails this attempt, saying which event is missing.
 */
static int drop_missing_events(struct session *session, const struct trace_config *config,
			       struct failure *failure)
{
	struct bpf_program *prog;
	unsigned int n = 0;

	bpf_object__for_each_program(prog, session->skel->obj) {
		const struct optional_program *optional_program;
		const struct probe *probe;
		enum attach_method variant;

		if (!bpf_program__autoload(prog))
			continue;
		/* Every program is a probe's (check_programs() made sure of it). */
		probe = probe_of_program(bpf_program__name(prog), &variant);
		/* Unknown is left to the load: the session has the privileges and tracefs. */
		if (kernel_offers(probe, variant, session->tracefs) != KERNEL_OFFERS_NOT)
			continue;
		optional_program = optional(config, bpf_program__name(prog));
		if (!optional_program) {
			char what[96];

			snprintf(what, sizeof(what), "%s (this kernel does not offer it)",
				 bpf_program__section_name(prog));
			return fail(failure, "attach", what, -EOPNOTSUPP);
		}
		bpf_program__set_autoload(prog, false);
		if (n < CONFIG_PROGRAM_LIST) {
			/* As tracefs and perf name it: "category:name". */
			snprintf(session->missing_events[n].event,
				 sizeof(session->missing_events[n].event), "%s:%s", probe->category,
				 probe->event);
			session->missing_events[n++].lost = optional_program->lost;
		}
	}
	return 0;
}

/* Is a program of the probe (or the program) called name selected for loading? */
static bool loads_program(struct tcptrace *skel, const char *name)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		if (bpf_program__autoload(prog) && program_is(bpf_program__name(prog), name))
			return true;
	return false;
}

static void unload_program(struct tcptrace *skel, const char *name)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		if (program_is(bpf_program__name(prog), name))
			bpf_program__set_autoload(prog, false);
}

/* The stand-in entry of config that has the program called name, or NULL. */
static const struct kernel_stand_in *stand_in_of(const struct trace_config *config,
						 const char *name)
{
	for (size_t i = 0; i < CONFIG_PROGRAM_LIST && config->stand_ins[i]; i++)
		for (size_t j = 0; j < ARRAY_SIZE(config->stand_ins[i]->programs); j++)
			if (config->stand_ins[i]->programs[j] &&
			    program_is(name, config->stand_ins[i]->programs[j]))
				return config->stand_ins[i];
	return NULL;
}

/* Is the program one of config's stand-ins, for what this kernel has anyway? */
static bool needless_stand_in(const struct trace_config *config, const char *name)
{
	const struct kernel_stand_in *stand_in = stand_in_of(config, name);

	return stand_in && kernel_has_type(stand_in->type, stand_in->member);
}

static void unload_needless_stand_ins(struct tcptrace *skel, const struct trace_config *config)
{
	for (size_t i = 0; i < CONFIG_PROGRAM_LIST && config->stand_ins[i]; i++) {
		const struct kernel_stand_in *stand_in = config->stand_ins[i];

		if (!kernel_has_type(stand_in->type, stand_in->member))
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(stand_in->programs); j++)
			if (stand_in->programs[j])
				unload_program(skel, stand_in->programs[j]);
	}
}

/* What the programs selected cannot give on this kernel, for the tracer to tell once. */
static void note_limits(struct session *session, const struct trace_config *config)
{
	unsigned int n = 0;

	for (size_t i = 0; i < CONFIG_PROGRAM_LIST && config->limits[i]; i++) {
		const struct kernel_limit *limit = config->limits[i];

		if (loads_program(session->skel, limit->program) &&
		    !(limit->unless && loads_program(session->skel, limit->unless)) &&
		    !kernel_has_type(limit->type, limit->member)) {
			session->limits[n++] = limit;
			if (limit->useless)
				unload_program(session->skel, limit->program);
		}
	}
}

/*
 * An LRU map's CPUs each keep free entries for themselves, so it may evict before it is
 * full: give it room for those on top of what it must hold.
 */
static int size_lru(struct bpf_map *map)
{
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus < 0)
		return ncpus;
	return bpf_map__set_max_entries(map,
					bpf_map__max_entries(map) + ncpus * LRU_LOCAL_FREE_TARGET);
}

static int size_maps(struct tcptrace *skel)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_LRU_HASH || !bpf_map__autocreate(map))
			continue;
		err = size_lru(map);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Without a ring buffer, the events map becomes a perf event array (a slot per CPU,
 * which libbpf sizes), and the programs write to it: see bpf/tcptrace.bpf.h.
 */
static int use_perf_buffer(struct tcptrace *skel)
{
	struct bpf_map *events = skel->maps.events;
	int err = bpf_map__set_type(events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);

	if (!err)
		err = bpf_map__set_key_size(events, sizeof(__u32));
	if (!err)
		err = bpf_map__set_value_size(events, sizeof(__u32));
	if (!err)
		err = bpf_map__set_max_entries(events, 0);
	skel->rodata->use_perf_buffer = true;
	return err;
}

static int set_filters(struct tcptrace *skel, const struct trace_config *config, bool perf_buffer)
{
	int err = perf_buffer ? use_perf_buffer(skel)
		  : config->ring_size
			  ? bpf_map__set_max_entries(skel->maps.events, config->ring_size)
			  : 0;

	skel->rodata->filter_tgid = config->filter_tgid;
	skel->rodata->filter_min_latency_ns = config->filter_min_latency_ns;
	skel->rodata->filter_ports_enabled = config->nr_filter_ports > 0;
	skel->rodata->filter_uid = config->filter_uid;
	skel->rodata->filter_family = config->filter_family;
	skel->rodata->filter_netns = config->filter_netns;
	skel->rodata->filter_cgroup_enabled = config->cgroup_path != NULL;
	skel->rodata->report_queue = config->report_queue;
	skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.events) / 4;
	return err;
}

/*
 * --cgroup: the kernel checks a task against a cgroup it holds by file descriptor, in a
 * cgroup array; the map keeps its own reference.
 */
static int fill_cgroup_filter(struct tcptrace *skel, const struct trace_config *config)
{
	__u32 key = 0;
	int fd, err = 0;

	if (!config->cgroup_path)
		return 0;
	fd = open(config->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (bpf_map__update_elem(skel->maps.filter_cgroup, &key, sizeof(key), &fd, sizeof(fd),
				 BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* -P: the ports go into their map between load and attach. */
static int fill_port_filter(struct tcptrace *skel, const struct trace_config *config)
{
	const __u8 present = 1;

	for (unsigned int i = 0; i < config->nr_filter_ports; i++)
		if (bpf_map__update_elem(skel->maps.filter_ports, &config->filter_ports[i],
					 sizeof(__u16), &present, sizeof(present), BPF_ANY))
			return -errno;
	return 0;
}

/*
 * A stand-in the kernel loaded but will not attach (Debian's 6.1 refuses a trampoline
 * on tcp_v4_syn_recv_sock(), ENOTSUPP) gives nothing: its siblings are detached, and
 * what it stood in for is told as a limit instead of failing the run.
 */
static void give_up_stand_in(struct session *session, const struct kernel_stand_in *stand_in)
{
	const struct trace_config *config = session->config;
	unsigned int n = 0, kept = 0;

	for (unsigned int i = 0; i < session->nr_links; i++) {
		if (stand_in_of(config, bpf_program__name(session->programs[i])) == stand_in) {
			bpf_link__destroy(session->links[i]);
			continue;
		}
		session->programs[kept] = session->programs[i];
		session->links[kept++] = session->links[i];
	}
	session->nr_links = kept;
	while (n < CONFIG_PROGRAM_LIST && session->limits[n])
		n++;
	for (size_t i = 0; i < CONFIG_PROGRAM_LIST && config->limits[i]; i++) {
		const struct kernel_limit *limit = config->limits[i];

		if (n < CONFIG_PROGRAM_LIST && limit->unless &&
		    stand_in_of(config, limit->unless) == stand_in)
			session->limits[n++] = limit;
	}
}

static int attach_programs(struct session *session, struct failure *failure)
{
	const struct kernel_stand_in *given_up = NULL;
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, session->skel->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) ||
		    (given_up && stand_in_of(session->config, name) == given_up))
			continue;
		if (session->nr_links == SESSION_MAX_LINKS)
			return fail(failure, "attach", bpf_program__name(prog), -E2BIG);
		link = bpf_program__attach(prog);
		if (!link && !given_up && stand_in_of(session->config, name)) {
			given_up = stand_in_of(session->config, name);
			give_up_stand_in(session, given_up);
			continue;
		}
		if (!link)
			return fail_libbpf(failure, "attach", bpf_program__name(prog), -errno);
		session->programs[session->nr_links] = prog;
		session->links[session->nr_links++] = link;
	}
	return 0;
}

/* Open, configure and load the skeleton: everything before the programs run. */
static int load(struct session *session, const struct trace_config *config,
		const struct attach_plan *plan, struct failure *failure)
{
	/* --btf: CO-RE relocates against that file's types, where the kernel has none. */
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .btf_custom_path = access(KERNEL_BTF, R_OK) ? config->btf_path : NULL);
	enum attach_method method = plan->method;
	int err;

	session->skel = tcptrace__open_opts(&opts);
	if (!session->skel)
		return fail_libbpf(failure, "open", "the BPF object", -errno);
	err = set_filters(session->skel, config, session->perf_buffer);
	if (err)
		return fail(failure, "size", "the ring buffer", err);
	err = check_programs(session->skel, config, failure);
	if (err)
		return err;
	select_programs(session->skel, config, plan);
	unload_needless_stand_ins(session->skel, config);
	if (config->attach_method && !uses_method(session->skel, method)) {
		char what[96];

		snprintf(what, sizeof(what), "%s's probes as %s (none can be)", config->command,
			 attach_method_name(method));
		return fail(failure, "attach", what, -EOPNOTSUPP);
	}
	err = size_maps(session->skel);
	if (err)
		return fail(failure, "size", "the BPF maps", err);
	/* Classic tracepoints are attached through tracefs. */
	if (uses_method(session->skel, ATTACH_TRACEPOINT))
		err = ensure_tracefs(session, failure);
	if (!err)
		err = drop_missing_events(session, config, failure);
	if (err)
		return err;
	note_limits(session, config);
	/* libbpf parses the kernel's BTF again to load: not two copies at once (5 MiB each). */
	kernel_checks_release();
	memset(&load_lack, 0, sizeof(load_lack));
	err = tcptrace__load(session->skel);
	if (err)
		return fail_load(session, failure, err);
	err = fill_port_filter(session->skel, config);
	if (err)
		return fail(failure, "fill", "the port filter", err);
	err = fill_cgroup_filter(session->skel, config);
	if (err)
		return fail(failure, "fill", "the cgroup filter", err);
	return 0;
}

/* Everything of an attempt but what -v is to tell: detach, unmap, unload. */
static void undo_attempt(struct session *session)
{
	session_detach(session);
	ring_buffer__free(session->ring);
	perfbuf_free(session->perf);
	tcptrace__destroy(session->skel);
	session->ring = NULL;
	session->perf = NULL;
	session->skel = NULL;
	memset(session->missing_events, 0, sizeof(session->missing_events));
	memset(session->limits, 0, sizeof(session->limits));
}

static int open_with(struct session *session, const struct trace_config *config,
		     const struct attach_plan *plan, ring_buffer_sample_fn on_event, void *ctx,
		     struct failure *failure)
{
	int err = load(session, config, plan, failure);

	if (!err)
		err = attach_programs(session, failure);
	if (err)
		return err;
	if (session->perf_buffer) {
		err = perfbuf_open(&session->perf, bpf_map__fd(session->skel->maps.events),
				   config->ring_size ?: SESSION_RING_SIZE, on_event, ctx);
		return err ? fail_libbpf(failure, "open", "the perf buffer", err) : 0;
	}
	session->ring =
		ring_buffer__new(bpf_map__fd(session->skel->maps.events), on_event, ctx, NULL);
	if (!session->ring)
		return fail_libbpf(failure, "open", "the ring buffer", -errno);
	return 0;
}

/*
 * The ways a preferred probe (accept's __inet_accept(), else do_accept()) may attach,
 * best first: each the kernel offers, by fentry or else kprobe, which spare every other
 * system call the fallbacks' tax; forced, only by that method. None: the fallbacks.
 */
static unsigned int preferred_plans(const struct trace_config *config,
				    struct attach_plan plans[SESSION_PREFERRED_WAYS])
{
	enum attach_method forced = config->attach_method;
	unsigned int n = 0;

	for (const struct probe *probe = next_preferred_probe(config, NULL); probe;
	     probe = next_preferred_probe(config, probe))
		for (enum attach_method m = ATTACH_FENTRY; m <= ATTACH_KPROBE; m++)
			if ((!forced || m == forced) && probe_has_variant(probe, m) &&
			    n < SESSION_PREFERRED_WAYS &&
			    kernel_offers(probe, m, NULL) == KERNEL_OFFERS)
				plans[n++] = (struct attach_plan){ .preferred_probe = probe,
								   .preferred = m };
	return n;
}

/*
 * How the PROBE_STAND_IN probes attach: where the kernel lacks what they stand in for,
 * by kprobe, else fentry, as the kernel offers for the first of them (forced, only that
 * one); else not at all. kprobe first: a trial load does not show a trampoline the
 * kernel will not attach (give_up_stand_in()), and they run only with -f, off the
 * accept path.
 */
static enum attach_method stand_in_method(const struct trace_config *config)
{
	enum attach_method forced = config->attach_method;

	for (unsigned int i = 0; i < nr_probes; i++) {
		if (probes[i].role != PROBE_STAND_IN || !loads_probe(config, &probes[i]) ||
		    needless_stand_in(config, probes[i].name))
			continue;
		for (enum attach_method m = ATTACH_KPROBE; m >= ATTACH_FENTRY; m--)
			if ((!forced || m == forced) && probe_has_variant(&probes[i], m) &&
			    kernel_offers(&probes[i], m, NULL) == KERNEL_OFFERS)
				return m;
		break;
	}
	return ATTACH_AUTO;
}

/*
 * Every attempt, best first: the methods in turn, each with the preferred probe's ways,
 * then with its fallbacks (not when forced, if a way was offered).
 */
static unsigned int plan_attempts(const struct trace_config *config,
				  struct attach_plan plans[SESSION_MAX_ATTEMPTS])
{
	enum attach_method first = config->attach_method ?: ATTACH_TP_BTF;
	enum attach_method last = config->attach_method ?: ATTACH_KPROBE;
	struct attach_plan preferred[SESSION_PREFERRED_WAYS];
	unsigned int n = 0, ways = preferred_plans(config, preferred);
	enum attach_method stand_in = stand_in_method(config);

	for (enum attach_method method = first; method <= last; method++) {
		for (unsigned int i = 0; i < ways; i++) {
			plans[n] = preferred[i];
			plans[n++].method = method;
		}
		if (!ways || !config->attach_method)
			plans[n++] = (struct attach_plan){ .method = method };
	}
	for (unsigned int i = 0; i < n; i++)
		plans[i].stand_in = stand_in;
	return n;
}

/*
 * An attempt as -v names it: its method, and the preferred probe's way when there was a
 * choice (the first attempt had it).
 */
static void name_attempt(char *name, size_t size, const struct attach_plan *plans, unsigned int i)
{
	const struct probe *probe = plans[i].preferred_probe;
	int len = snprintf(name, size, "%s", attach_method_name(plans[i].method));

	if (probe)
		snprintf(name + len, size - len, " with %s as %s", probe->name,
			 attach_method_name(plans[i].preferred));
	else if (plans[0].preferred_probe)
		snprintf(name + len, size - len, " without %s", plans[0].preferred_probe->name);
}

/* Under auto, every failure is told under -v, the last one too. */
static void note_fallback(struct session *session, const struct attach_plan *plans, unsigned int i,
			  unsigned int n, const struct failure *failure, int err)
{
	char tried[96], next[96] = "", why[192];

	name_attempt(tried, sizeof(tried), plans, i);
	if (i + 1 < n)
		name_attempt(next, sizeof(next), plans, i + 1);
	if (failure->kind == FAILURE_KERNEL_LACKS)
		snprintf(why, sizeof(why), "this kernel lacks %s", failure->object);
	else
		snprintf(why, sizeof(why), "%s %s: %s",
			 failure->kind == FAILURE_STEP ? failure->action : "reading",
			 failure->kind == FAILURE_STEP ? failure->object : "tracefs",
			 strerror(-err));
	snprintf(session->fallbacks[i], sizeof(session->fallbacks[0]),
		 "attaching as %s failed (%s)%s%s", tried, why, next[0] ? ": trying " : "", next);
}

/*
 * The methods in turn, best first, unless one is forced: a kernel may lack a
 * tracepoint's BTF, refuse a program type, or have no tracefs events for it. When every
 * attempt fails, the first one's failure is the one reported: the others say why under -v.
 */
int session_open(struct session *session, const struct trace_config *config,
		 ring_buffer_sample_fn on_event, void *ctx, struct failure *failure)
{
	struct attach_plan plans[SESSION_MAX_ATTEMPTS];
	struct failure first_failure = {};
	unsigned int n = 0;
	int err, first_err = 0;

	memset(session, 0, sizeof(*session));
	session->config = config;
	libbpf_verbose = config->verbose;
	libbpf_set_print(print_libbpf);
	kernel_use_btf_file(config->btf_path);
	err = check_kernel(config, session, failure);
	if (!err)
		n = plan_attempts(config, plans);
	for (unsigned int i = 0; !err && i < n; i++) {
		memset(failure, 0, sizeof(*failure));
		err = open_with(session, config, &plans[i], on_event, ctx, failure);
		if (!err) {
			session->method = plans[i].method;
			break;
		}
		if (i == 0) {
			first_failure = *failure;
			first_err = err;
		}
		if (n == 1)
			break;
		note_fallback(session, plans, i, n, failure, err);
		if (i + 1 == n)
			break;
		undo_attempt(session);
		err = 0;
	}
	if (err && first_err) {
		*failure = first_failure;
		err = first_err;
	}
	kernel_checks_release();
	return err;
}

const struct loss_kind loss_kinds[] = {
	{ "events", "the ring buffer was full", "ring_buffer_full",
	  offsetof(struct losses, ringbuf_full) },
	{ "connection attempts", "evicted from the in-flight map before their outcome was known",
	  "in_flight_evicted", offsetof(struct losses, inflight_evicted) },
	{ "probe runs", "the kernel skipped them, the program was already running on that CPU",
	  "probe_runs_skipped", offsetof(struct losses, recursion_misses) },
};
const size_t nr_loss_kinds = ARRAY_SIZE(loss_kinds);

int session_ring_fd(const struct session *session)
{
	return session->perf ? perfbuf_fd(session->perf) : bpf_map__fd(session->skel->maps.events);
}

bool session_signals_each_record(const struct session *session)
{
	return session->perf != NULL;
}

int session_drain(struct session *session)
{
	return session->perf ? perfbuf_drain(session->perf) : ring_buffer__consume(session->ring);
}

static int sum_counter(struct session *session, enum counter counter, __u64 *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 key = counter;

	if (ncpus < 0)
		return ncpus;
	__u64 values[ncpus];

	/* Zeroed for valgrind: it marks one CPU's worth of a per-CPU lookup as written. */
	memset(values, 0, sizeof(values));
	if (bpf_map__lookup_elem(session->skel->maps.counters, &key, sizeof(key), values,
				 sizeof(values), 0))
		return -errno;
	*sum = 0;
	for (int cpu = 0; cpu < ncpus; cpu++)
		*sum += values[cpu];
	return 0;
}

bool session_bpf_works(void *session)
{
	__u64 sum;

	return sum_counter(session, COUNTER_RINGBUF_FULL, &sum) != -EPERM;
}

static __u64 count_entries(const struct bpf_map *map)
{
	__u64 key, next, n = 0;
	void *prev = NULL;

	while (!bpf_map__get_next_key(map, prev, &next, sizeof(next))) {
		n++;
		key = next;
		prev = &key;
	}
	return n;
}

/*
 * An LRU map evicts without telling. Every attempt that entered the in-flight map has
 * finished, was missed, is still there, or was evicted. Reading "started" before walking
 * the map and the others after it makes the result a lower bound while attempts come and
 * go, never a false alarm, and exact once tracing has stopped. Until as many attempts
 * are unaccounted for as the map holds, none can have been evicted: no walk needed.
 */
static int count_evictions(struct session *session, struct losses *losses)
{
	const char *name = session->config->in_flight_map;
	const struct bpf_map *map;
	__u64 started = 0, finished = 0, in_flight;
	int err;

	losses->inflight_missed = 0;
	losses->inflight_evicted = 0;
	map = name ? bpf_object__find_map_by_name(session->skel->obj, name) : NULL;
	if (!map)
		return 0;
	err = sum_counter(session, COUNTER_INFLIGHT_STARTED, &started);
	if (!err)
		err = sum_counter(session, COUNTER_INFLIGHT_FINISHED, &finished);
	if (!err)
		err = sum_counter(session, COUNTER_INFLIGHT_MISSED, &losses->inflight_missed);
	if (err)
		return err;
	finished += losses->inflight_missed;
	losses->inflight_evicted = 0;
	if (started < finished + bpf_map__max_entries(map) / 2 && session->nr_links)
		return 0;
	in_flight = count_entries(map);
	err = sum_counter(session, COUNTER_INFLIGHT_FINISHED, &finished);
	if (err)
		return err;
	finished += losses->inflight_missed;
	if (started > finished + in_flight)
		losses->inflight_evicted = started - finished - in_flight;
	return 0;
}

/*
 * Runs the kernel skipped because the program was already running on that CPU: lost,
 * unless the program has a twin, which took the change instead.
 */
static void count_recursion_misses(struct session *session, struct losses *losses)
{
	struct bpf_program *prog;

	losses->recursion_misses = 0;
	losses->taken_by_twin = 0;
	bpf_object__for_each_program(prog, session->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		if (has_twin(session->skel, prog))
			losses->taken_by_twin += info.recursion_misses;
		else
			losses->recursion_misses += info.recursion_misses;
	}
}

int session_read_losses(struct session *session, struct losses *losses)
{
	int err = sum_counter(session, COUNTER_RINGBUF_FULL, &losses->ringbuf_full);

	if (err)
		return err;
	count_recursion_misses(session, losses);
	return count_evictions(session, losses);
}

void session_detach(struct session *session)
{
	for (unsigned int i = 0; i < session->nr_links; i++)
		bpf_link__destroy(session->links[i]);
	session->nr_links = 0;
}

void session_close(struct session *session)
{
	session_detach(session);
	ring_buffer__free(session->ring);
	perfbuf_free(session->perf);
	tcptrace__destroy(session->skel);
	memset(session, 0, sizeof(*session));
}

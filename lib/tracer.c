// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include "array.h"
#include "../bpf/event.h"
#include "exporter.h"
#include "format.h"
#include "identity.h"
#include "output.h"
#include "privileges.h"
#include "sandbox.h"
#include "session.h"
#include "summary.h"
#include "tracer.h"

/* A sanitizer's build traces without the system call filter (enter_sandbox()). */
#ifdef TCPTRACE_SANITIZED
#define TRACER_SANITIZED true
#else
#define TRACER_SANITIZED false
#endif

/* How long output may wait for a stalled reader once a stop is asked for. */
#define TRACER_GIVE_UP_WRITING_S 1

struct tracer {
	struct session session;
	struct formatter formatter;
	struct output out;
	struct losses reported;
	bool loss_read_failed; /* said once */
	__u64 next_loss_check_ns;
	const struct trace_config *config;
	/* -n: events left to take; without -n, more than any run will see. */
	__u64 events_left;
	/* -c, -H: events go into summaries, printed every -i. */
	struct summary summary;
	__u64 next_summary_ns;
	/* Names the events' cgroups, for -I, -j and metrics; NULL when not needed, or not
	 * possible. */
	struct identity_resolver *identities;
	/* Metrics instead of lines: the exporter, and what the loop waits on. */
	struct exporter exporter;
	int epoll_fd;
	/* Standard output reported an error or a hang-up: its reader is gone. */
	bool output_gone;
};

static volatile sig_atomic_t stop_requested, give_up_writing;

/*
 * The last events still get written, unless the reader stalls: then the alarm ends it.
 * A signal calls this, and so does the end of -d or -n.
 */
static void request_stop(int signo)
{
	(void)signo;
	stop_requested = 1;
	alarm(TRACER_GIVE_UP_WRITING_S);
}

/*
 * SIGALRM: the end of -d, which stops tracing like a signal; or, once stopping, the
 * reader stalled too long.
 */
static void on_alarm(int signo)
{
	if (stop_requested)
		give_up_writing = 1;
	else
		request_stop(signo);
}

/* No SA_RESTART: a signal must cut the consumer's sleep, or a blocked write, short. */
/* The signals that stop a run, blocked from the loop's check until its wait. */
static sigset_t stop_signals;

static void install_signal_handlers(void)
{
	struct sigaction stop = { .sa_handler = request_stop };
	struct sigaction alarm_clock = { .sa_handler = on_alarm };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	sigemptyset(&stop_signals);
	for (const int *signo = (const int[]){ SIGINT, SIGTERM, SIGHUP, 0 }; *signo; signo++) {
		sigaction(*signo, &stop, NULL);
		sigaddset(&stop_signals, *signo);
	}
	sigaction(SIGALRM, &alarm_clock, NULL);
	sigaddset(&stop_signals, SIGALRM);
	/* A reader that goes away shows up as EPIPE from write(). */
	sigaction(SIGPIPE, &ignore, NULL);
}

/* The one place tracing itself talks to the operator, on stderr. */
static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notice(const char *fmt, ...)
{
	va_list ap;

	fputs("tcptrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* -v: the kernel, how each probe got attached, and what was tried first. */
static void describe_attachment(const struct session *session, int err)
{
	struct utsname uts;

	if (!uname(&uts))
		notice("kernel %s %s", uts.release, uts.machine);
	for (unsigned int i = 0; i < ARRAY_SIZE(session->fallbacks); i++)
		if (session->fallbacks[i][0])
			notice("%s", session->fallbacks[i]);
	if (err)
		return;
	if (session->perf)
		notice("events go through a perf buffer per CPU: this kernel has no BPF ring "
		       "buffer");
	for (unsigned int i = 0; i < session->nr_links; i++) {
		const struct bpf_program *prog = session->programs[i];

		notice("attached %s: %s", bpf_program__name(prog), bpf_program__section_name(prog));
	}
}

/*
 * What this kernel cannot show, said once, -v or not: a probe left out for want of its
 * event, or what a program's types lack.
 */
static void tell_missing_events(const struct session *session)
{
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && session->missing_events[i].lost; i++)
		notice("this kernel has no tracepoint %s: %s", session->missing_events[i].event,
		       session->missing_events[i].lost);
	for (unsigned int i = 0; i < CONFIG_PROGRAM_LIST && session->limits[i]; i++)
		notice("this kernel cannot give %s", session->limits[i]->lost);
}

/*
 * Whether this event is one to take: -n's count is not reached. Once it is, the rest is
 * drained and dropped, as a stop would have it.
 */
static bool take_event(struct tracer *tracer, size_t size)
{
	if (size < sizeof(struct event) || !tracer->events_left)
		return false;
	if (!--tracer->events_left)
		request_stop(0);
	return true;
}

/* Who the event's task is, for -I and -j; NULL when not asked, or no task. */
static const struct identity *identity_of(struct tracer *tracer, const struct event *event)
{
	if (!tracer->identities || (event->flags & EVENT_NO_TASK))
		return NULL;
	return identity_lookup(tracer->identities, event->task.cgroup_id, event->task.pid);
}

static int on_line_event(void *ctx, void *data, size_t size)
{
	struct tracer *tracer = ctx;
	char *line;

	if (!take_event(tracer, size))
		return 0;
	line = output_reserve(&tracer->out, FORMAT_LINE_MAX);
	output_commit(&tracer->out, format_event_named(&tracer->formatter, data,
						       identity_of(tracer, data), line));
	/* Stop draining once output fails: nothing more can be written. */
	return tracer->out.error;
}

/* identity_of() as the metrics ask it: only when a cgroup's identity is not at hand. */
static const struct identity *identify(void *ctx, const struct event *event)
{
	return identity_of(ctx, event);
}

static int on_summary_event(void *ctx, void *data, size_t size)
{
	struct tracer *tracer = ctx;

	if (take_event(tracer, size))
		summary_add(&tracer->summary, data);
	return 0;
}

static int on_metrics_event(void *ctx, void *data, size_t size)
{
	struct tracer *tracer = ctx;

	if (size >= sizeof(struct event))
		exporter_count(&tracer->exporter, data, identify, tracer);
	return 0;
}

static bool summarizing(const struct trace_config *config)
{
	return config->count_mode || config->histogram;
}

static bool exporting(const struct trace_config *config)
{
	return config->metrics.families;
}

static ring_buffer_sample_fn event_handler(const struct trace_config *config)
{
	if (exporting(config))
		return on_metrics_event;
	return summarizing(config) ? on_summary_event : on_line_event;
}

/*
 * What was lost since the last report, with the total so far. While tracing, a total is
 * a lower bound that can dip (evictions are derived from counters read one after the
 * other), so only a rise is news: the reports add up to the last total.
 */
static void report_losses(struct tracer *tracer)
{
	struct losses now;
	int err = session_read_losses(&tracer->session, &now);

	if (err) {
		if (!tracer->loss_read_failed)
			notice("cannot read the loss counters: %s: losses go unreported",
			       strerror(-err));
		tracer->loss_read_failed = true;
		return;
	}
	for (size_t i = 0; i < nr_loss_kinds; i++) {
		const struct loss_kind *kind = &loss_kinds[i];
		__u64 total = *loss_count(&now, kind),
		      *reported = loss_count(&tracer->reported, kind);

		if (total <= *reported)
			continue;
		notice("%llu %s lost (%llu in all): %s", (unsigned long long)(total - *reported),
		       kind->what, (unsigned long long)total, kind->why);
		*reported = total;
	}
	tracer->reported.taken_by_twin = now.taken_by_twin;
}

/* At exit, each kind of loss once more, as a total, however it was reported on the way. */
static void report_loss_totals(struct tracer *tracer)
{
	for (size_t i = 0; i < nr_loss_kinds; i++) {
		const struct loss_kind *kind = &loss_kinds[i];
		__u64 total = *loss_count(&tracer->reported, kind);

		if (total)
			notice("in all, %llu %s lost: %s", (unsigned long long)total, kind->what,
			       kind->why);
	}
}

static void print_header(struct tracer *tracer)
{
	char *line = output_reserve(&tracer->out, FORMAT_LINE_MAX);

	output_commit(&tracer->out, format_header(&tracer->formatter, line));
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* -d: SIGALRM when the time is up; it cuts a blocked write short, as a signal does. */
static void start_alarm(__u64 duration_ns)
{
	struct itimerval timer = {
		.it_value = { .tv_sec = duration_ns / 1000000000,
			      .tv_usec = duration_ns % 1000000000 / 1000 },
	};

	setitimer(ITIMER_REAL, &timer, NULL);
}

/* -i: the summaries of the interval that just ended, each followed by a blank line. */
static void maybe_print_summary(struct tracer *tracer)
{
	__u64 now;

	if (!tracer->config->interval_ns)
		return;
	now = now_ns();
	if (now < tracer->next_summary_ns)
		return;
	tracer->next_summary_ns = now + tracer->config->interval_ns;
	summary_print(&tracer->summary, &tracer->out, now, true);
}

/* 0, or -errno with failure filled in. A reader gone or a stop in a write end quietly. */
static int flush_output(struct tracer *tracer, struct failure *failure)
{
	int err = output_flush(&tracer->out);

	if (err == -EPIPE || err == -EINTR)
		return err;
	if (err)
		failure_step(failure, "write", "the output");
	return err;
}

/* What the loop waits on. */
enum waited {
	WAITED_RING = 1, /* the ring's map: its first record after a drain, or a quarter full */
	WAITED_OUTPUT,	 /* standard output: only its errors, as a pipe's reader going away */
	WAITED_HTTP,	 /* serve's HTTP server */
};

static int watch(struct tracer *tracer, int fd, __u32 events, enum waited what)
{
	struct epoll_event event = { .events = events, .data.u32 = what };

	return epoll_ctl(tracer->epoll_fd, EPOLL_CTL_ADD, fd, &event) ? -errno : 0;
}

/*
 * One wait for everything: no timer runs unless -i or the HTTP server asks for one, so
 * an idle tracer sleeps. The ring is edge-triggered: each signal wakes the loop once.
 */
static int open_waits(struct tracer *tracer, struct failure *failure)
{
	int err;

	tracer->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	err = tracer->epoll_fd < 0 ? -errno : 0;
	if (!err)
		err = watch(tracer, session_ring_fd(&tracer->session), EPOLLIN | EPOLLET,
			    WAITED_RING);
	/* A file or /dev/null cannot be waited on, nor lose its reader. */
	if (!err && !exporting(tracer->config) &&
	    watch(tracer, tracer->out.fd, 0, WAITED_OUTPUT) == -EPERM)
		err = 0;
	if (!err && exporting(tracer->config))
		err = watch(tracer, exporter_wait_fd(&tracer->exporter), EPOLLIN, WAITED_HTTP);
	if (err)
		failure_step(failure, "wait for", "events");
	return err;
}

/* How long the loop may sleep: until -i's next summary, or the HTTP server's deadline. */
static int timeout_ms(struct tracer *tracer)
{
	int timeout = -1;

	if (tracer->config->interval_ns) {
		__u64 now = now_ns();

		timeout = now >= tracer->next_summary_ns
				  ? 0
				  : (tracer->next_summary_ns - now + 999999) / 1000000;
	}
	if (exporting(tracer->config)) {
		int http = exporter_timeout_ms(&tracer->exporter);

		if (http >= 0 && (timeout < 0 || http < timeout))
			timeout = http;
	}
	return timeout;
}

/*
 * epoll_wait(), unless a stop was asked for: the stop signals are blocked from the
 * check until the wait, so that one coming between them cuts the wait short instead of
 * going unseen. Whether the ring signalled is added to *ring.
 */
static int wait_unless_stopping(struct tracer *tracer, int timeout, bool *ring)
{
	struct epoll_event ready[3];
	sigset_t previous;
	int n = 0;

	sigprocmask(SIG_BLOCK, &stop_signals, &previous);
	if (!stop_requested)
		n = epoll_pwait(tracer->epoll_fd, ready, ARRAY_SIZE(ready), timeout, &previous);
	sigprocmask(SIG_SETMASK, &previous, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		*ring |= ready[i].data.u32 == WAITED_RING;
		/* Level-triggered: left alone, a hang-up would wake every wait from now on. */
		tracer->output_gone |= ready[i].data.u32 == WAITED_OUTPUT;
	}
	return 0;
}

/*
 * A perf buffer signals every record: while the loop gathers a batch, it stops
 * listening, or each record would end the wait. Listening again, it hears at once of
 * records already there. The ring buffer needs none of this.
 */
static int listen_to_ring(struct tracer *tracer, bool listen)
{
	struct epoll_event event = { .events = listen ? EPOLLIN | EPOLLET : 0,
				     .data.u32 = WAITED_RING };

	if (!session_signals_each_record(&tracer->session))
		return 0;
	return epoll_ctl(tracer->epoll_fd, EPOLL_CTL_MOD, session_ring_fd(&tracer->session), &event)
		       ? -errno
		       : 0;
}

/*
 * Sleeps until there is work. The ring signals its first record after a drain, and then
 * only when a quarter full: the loop waits a drain interval more, so that the records
 * of a busy spell come in batches, for one wakeup each. 0, or -errno.
 */
static int wait_for_work(struct tracer *tracer, struct failure *failure)
{
	bool ring = false;
	int err = wait_unless_stopping(tracer, timeout_ms(tracer), &ring);

	if (!err && ring) {
		bool again = false;

		err = listen_to_ring(tracer, false);
		if (!err)
			err = wait_unless_stopping(tracer, TRACER_DRAIN_INTERVAL_MS, &again);
		if (!err)
			err = listen_to_ring(tracer, true);
	}
	if (err)
		failure_step(failure, "wait for", "events");
	return err;
}

/* Losses are read at most once a second, when the loop woke for work. */
static void maybe_report_losses(struct tracer *tracer)
{
	__u64 now = now_ns();

	if (now < tracer->next_loss_check_ns)
		return;
	tracer->next_loss_check_ns = now + TRACER_LOSS_REPORT_MS * 1000000ull;
	report_losses(tracer);
}

/* Drains the ring, then whatever else is due: requests, losses, -i's summaries. */
static int do_work(struct tracer *tracer, struct failure *failure)
{
	int err = session_drain(&tracer->session);

	/* A failed write stops the drain too; flush_output() reports it. */
	if (err < 0 && err != -EINTR && !tracer->out.error) {
		failure_step(failure, "read", "the ring buffer");
		return err;
	}
	if (!exporting(tracer->config) && (tracer->output_gone || output_reader_gone(&tracer->out)))
		return -EPIPE;
	if (exporting(tracer->config)) {
		err = exporter_run(&tracer->exporter, now_ns());
		if (err) {
			failure_step(failure, "serve", "HTTP requests");
			return err;
		}
	}
	maybe_report_losses(tracer);
	maybe_print_summary(tracer);
	return 0;
}

/*
 * From here on, only the system calls tcptrace's parts make (lib/sandbox.h). The time
 * zone is read now: localtime_r() would open /etc/localtime at the first event.
 */
static int enter_sandbox(struct tracer *tracer, struct failure *failure)
{
	unsigned int parts = 0;
	const char *off = NULL;
	int calls;

	if (tracer->config->no_seccomp)
		off = "--no-seccomp";
	else if (TRACER_SANITIZED)
		off = "a sanitizer's build: LeakSanitizer's check at exit needs ptrace()";
	else if (!sandbox_available())
		off = "none for this architecture";
	if (off) {
		if (tracer->config->verbose)
			notice("no system call filter: %s", off);
		return 0;
	}
	tzset();
	if (tracer->identities)
		parts |= SANDBOX_IDENTITY;
	if (summarizing(tracer->config))
		parts |= SANDBOX_SUMMARIES;
	if (exporting(tracer->config))
		parts |= SANDBOX_HTTP;
	if (session_signals_each_record(&tracer->session))
		parts |= SANDBOX_PERF_BUFFER;
	calls = sandbox_enter(parts);
	if (calls < 0) {
		failure_step(failure, "install", "the system call filter");
		return calls;
	}
	if (tracer->config->verbose)
		notice("system call filter on: %d calls allowed from now on", calls);
	return 0;
}

/* Wait, drain, write, repeat, until a signal, a reader that went away, or an error. */
static int consume(struct tracer *tracer, struct failure *failure)
{
	int err = open_waits(tracer, failure);

	if (!err)
		err = enter_sandbox(tracer, failure);
	while (!err && !(err = flush_output(tracer, failure)) && !stop_requested) {
		err = wait_for_work(tracer, failure);
		if (!err)
			err = do_work(tracer, failure);
	}
	return err;
}

/*
 * Detach first, so that nothing arrives after the last drain, and the loss count is
 * exact. The last flush may meet a reader that stopped reading: the alarm a stop armed
 * bounds it.
 */
static int finish(struct tracer *tracer, int err, struct failure *failure)
{
	session_detach(&tracer->session);
	if (!err) {
		session_drain(&tracer->session);
		if (summarizing(tracer->config))
			summary_print(&tracer->summary, &tracer->out, now_ns(), false);
		err = flush_output(tracer, failure);
	}
	report_losses(tracer);
	report_loss_totals(tracer);
	if (tracer->config->verbose && tracer->reported.taken_by_twin)
		notice("%llu probe runs skipped on a busy CPU were taken by their twin",
		       (unsigned long long)tracer->reported.taken_by_twin);
	return err == -EPIPE || err == -EINTR ? 0 : err;
}

/* With no privilege left: the HTTP server. */
static int start_serving(struct tracer *tracer, struct failure *failure)
{
	int err = exporter_start(&tracer->exporter, failure);

	if (err)
		return err;
	if (tracer->config->verbose)
		notice("serving metrics");
	return 0;
}

/* Attached and mapped: no privilege is needed any more (lib/privileges.h). */
static int drop_privileges(struct tracer *tracer, struct failure *failure)
{
	struct privileges_dropped dropped;
	int err = privileges_drop(session_bpf_works, &tracer->session, &dropped);

	if (err) {
		failure_step(failure, "drop", "privileges");
		return err;
	}
	if (!tracer->config->verbose)
		return 0;
	if (dropped.kept)
		notice("dropped every capability but %s: this kernel's bpf() refuses reading the "
		       "loss counters without it (kernel.unprivileged_bpf_disabled)",
		       dropped.kept);
	else
		notice("dropped every capability");
	if (dropped.left_root)
		notice("running as user and group %d (nobody), no longer root", PRIVILEGES_NOBODY);
	return 0;
}

/*
 * -I and -j name each event's cgroup. The resolver opens the directories it reads now,
 * while tcptrace may still read them all. Without it, events carry their cgroup's ID
 * alone: said once.
 */
static void open_identities(struct tracer *tracer)
{
	int err;

	bool needed = (tracer->config->column_flags & FORMAT_NEEDS_IDENTITY) &&
		      !summarizing(tracer->config);

	if (!needed && !exporting(tracer->config))
		return;
	err = identity_resolver_new(NULL, &tracer->identities);
	if (err)
		notice("cannot name cgroups (%s): events show their cgroup's ID alone",
		       strerror(-err));
}

int tracer_run(const struct trace_config *config, struct failure *failure)
{
	/* Static: the output buffer is too large for the stack. */
	static struct tracer tracer;
	int err;

	output_init(&tracer.out, STDOUT_FILENO, &give_up_writing);
	tracer.config = config;
	tracer.events_left = config->max_events ?: UINT64_MAX;
	install_signal_handlers();
	tracer.epoll_fd = -1;
	/* The port first: one taken fails the start before anything is loaded. */
	err = exporting(config) ? exporter_open(&tracer.exporter, config, &tracer.session,
						&tracer.reported, failure)
				: 0;
	if (!err)
		err = session_open(&tracer.session, config, event_handler(config), &tracer,
				   failure);
	if (tracer.session.mounted_tracefs && config->verbose)
		notice("tracefs was not mounted: mounted it on " SESSION_TRACEFS);
	if (config->verbose)
		describe_attachment(&tracer.session, err);
	if (!err) {
		tell_missing_events(&tracer.session);
		open_identities(&tracer);
		err = drop_privileges(&tracer, failure);
	}
	if (!err && exporting(config))
		err = start_serving(&tracer, failure);
	if (!err) {
		format_init(&tracer.formatter, config->columns, config->names,
			    config->column_flags);
		summary_init(&tracer.summary, &tracer.formatter, config->summary_labels,
			     config->count_mode, config->histogram);
		if (!summarizing(config) && !exporting(config))
			print_header(&tracer);
		tracer.next_summary_ns = now_ns() + config->interval_ns;
		/* -d counts from here: the probes are attached. */
		if (config->duration_ns)
			start_alarm(config->duration_ns);
		err = finish(&tracer, consume(&tracer, failure), failure);
	}
	if (exporting(config))
		exporter_close(&tracer.exporter);
	if (tracer.epoll_fd >= 0)
		close(tracer.epoll_fd);
	session_close(&tracer.session);
	summary_free(&tracer.summary);
	identity_resolver_free(tracer.identities);
	return err;
}

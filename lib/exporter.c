// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcptrace.skel.h"
#include "exporter.h"
#include "http.h"
#include "methods.h"
#include "session.h"

#define METRICS_PATH	     "/metrics"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* A scrape is one request of a few hundred bytes; browsers send a few KiB of headers. */
#define HTTP_MAX_REQUEST_BYTES 8192
/* Prometheus keeps one connection per target: a few dozen are plenty for people too. */
#define HTTP_MAX_CONNECTIONS 64
/* Prometheus sends its whole request at once: a slow one is no scraper. */
#define HTTP_REQUEST_TIMEOUT_MS 2000

#ifdef TCPTRACE_HAVE_HTTP
/* "on 127.0.0.1:10026", "on [::1]:10026". */
static const char *address_text(const struct sockaddr_storage *addr, char *buf)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
	char host[INET6_ADDRSTRLEN];

	if (addr->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		sprintf(buf, "on [%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		sprintf(buf, "on %s:%u", host, ntohs(in->sin_port));
	}
	return buf;
}

static int open_listener(struct exporter *exporter, struct failure *failure)
{
	const struct metrics_config *config = &exporter->config->metrics;
	int fd = http_listen((const struct sockaddr *)&config->listen, config->listen_len);

	if (fd < 0) {
		char what[INET6_ADDRSTRLEN + 16];

		failure_step(failure, "listen", address_text(&config->listen, what));
		return fd;
	}
	exporter->listen_fd = fd;
	return 0;
}
#else
static int open_listener(struct exporter *exporter, struct failure *failure)
{
	(void)exporter;
	failure->kind = FAILURE_NO_HTTP;
	return -EOPNOTSUPP;
}
#endif

int exporter_open(struct exporter *exporter, const struct trace_config *config,
		  struct session *session, const struct losses *losses, struct failure *failure)
{
	const struct metrics_config *metrics = &config->metrics;

	*exporter = (struct exporter){
		.config = config,
		.session = session,
		.losses = losses,
		.listen_fd = -1,
		.bpf_stats_fd = -1,
	};
	metrics_init(&exporter->metrics, metrics->families, metrics->nr_families,
		     metrics->labels | METRIC_LABEL_RESULT | METRIC_LABEL_LPORT |
			     METRIC_LABEL_IDENTITY,
		     metrics->max_series, metrics->series_ttl_ns);
	if (metrics->bpf_stats) {
		exporter->bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (exporter->bpf_stats_fd < 0) {
			failure_step(failure, "switch on", "the kernel's BPF statistics");
			return -errno;
		}
	}
	return open_listener(exporter, failure);
}

void exporter_count(struct exporter *exporter, const struct event *event,
		    metrics_identify_fn identify, void *ctx)
{
	/* The event's own time is CLOCK_MONOTONIC, as the TTL's clock: no clock read here. */
	metrics_add(&exporter->metrics, event, identify, ctx, event->ts_ns);
}

/*
 * tcptrace_events_lost_total: the kinds the tracer reports on stderr, as it totals them
 * (read afresh, a total may dip: a counter must not). And the events no series could
 * be made for, for want of memory.
 */
static void write_losses(struct exporter *exporter, struct metric_text *text)
{
	struct losses totals = *exporter->losses;

	metric_text_family(text, "tcptrace_events_lost_total",
			   "Events tcptrace could not count, by why.", METRIC_COUNTER);
	for (size_t i = 0; i < nr_loss_kinds; i++) {
		metric_text_str(text, "tcptrace_events_lost_total{kind=\"");
		metric_text_str(text, loss_kinds[i].label);
		metric_text_str(text, "\"} ");
		metric_text_u64(text, *loss_count(&totals, &loss_kinds[i]));
		metric_text_str(text, "\n");
	}
	metric_text_str(text, "tcptrace_events_lost_total{kind=\"no_memory\"} ");
	metric_text_u64(text, exporter->metrics.uncounted);
	metric_text_str(text, "\n");
}

/* Are the kernel's BPF statistics on, by us or by someone else (the sysctl)? */
static bool bpf_stats_on(const struct exporter *exporter)
{
	FILE *f;
	bool on;

	if (exporter->bpf_stats_fd >= 0)
		return true;
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	if (!f)
		return false;
	on = fgetc(f) == '1';
	fclose(f);
	return on;
}

/* The two figures the kernel keeps per program, while its statistics are on. */
static const struct program_stat {
	const char *name;
	const char *help;
	size_t offset; /* in struct bpf_prog_info */
	bool nanoseconds;
} program_stats[] = {
	{ "tcptrace_bpf_program_run_seconds_total",
	  "Time the kernel ran each BPF program, while its statistics were on.",
	  offsetof(struct bpf_prog_info, run_time_ns), true },
	{ "tcptrace_bpf_program_runs_total",
	  "Runs of each BPF program, while the kernel's statistics were on.",
	  offsetof(struct bpf_prog_info, run_cnt), false },
};

static void write_program_stat(struct metric_text *text, const struct program_stat *stat,
			       const struct bpf_program *prog, const struct bpf_prog_info *info)
{
	__u64 value = *(const __u64 *)((const char *)info + stat->offset);

	metric_text_str(text, stat->name);
	metric_text_str(text, "{program=\"");
	metric_text_str(text, bpf_program__name(prog));
	metric_text_str(text, "\"} ");
	if (stat->nanoseconds)
		metric_text_seconds(text, value);
	else
		metric_text_u64(text, value);
	metric_text_str(text, "\n");
}

/* The kernel's run time and run count of each program attached, while its statistics are on. */
static void write_program_stats(struct exporter *exporter, struct metric_text *text)
{
	if (!bpf_stats_on(exporter))
		return;
	for (size_t i = 0; i < sizeof(program_stats) / sizeof(program_stats[0]); i++) {
		const struct program_stat *stat = &program_stats[i];
		struct bpf_program *prog;

		metric_text_family(text, stat->name, stat->help, METRIC_COUNTER);
		bpf_object__for_each_program(prog, exporter->session->skel->obj) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);

			if (bpf_program__fd(prog) >= 0 &&
			    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
				write_program_stat(text, stat, prog, &info);
		}
	}
}

static void write_gauge(struct metric_text *text, const char *name, const char *help, __u64 value)
{
	metric_text_family(text, name, help, METRIC_GAUGE);
	metric_text_sample(text, name, value);
}

static unsigned int count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!dir)
		return 0;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own */
}

/* /proc/self/stat's fields 22 to 24: start time (ticks after boot), vsize and rss. */
static int read_stat(unsigned long long *start_ticks, unsigned long long *vsize, long *rss)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name, field 2, may hold spaces and parentheses: field 3 follows its last ')'. */
	p = strrchr(buf, ')');
	for (int field = 3; p && field <= 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	*start_ticks = strtoull(p + 1, &p, 10);
	*vsize = strtoull(p, &p, 10);
	*rss = strtol(p, &p, 10);
	return 0;
}

/* When the system booted, in seconds since the epoch: /proc/stat's btime. */
static long long boot_time(void)
{
	char line[256];
	long long btime = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "btime ", 6)) {
			btime = strtoll(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return btime;
}

/* The process_* metrics every Prometheus exporter has. */
static void write_process(struct metric_text *text)
{
	unsigned long long start_ticks = 0, vsize = 0;
	struct rusage usage;
	struct rlimit files;
	long rss = 0;

	if (!getrusage(RUSAGE_SELF, &usage)) {
		__u64 ns = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000ull +
			   (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000ull;

		metric_text_family(text, "process_cpu_seconds_total",
				   "User and system CPU time spent, in seconds.", METRIC_COUNTER);
		metric_text_str(text, "process_cpu_seconds_total ");
		metric_text_seconds(text, ns);
		metric_text_str(text, "\n");
	}
	if (!read_stat(&start_ticks, &vsize, &rss)) {
		write_gauge(text, "process_resident_memory_bytes", "Resident memory, in bytes.",
			    rss * sysconf(_SC_PAGESIZE));
		write_gauge(text, "process_virtual_memory_bytes", "Virtual memory, in bytes.",
			    vsize);
		write_gauge(text, "process_start_time_seconds",
			    "Start time of the process since the epoch, in seconds.",
			    boot_time() + start_ticks / sysconf(_SC_CLK_TCK));
	}
	write_gauge(text, "process_open_fds", "Open file descriptors.", count_open_fds());
	if (!getrlimit(RLIMIT_NOFILE, &files))
		write_gauge(text, "process_max_fds", "Limit of open file descriptors.",
			    files.rlim_cur);
}

static void write_self(struct exporter *exporter, struct metric_text *text)
{
	const struct metrics *metrics = &exporter->metrics;

	metric_text_family(text, "tcptrace_series_folded_total",
			   "Events counted in an \"other\" series: --max-series was reached.",
			   METRIC_COUNTER);
	metric_text_sample(text, "tcptrace_series_folded_total", metrics->folded);
	write_gauge(text, "tcptrace_series", "Series of the event metrics, of --max-series.",
		    metrics->lines);
	metric_text_family(text, "tcptrace_build_info",
			   "Always 1: the version and the attach method, as labels.", METRIC_GAUGE);
	metric_text_str(text,
			"tcptrace_build_info{version=\"" TCPTRACE_VERSION "\",attach_method=\"");
	metric_text_str(text, attach_method_name(exporter->session->method));
	metric_text_str(text, "\"} 1\n");
}

/* A scrape: whatever the ring holds first, so that nothing before the request is missing. */
static char *render(void *ctx, size_t *len)
{
	struct exporter *exporter = ctx;
	struct metric_text text = {};

	session_drain(exporter->session);
	metrics_write(&exporter->metrics, &text);
	write_losses(exporter, &text);
	write_program_stats(exporter, &text);
	write_self(exporter, &text);
	write_process(&text);
	if (text.failed) {
		free(text.data);
		errno = ENOMEM;
		return NULL;
	}
	*len = text.len;
	return text.data;
}

#ifdef TCPTRACE_HAVE_HTTP
static const char index_html[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>tcptrace</title></head><body>\n"
	"<h1>tcptrace serve</h1>\n"
	"<p>TCP connects and accepts, as Prometheus metrics: <a href=\"" METRICS_PATH
	"\">" METRICS_PATH "</a>.</p>\n"
	"</body></html>\n";

int exporter_start(struct exporter *exporter, struct failure *failure)
{
	const struct http_config config = {
		.metrics_path = METRICS_PATH,
		.content_type = METRICS_CONTENT_TYPE,
		.index_html = index_html,
		.render = render,
		.ctx = exporter,
		.max_connections = HTTP_MAX_CONNECTIONS,
		.request_timeout_ms = HTTP_REQUEST_TIMEOUT_MS,
		.max_request_bytes = HTTP_MAX_REQUEST_BYTES,
	};
	int err = http_server_start(exporter->listen_fd, &config, &exporter->http);

	exporter->listen_fd = -1; /* the server's now, even when it failed */
	if (err)
		failure_step(failure, "start", "the HTTP server");
	return err;
}

int exporter_wait_fd(const struct exporter *exporter)
{
	return http_server_fd(exporter->http);
}

int exporter_timeout_ms(struct exporter *exporter)
{
	return http_server_timeout_ms(exporter->http);
}

int exporter_run(struct exporter *exporter, __u64 now_ns)
{
	metrics_expire(&exporter->metrics, now_ns);
	return http_server_run(exporter->http);
}

static void stop_http(struct exporter *exporter)
{
	http_server_stop(exporter->http);
}
#else
/* exporter_open() failed: nothing of these runs. */
int exporter_start(struct exporter *exporter, struct failure *failure)
{
	(void)exporter;
	(void)failure;
	(void)render;
	return -EOPNOTSUPP;
}

int exporter_wait_fd(const struct exporter *exporter)
{
	(void)exporter;
	return -1;
}

int exporter_timeout_ms(struct exporter *exporter)
{
	(void)exporter;
	return -1;
}

int exporter_run(struct exporter *exporter, __u64 now_ns)
{
	(void)exporter;
	(void)now_ns;
	return -EOPNOTSUPP;
}

static void stop_http(struct exporter *exporter)
{
	(void)exporter;
}
#endif

void exporter_close(struct exporter *exporter)
{
	stop_http(exporter);
	if (exporter->listen_fd >= 0)
		close(exporter->listen_fd);
	if (exporter->bpf_stats_fd >= 0)
		close(exporter->bpf_stats_fd);
	metrics_free(&exporter->metrics);
	exporter->http = NULL;
	exporter->listen_fd = exporter->bpf_stats_fd = -1;
}

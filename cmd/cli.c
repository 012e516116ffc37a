// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dispatch: "tcptrace COMMAND ..." or a symlink named after a command (argv[0]), both
 * through the table in commands.def and the same per-command parser.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <elf.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "../lib/array.h"
#include "../lib/identity.h"
#include "../lib/methods.h"
#include "cli.h"

static const struct command commands[] = {
#define TCPTRACE_COMMAND(cmd, cmd_aliases, cmd_summary, runner) \
	{ .name = #cmd,                                         \
	  .aliases = (cmd_aliases),                             \
	  .summary = (cmd_summary),                             \
	  .parse = cmd##_parse,                                 \
	  .usage = cmd##_usage },
#include "commands.def"
#undef TCPTRACE_COMMAND
};

#define NR_COMMANDS (ARRAY_SIZE(commands))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

bool cli_is_command(const char *name)
{
	return find_command(name) != NULL;
}

/* Is name one of the space-separated words in list? */
static bool in_word_list(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *word = list; *word; word += strcspn(word, " ")) {
		word += strspn(word, " ");
		if (!strncmp(word, name, len) && (word[len] == ' ' || !word[len]))
			return true;
	}
	return false;
}

static const struct command *find_command_by_alias(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (in_word_list(commands[i].aliases, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fputs("Usage: tcptrace COMMAND [OPTIONS]\n"
	      "       tcptrace help [COMMAND]\n"
	      "       tcptrace --version\n"
	      "\n"
	      "Trace TCP connections with eBPF.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'tcptrace COMMAND --help' for the options of a command.\n", out);
}

static enum cli_result top_level_error(const char *fmt, const char *arg)
{
	fputs("tcptrace: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return CLI_BAD_USAGE;
}

const char *cli_quote(const char *value)
{
	static char quoted[2][CLI_QUOTE_MAX * 4 + sizeof("...")];
	static unsigned int next;
	char *start = quoted[next++ % 2];
	char *end = format_escaped(start, value, CLI_QUOTE_MAX);

	*end = '\0';
	if (strnlen(value, CLI_QUOTE_MAX + 1) > CLI_QUOTE_MAX)
		memcpy(end, "...", sizeof("..."));
	return start;
}

enum cli_result cli_bad_usage(const struct command_context *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctx->command->usage(ctx, stderr);
	return CLI_BAD_USAGE;
}

int cli_getopt(struct command_context *ctx, int argc, char **argv, const char *optstring,
	       const struct option *longopts)
{
	/* Within a bundle (-tx), optind stays on it until its last letter. */
	ctx->current = optind ? optind : 1;
	return getopt_long(argc, argv, optstring, longopts, NULL);
}

/* A long option's name, without its "=value", quoted. */
static const char *quote_option_name(const char *option)
{
	char name[CLI_QUOTE_MAX + 2];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(option, "="), option);
	return cli_quote(name);
}

enum cli_result cli_bad_option(const struct command_context *ctx, int opt, char **argv)
{
	/* cli_getopt() is called with a leading ':' in optstring and opterr = 0. */
	const char *culprit = argv[ctx->current];
	bool long_option = !strncmp(culprit, "--", 2);
	const char letter[] = { '-', (char)optopt, '\0' };

	if (opt == ':' && long_option)
		return cli_bad_usage(ctx, "option '%s' needs a value", quote_option_name(culprit));
	if (opt == ':')
		return cli_bad_usage(ctx, "option '%s' needs a value", cli_quote(letter));
	if (!long_option)
		return cli_bad_usage(ctx, "unknown option '%s'", cli_quote(letter));
	/* A known long option sets optopt: it was given a value it does not take. */
	if (optopt)
		return cli_bad_usage(ctx, "option '%s' takes no value", quote_option_name(culprit));
	return cli_bad_usage(ctx, "unknown option '%s'", cli_quote(culprit));
}

/* Runs a command's parser on argv, argv[0] being how the user named it. */
static enum cli_result parse_command(const struct command *command, const char *prog, int argc,
				     char **argv, struct trace_config *config)
{
	struct command_context ctx = { .prog = prog, .command = command };

	memset(config, 0, sizeof(*config));
	config->command = command->name;
	config->filter_uid = FILTER_UID_ANY;
	/* glibc: 0 rescans from scratch, so that a process (a unit test) may parse twice. */
	optind = 0;
	opterr = 0;
	return command->parse(&ctx, argc, argv, config);
}

static enum cli_result help(int argc, char **argv)
{
	const struct command *command;
	struct command_context ctx;
	char prog[64];

	if (argc < 3) {
		usage(stdout);
		return CLI_DONE;
	}
	command = find_command(argv[2]);
	if (!command)
		return top_level_error("unknown command '%s'", cli_quote(argv[2]));
	snprintf(prog, sizeof(prog), "tcptrace %s", command->name);
	ctx.prog = prog;
	ctx.command = command;
	command->usage(&ctx, stdout);
	return CLI_DONE;
}

enum cli_result cli_parse(int argc, char **argv, struct trace_config *config)
{
	static char prog[64];
	const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const struct command *command;

	name = name ? name + 1 : argc > 0 ? argv[0] : "tcptrace";
	command = find_command_by_alias(name);
	if (command)
		return parse_command(command, name, argc, argv, config);

	if (argc < 2)
		return top_level_error("%s", "no command given");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(argc, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tcptrace %s\n", TCPTRACE_VERSION);
		return CLI_DONE;
	}
	if (argv[1][0] == '-')
		return top_level_error("options go after the command: '%s'", cli_quote(argv[1]));
	command = find_command(argv[1]);
	if (!command)
		return top_level_error("unknown command '%s'", cli_quote(argv[1]));
	snprintf(prog, sizeof(prog), "tcptrace %s", command->name);
	return parse_command(command, prog, argc - 1, argv + 1, config);
}

/* Like strtoul(), but the whole text must be decimal digits, from min to max. */
static int parse_decimal(const char *text, unsigned long long min, unsigned long long max,
			 unsigned long long *value)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*value = strtoull(text, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || *value < min || *value > max)
		return -ERANGE;
	return 0;
}

/* PID_MAX_LIMIT: no kernel hands out a larger PID. */
#define PID_MAX 4194304

int cli_parse_pid(const char *text, __u32 *pid)
{
	unsigned long long value;
	int err = parse_decimal(text, 1, PID_MAX, &value);

	if (!err)
		*pid = value;
	return err;
}

#define MS_MAX	    86400000ull /* a day: any longer threshold is a typo */
#define SECONDS_MAX 31536000ull /* a year: any longer run is a typo */

/*
 * A decimal number of units with up to six decimals ("1", "0.25"), at most max_whole
 * units, into nanoseconds, exactly: unit_ns is one unit's worth.
 */
static int parse_fixed_point(const char *text, unsigned long long max_whole, __u64 unit_ns,
			     __u64 *ns)
{
	char whole_text[24], frac_text[7] = "000000";
	size_t whole_len = strcspn(text, ".");
	unsigned long long whole, frac = 0;
	int err;

	if (whole_len >= sizeof(whole_text))
		return -ERANGE;
	memcpy(whole_text, text, whole_len);
	whole_text[whole_len] = '\0';
	if (text[whole_len] == '.') {
		const char *frac_part = text + whole_len + 1;
		size_t frac_len = strlen(frac_part);

		if (frac_len == 0 || frac_len > 6)
			return -EINVAL;
		memcpy(frac_text, frac_part, frac_len);
	}
	err = parse_decimal(whole_text, 0, max_whole, &whole);
	if (!err)
		err = parse_decimal(frac_text, 0, 999999, &frac);
	if (!err && whole * 1000000 + frac > max_whole * 1000000)
		err = -ERANGE;
	if (!err)
		*ns = whole * unit_ns + frac * (unit_ns / 1000000);
	return err;
}

int cli_parse_ms(const char *text, __u64 *ns)
{
	return parse_fixed_point(text, MS_MAX, 1000000, ns);
}

int cli_parse_seconds(const char *text, __u64 *ns)
{
	int err = parse_fixed_point(text, SECONDS_MAX, 1000000000, ns);

	return !err && *ns == 0 ? -ERANGE : err;
}

int cli_parse_uid(const char *text, __u32 *uid)
{
	unsigned long long value;
	int err = parse_decimal(text, 0, UINT_MAX - 1, &value);

	if (!err)
		*uid = value;
	return err;
}

int cli_check_cgroup(const char *path)
{
	struct statfs fs;
	struct stat st;

	if (stat(path, &st) || statfs(path, &fs))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return fs.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EMEDIUMTYPE;
}

int cli_parse_netns(const char *path, __u32 *inode)
{
	/* O_NONBLOCK: a FIFO given by mistake must not hang the parser. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), type, err = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		err = -errno;
	else if (type != CLONE_NEWNET)
		err = -EMEDIUMTYPE;
	else if (fstat(fd, &st))
		err = -errno;
	else
		*inode = st.st_ino;
	close(fd);
	return err;
}

/*
 * Before Linux 5.13 no event shows an ICMP error that comes while connect() holds the
 * socket (bpf/connect.bpf.c): the attempt then ends as the application leaves it.
 */
const struct optional_program cli_icmp_soft_errors = {
	.name = "connect_error",
	.lost = "an ICMP error that a non-blocking connect takes with SO_ERROR shows as ABANDONED",
};
/* A kernel without io_uring, or too old to show multishot submissions. */
const struct optional_program cli_uring_multishot = {
	.name = "accept_uring_submit",
	.lost = "multishot io_uring accepts go unseen",
};
const struct kernel_limit cli_limit_refused = {
	.program = "accept_failed_drop",
	.type = "skb_drop_reason",
	.lost = "REFUSED, which needs the packet drop reasons of Linux 5.17, or fentry or kprobe",
	.unless = "accept_refused_v4", /* the resets sent for want of a socket */
};
const struct kernel_limit cli_limit_dropped = {
	.program = "accept_failed_drop",
	.type = "skb_drop_reason",
	.member = "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW",
	.lost = "DROPPED, which needs the drop reason TCP_LISTEN_OVERFLOW of Linux 6.15, or "
		"fentry or kprobe",
	.unless = "accept_overflow_v4", /* the handshakes that found the queue full */
};
const struct kernel_limit cli_limit_uring = {
	.program = "accept_uring_complete",
	.type = "trace_event_raw_io_uring_complete",
	.member = "req",
	.lost = "io_uring accepts: its io_uring:io_uring_complete carries no request",
	.useless = true, /* it would run at every completion on the machine, for nothing */
};
/* Before drop reasons (5.17), REFUSED comes from the resets sent for want of a socket. */
const struct kernel_stand_in cli_stand_in_refused = {
	.programs = { "accept_refused_v4", "accept_refused_v6" },
	.type = "skb_drop_reason",
};
/* Before its drop reason (6.15), DROPPED comes from the handshakes that found the queue full. */
const struct kernel_stand_in cli_stand_in_dropped = {
	.programs = { "accept_overflow_v4", "accept_overflow_v6" },
	.type = "skb_drop_reason",
	.member = "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW",
};
/* Before bpf_task_pt_regs() (5.15), the syscall path finds the listener by what entry kept. */
const struct kernel_stand_in cli_stand_in_listener = {
	.programs = { "accept_listener_accept4", "accept_listener_accept" },
	.type = "bpf_func_id",
	.member = "BPF_FUNC_task_pt_regs",
};
const struct optional_program cli_uring_accepts = {
	.name = "accept_uring_complete",
	.lost = "io_uring accepts go unseen",
};

const char *cli_process_option(const struct trace_config *config)
{
	if (config->filter_tgid)
		return "-p";
	if (config->filter_uid != FILTER_UID_ANY)
		return "-u";
	return config->cgroup_option;
}

static int parse_port(const char *text, __u16 *port)
{
	unsigned long long value;

	if (parse_decimal(text, 1, 65535, &value))
		return -EINVAL;
	*port = value;
	return 0;
}

int cli_parse_listen(const char *text, struct sockaddr_storage *addr, socklen_t *len)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	struct sockaddr_in *in = (struct sockaddr_in *)addr;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	size_t host_len = colon ? (size_t)(colon - text) : 0;
	__u16 port;

	memset(addr, 0, sizeof(*addr));
	if (!colon || host_len < 1 || host_len >= sizeof(host) || parse_port(colon + 1, &port))
		return -EINVAL;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (host[0] == '[' && host[host_len - 1] == ']') {
		host[host_len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	*len = sizeof(*in);
	return 0;
}

int cli_parse_count(const char *text, __u64 *count)
{
	unsigned long long value;
	int err = parse_decimal(text, 1, ULLONG_MAX, &value);

	if (!err)
		*count = value;
	return err;
}

int cli_parse_ports(const char *text, __u16 *ports, unsigned int *nr_ports)
{
	*nr_ports = 0;
	for (const char *item = text;; item++) {
		size_t len = strcspn(item, ",");
		unsigned long long port;
		char digits[8];
		int err;

		if (len >= sizeof(digits))
			return -ERANGE;
		memcpy(digits, item, len);
		digits[len] = '\0';
		err = parse_decimal(digits, 1, 65535, &port);
		if (err)
			return err;
		if (*nr_ports == FILTER_PORTS_MAX)
			return -E2BIG;
		ports[(*nr_ports)++] = port;
		item += len;
		if (!*item)
			return 0;
	}
}

#define RING_SIZE_MAX (1u << 30)

int cli_parse_ring_size(const char *text, __u32 *bytes)
{
	static const char units[] = "kmg"; /* KiB, MiB, GiB */
	unsigned long long value, page = sysconf(_SC_PAGESIZE);
	size_t digits = strspn(text, "0123456789");
	const char *unit = NULL;
	char number[16];
	int err;

	if (text[digits]) {
		unit = strchr(units, tolower((unsigned char)text[digits]));
		if (!unit || text[digits + 1])
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	if (digits >= sizeof(number))
		return -ERANGE;
	memcpy(number, text, digits);
	number[digits] = '\0';
	err = parse_decimal(number, 0, RING_SIZE_MAX, &value);
	if (err)
		return err;
	if (unit)
		value <<= 10 * (unit - units + 1);
	if (value < page || value > RING_SIZE_MAX || (value & (value - 1)))
		return -ERANGE;
	*bytes = value;
	return 0;
}

static enum cli_result parse_ports_option(const struct command_context *ctx, const char *text,
					  struct trace_config *config)
{
	int err = cli_parse_ports(text, config->filter_ports, &config->nr_filter_ports);

	if (err == -E2BIG)
		return cli_bad_usage(ctx, "too many ports in '%s': at most %d", cli_quote(text),
				     FILTER_PORTS_MAX);
	if (err)
		return cli_bad_usage(ctx,
				     "invalid port list '%s': expected ports from 1 to 65535, "
				     "separated by commas",
				     cli_quote(text));
	return CLI_RUN;
}

static enum cli_result family_option(const struct command_context *ctx, __u16 family,
				     struct trace_config *config)
{
	if (config->filter_family && config->filter_family != family)
		return cli_bad_usage(ctx, "options '-4' and '-6' exclude each other");
	config->filter_family = family;
	return CLI_RUN;
}

/* --cgroup, --unit, --pod and --container fill the one cgroup filter the kernel has. */
static enum cli_result one_cgroup(const struct command_context *ctx, const char *option,
				  struct trace_config *config)
{
	if (config->cgroup_option && strcmp(config->cgroup_option, option))
		return cli_bad_usage(ctx, "options '%s' and '%s' exclude each other",
				     config->cgroup_option, option);
	config->cgroup_option = option;
	return CLI_RUN;
}

static enum cli_result cgroup_option(const struct command_context *ctx, const char *path,
				     struct trace_config *config)
{
	int err = cli_check_cgroup(path);

	if (one_cgroup(ctx, "--cgroup", config) != CLI_RUN)
		return CLI_BAD_USAGE;
	if (err == -EMEDIUMTYPE)
		return cli_bad_usage(ctx, "invalid cgroup '%s': not on a cgroup v2 filesystem",
				     cli_quote(path));
	if (err)
		return cli_bad_usage(ctx, "invalid cgroup '%s': %s", cli_quote(path),
				     strerror(-err));
	config->cgroup_path = path;
	return CLI_RUN;
}

/*
 * What --unit, --pod and --container look for, and how they say what went wrong: each
 * message a format of one '%s', the name.
 */
struct cgroup_finder {
	const char *option;
	const char *malformed; /* what a well-formed name looks like */
	const char *missing;   /* a well-formed one that leads nowhere */
	const char *several;   /* one that leads to more than one cgroup */
	int (*find)(struct identity_resolver *resolver, const char *name, char *path, size_t size);
};

static const struct cgroup_finder unit_finder = {
	.option = "--unit",
	.malformed = "invalid unit '%s': expected a systemd unit's name",
	.missing = "invalid unit '%s': no cgroup has this name",
	.several = "invalid unit '%s': several cgroups have this name (select one with --cgroup)",
	.find = identity_find_unit,
};
static const struct cgroup_finder pod_finder = {
	.option = "--pod",
	.malformed = "invalid pod '%s': expected NAMESPACE/NAME",
	.missing = "invalid pod '%s': no such pod on this node (/var/log/pods)",
	.several = "invalid pod '%s': several cgroups hold its UID (select one with --cgroup)",
	.find = identity_find_pod,
};
static const struct cgroup_finder container_finder = {
	.option = "--container",
	.malformed = "invalid container '%s': expected 12 to 64 hexadecimal digits",
	.missing = "invalid container '%s': no cgroup holds this container",
	.several = "invalid container '%s': several containers begin so (give more digits)",
	.find = identity_find_container,
};

/* The cgroup directory a name leads to, found now: it is filtered as --cgroup's. */
static enum cli_result find_named_cgroup(const struct command_context *ctx,
					 const struct cgroup_finder *finder, const char *name,
					 struct trace_config *config)
{
	struct identity_resolver *resolver;
	const char *message;
	int err;

	if (one_cgroup(ctx, finder->option, config) != CLI_RUN)
		return CLI_BAD_USAGE;
	err = identity_resolver_new(NULL, &resolver);
	if (err)
		return cli_bad_usage(ctx, "cannot look up '%s': no cgroup v2 tree to search (%s)",
				     cli_quote(name), strerror(-err));
	err = finder->find(resolver, name, config->cgroup_found, sizeof(config->cgroup_found));
	identity_resolver_free(resolver);
	if (!err) {
		config->cgroup_path = config->cgroup_found;
		return CLI_RUN;
	}
	if (err == -ENOENT)
		message = finder->missing;
	else if (err == -E2BIG)
		message = finder->several;
	else if (err == -EINVAL)
		message = finder->malformed;
	else
		return cli_bad_usage(ctx, "cannot look up '%s': %s", cli_quote(name),
				     strerror(-err));
	return cli_bad_usage(ctx, message, cli_quote(name));
}

static enum cli_result netns_option(const struct command_context *ctx, const char *path,
				    struct trace_config *config)
{
	int err = cli_parse_netns(path, &config->filter_netns);

	if (err == -EMEDIUMTYPE || err == -ENOTTY)
		return cli_bad_usage(ctx,
				     "invalid network namespace '%s': not a network namespace "
				     "file (/proc/PID/ns/net, /run/netns/NAME)",
				     cli_quote(path));
	if (err)
		return cli_bad_usage(ctx, "invalid network namespace '%s': %s", cli_quote(path),
				     strerror(-err));
	return CLI_RUN;
}

#define BTF_MAGIC 0xeB9F

/* The start of struct btf_header (linux/btf.h), as raw BTF begins. */
struct btf_start {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
};

/* Raw BTF: its magic, version 1, and a header that fits in the file. */
static bool is_raw_btf(const void *start, off_t size)
{
	struct btf_start btf;

	memcpy(&btf, start, sizeof(btf));
	return btf.magic == BTF_MAGIC && btf.version == 1 && btf.hdr_len >= sizeof(btf) &&
	       btf.hdr_len < size;
}

/* Section i's header, if it lies within the file. */
static bool read_section(int fd, const Elf64_Ehdr *ehdr, unsigned int i, off_t size,
			 Elf64_Shdr *shdr)
{
	__u64 offset = ehdr->e_shoff + (__u64)i * sizeof(*shdr);

	return ehdr->e_shoff < (__u64)size && offset + sizeof(*shdr) <= (__u64)size &&
	       pread(fd, shdr, sizeof(*shdr), offset) == sizeof(*shdr);
}

/*
 * Is there a section called ".BTF", with contents, in this 64-bit little-endian ELF
 * file? Every offset is checked against the file's size: it may be anything.
 */
static bool elf_has_btf(int fd, const Elf64_Ehdr *ehdr, off_t size)
{
	Elf64_Shdr names, section;
	char name[5];

	/* The whole table in the file; e_shoff first, so that the sum cannot overflow. */
	if (ehdr->e_shentsize != sizeof(section) || ehdr->e_shoff > (__u64)size ||
	    ehdr->e_shoff + (__u64)ehdr->e_shnum * sizeof(section) > (__u64)size ||
	    ehdr->e_shstrndx == SHN_UNDEF || ehdr->e_shstrndx >= ehdr->e_shnum ||
	    !read_section(fd, ehdr, ehdr->e_shstrndx, size, &names) ||
	    names.sh_type != SHT_STRTAB || names.sh_offset > (__u64)size)
		return false;
	for (unsigned int i = 1; i < ehdr->e_shnum; i++) {
		if (!read_section(fd, ehdr, i, size, &section))
			return false;
		if (section.sh_name > names.sh_size - sizeof(name) ||
		    names.sh_size < sizeof(name) || section.sh_type == SHT_NOBITS ||
		    !section.sh_size ||
		    pread(fd, name, sizeof(name), names.sh_offset + section.sh_name) !=
			    sizeof(name))
			continue;
		if (!memcmp(name, ".BTF", sizeof(name)))
			return true;
	}
	return false;
}

int cli_check_btf_file(const char *path)
{
	/* Non-blocking: a FIFO must not hang the parser. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	Elf64_Ehdr ehdr = {};
	struct stat st;
	bool btf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int err = S_ISDIR(st.st_mode) ? -EISDIR : -EPROTO;

		close(fd);
		return err;
	}
	btf = read(fd, &ehdr, sizeof(ehdr)) >= (ssize_t)sizeof(struct btf_start) &&
	      (is_raw_btf(&ehdr, st.st_size) ||
	       (!memcmp(ehdr.e_ident, ELFMAG, SELFMAG) && ehdr.e_ident[EI_CLASS] == ELFCLASS64 &&
		ehdr.e_ident[EI_DATA] == ELFDATA2LSB && elf_has_btf(fd, &ehdr, st.st_size)));
	close(fd);
	return btf ? 0 : -EPROTO;
}

enum cli_result cli_btf_option(const struct command_context *ctx, const char *path,
			       struct trace_config *config)
{
	int err = cli_check_btf_file(path);

	if (err == -EPROTO)
		return cli_bad_usage(ctx,
				     "invalid BTF file '%s': neither raw BTF nor an ELF file with "
				     "a .BTF section",
				     cli_quote(path));
	if (err)
		return cli_bad_usage(ctx, "invalid BTF file '%s': %s", cli_quote(path),
				     strerror(-err));
	config->btf_path = path;
	return CLI_RUN;
}

enum cli_result cli_seconds_option(const struct command_context *ctx, const char *what,
				   const char *text, __u64 *ns)
{
	if (cli_parse_seconds(text, ns))
		return cli_bad_usage(ctx,
				     "invalid %s '%s': expected seconds, more than 0 and at most "
				     "31536000, with up to 6 decimals",
				     what, cli_quote(text));
	return CLI_RUN;
}

/* -i prints the summaries: without one, it would do nothing, silently. */
enum cli_result cli_check_interval(const struct command_context *ctx,
				   const struct trace_config *config)
{
	if (config->interval_ns && !config->count_mode && !config->histogram)
		return cli_bad_usage(ctx, "option '-i' needs -c or -H: it is how often they print");
	return CLI_RUN;
}

/* The options every command has; a command's parser hands over the letters it does not
 * know itself. */
enum cli_result cli_shared_option(struct command_context *ctx, int opt, char **argv,
				  struct trace_config *config)
{
	switch (opt) {
	case 'p':
		if (cli_parse_pid(optarg, &config->filter_tgid))
			return cli_bad_usage(
				ctx, "invalid PID '%s': expected a number from 1 to 4194304",
				cli_quote(optarg));
		return CLI_RUN;
	case 't':
		config->column_flags |= COLUMN_TIMESTAMP;
		return CLI_RUN;
	case 'T':
		config->column_flags |= COLUMN_CLOCK;
		return CLI_RUN;
	case 'x':
		config->column_flags |= COLUMN_EXTENDED;
		return CLI_RUN;
	case 'v':
		config->verbose = true;
		return CLI_RUN;
	case 'A':
		if (attach_method_parse(optarg, &config->attach_method))
			return cli_bad_usage(ctx,
					     "invalid attach method '%s': expected auto, tp_btf, "
					     "raw_tp, tracepoint, fentry or kprobe",
					     cli_quote(optarg));
		return CLI_RUN;
	case 'b':
		if (cli_parse_ring_size(optarg, &config->ring_size))
			return cli_bad_usage(ctx,
					     "invalid ring size '%s': expected a power of two from "
					     "%ldK to 1G, in bytes or with K, M or G",
					     cli_quote(optarg), sysconf(_SC_PAGESIZE) / 1024);
		return CLI_RUN;
	case 'P':
		return parse_ports_option(ctx, optarg, config);
	case 'u':
		if (cli_parse_uid(optarg, &config->filter_uid))
			return cli_bad_usage(
				ctx, "invalid UID '%s': expected a number from 0 to 4294967294",
				cli_quote(optarg));
		return CLI_RUN;
	case '4':
	case '6':
		return family_option(ctx, opt == '4' ? AF_INET : AF_INET6, config);
	case 'U':
		config->column_flags |= COLUMN_UID;
		return CLI_RUN;
	case 'j':
		config->column_flags |= FORMAT_JSON;
		return CLI_RUN;
	case CLI_OPTION_CGROUP:
		return cgroup_option(ctx, optarg, config);
	case CLI_OPTION_NETNS:
		return netns_option(ctx, optarg, config);
	case CLI_OPTION_UNIT:
		return find_named_cgroup(ctx, &unit_finder, optarg, config);
	case CLI_OPTION_POD:
		return find_named_cgroup(ctx, &pod_finder, optarg, config);
	case CLI_OPTION_CONTAINER:
		return find_named_cgroup(ctx, &container_finder, optarg, config);
	case CLI_OPTION_BTF:
		return cli_btf_option(ctx, optarg, config);
	case CLI_OPTION_NO_SECCOMP:
		config->no_seccomp = true;
		return CLI_RUN;
	case 'I':
		config->column_flags |= COLUMN_IDENTITY;
		return CLI_RUN;
	case 'e':
		config->column_flags |= COLUMN_PARENT;
		return CLI_RUN;
	case 'c':
		config->count_mode = true;
		return CLI_RUN;
	case 'H':
		config->histogram = true;
		return CLI_RUN;
	case 'i':
		return cli_seconds_option(ctx, "interval", optarg, &config->interval_ns);
	case 'd':
		return cli_seconds_option(ctx, "duration", optarg, &config->duration_ns);
	case 'n':
		if (cli_parse_count(optarg, &config->max_events))
			return cli_bad_usage(ctx,
					     "invalid event count '%s': expected a number from 1",
					     cli_quote(optarg));
		return CLI_RUN;
	case 'h':
		ctx->command->usage(ctx, stdout);
		return CLI_DONE;
	}
	return cli_bad_option(ctx, opt, argv);
}

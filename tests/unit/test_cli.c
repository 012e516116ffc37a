// SPDX-License-Identifier: GPL-2.0-only
/* The command line: every option, every rejection, and argv[0] dispatch. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "../../lib/metrics.h"
#include "../../cmd/cli.h"
#include "check.h"

#define ARGC(argv) ((int)(sizeof(argv) / sizeof(argv[0])) - 1)

static char captured[4096];

/* Runs cli_parse() with stdout and stderr captured; stderr's text lands in captured[]. */
static enum cli_result parse(char **argv, struct trace_config *config)
{
	FILE *err_file = tmpfile(), *out_file = tmpfile();
	int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
	enum cli_result result;
	int argc = 0;
	size_t n;

	while (argv[argc])
		argc++;
	fflush(stdout);
	dup2(fileno(err_file), STDERR_FILENO);
	dup2(fileno(out_file), STDOUT_FILENO);
	result = cli_parse(argc, argv, config);
	fflush(stderr);
	fflush(stdout);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	rewind(err_file);
	n = fread(captured, 1, sizeof(captured) - 1, err_file);
	captured[n] = '\0';
	fclose(err_file);
	fclose(out_file);
	return result;
}

static void test_defaults(void)
{
	char *argv[] = { "tcptrace", "connect", NULL };
	struct trace_config config;

	CHECK(parse(argv, &config) == CLI_RUN);
	CHECK_STR(config.command, "connect");
	CHECK_EQ_U64(config.filter_tgid, 0);
	CHECK_EQ_U64(config.filter_min_latency_ns, 0);
	CHECK_EQ_U64(config.filter_uid, FILTER_UID_ANY);
	CHECK_EQ_U64(config.filter_family, 0);
	CHECK_EQ_U64(config.filter_netns, 0);
	CHECK(!config.cgroup_path);
	CHECK_EQ_U64(config.column_flags, 0);
	CHECK(!config.verbose);
	CHECK(!config.no_seccomp);
	CHECK(config.columns != NULL);
	CHECK_STR(captured, "");
}

static void test_every_short_option(void)
{
	char *argv[] = { "tcptrace", "connect", "-p", "1234", "-t", "-x", "-L",	 "-v",
			 "-b",	     "64K",	"-d", "1.5",  "-n", "7",  "2.5", NULL };
	struct trace_config config;

	CHECK(parse(argv, &config) == CLI_RUN);
	CHECK_EQ_U64(config.filter_tgid, 1234);
	CHECK_EQ_U64(config.ring_size, 65536);
	CHECK_EQ_U64(config.duration_ns, 1500000000);
	CHECK_EQ_U64(config.max_events, 7);
	CHECK_EQ_U64(config.filter_min_latency_ns, 2500000);
	CHECK_EQ_U64(config.column_flags, COLUMN_TIMESTAMP | COLUMN_EXTENDED | COLUMN_LPORT);
	CHECK(config.verbose);
}

static void test_long_options_and_bundling(void)
{
	char *long_argv[] = { "tcptrace", "connect",   "--pid=77",     "--timestamp", "--extended",
			      "--lport",  "--verbose", "--no-seccomp", NULL };
	char *bundled_argv[] = { "tcptrace", "connect", "-txLv", "-p77", "--no-seccomp", NULL };
	struct trace_config with_long, bundled;

	CHECK(parse(long_argv, &with_long) == CLI_RUN);
	CHECK(parse(bundled_argv, &bundled) == CLI_RUN);
	CHECK_EQ_U64(with_long.filter_tgid, 77);
	CHECK(with_long.no_seccomp && bundled.no_seccomp);
	CHECK_EQ_U64(with_long.column_flags, COLUMN_TIMESTAMP | COLUMN_EXTENDED | COLUMN_LPORT);
	CHECK(memcmp(&with_long, &bundled, sizeof(bundled)) == 0);
}

/* A symlink runs its command through the same parser: identical configs. */
static void test_argv0_dispatch(void)
{
	char *via_tcptrace[] = { "tcptrace", "connect", "-p", "1", "-t", "3", NULL };
	char *via_tcpconnect[] = { "/usr/sbin/tcpconnect", "-p", "1", "-t", "3", NULL };
	char *via_tcpconnlat[] = { "./tcpconnlat", "-p", "1", "-t", "3", NULL };
	struct trace_config a, b, c;

	CHECK(parse(via_tcptrace, &a) == CLI_RUN);
	CHECK(parse(via_tcpconnect, &b) == CLI_RUN);
	CHECK(parse(via_tcpconnlat, &c) == CLI_RUN);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(memcmp(&a, &c, sizeof(a)) == 0);
	CHECK_EQ_U64(b.filter_tgid, 1);
	CHECK_EQ_U64(b.filter_min_latency_ns, 3000000);
}

/* Messages name the program as the user called it. */
static void test_alias_names_itself(void)
{
	char *argv[] = { "/usr/sbin/tcpconnect", "-p", "x", NULL };
	struct trace_config config;

	CHECK(parse(argv, &config) == CLI_BAD_USAGE);
	CHECK(strncmp(captured, "tcpconnect: invalid PID 'x'", 27) == 0);
	CHECK(strstr(captured, "Usage: tcpconnect ") != NULL);
}

static void test_help_and_version(void)
{
	char *cases[][4] = {
		{ "tcptrace", "--help" },
		{ "tcptrace", "-h" },
		{ "tcptrace", "help" },
		{ "tcptrace", "help", "connect" },
		{ "tcptrace", "--version" },
		{ "tcptrace", "connect", "-h" },
		{ "tcptrace", "connect", "--help" },
		{ "tcpconnect", "-h" },
		{ "tcptrace", "help", "accept" },
		{ "tcpaccept", "--help" },
		{ "tcptrace", "accept", "-h" },
	};
	struct trace_config config;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse(cases[i], &config) == CLI_DONE);
		CHECK_STR(captured, "");
	}
}

struct rejection {
	char *argv[6];
	const char *first_line; /* what stderr's first line must be */
};

static const struct rejection rejections[] = {
	{ { "tcptrace" }, "tcptrace: no command given" },
	{ { "tcptrace", "frob" }, "tcptrace: unknown command 'frob'" },
	{ { "tcptrace", "help", "frob" }, "tcptrace: unknown command 'frob'" },
	{ { "tcptrace", "-p", "1", "connect" }, "tcptrace: options go after the command: '-p'" },
	{ { "tcptrace", "connect", "-z" }, "tcptrace connect: unknown option '-z'" },
	{ { "tcptrace", "connect", "--frob" }, "tcptrace connect: unknown option '--frob'" },
	{ { "tcptrace", "connect", "-p" }, "tcptrace connect: option '-p' needs a value" },
	{ { "tcptrace", "connect", "--pid" }, "tcptrace connect: option '--pid' needs a value" },
	{ { "tcptrace", "connect", "-t", "--timestamp=yes" },
	  "tcptrace connect: option '--timestamp' takes no value" },
	{ { "tcptrace", "connect", "--frob=1" }, "tcptrace connect: unknown option '--frob=1'" },
	{ { "tcptrace", "connect", "-tz" }, "tcptrace connect: unknown option '-z'" },
	{ { "tcptrace", "connect", "--timestamp", "-qt" },
	  "tcptrace connect: unknown option '-q'" },
	{ { "tcptrace", "connect", "--pid=5", "-zq" }, "tcptrace connect: unknown option '-z'" },
	{ { "tcptrace", "connect", "-tp" }, "tcptrace connect: option '-p' needs a value" },
	{ { "tcptrace", "connect", "-t", "--pid" },
	  "tcptrace connect: option '--pid' needs a value" },
	{ { "tcptrace", "connect", "--frob=1", "-t" },
	  "tcptrace connect: unknown option '--frob=1'" },
#define BAD_PID(text)                                                                           \
	{                                                                                       \
		{ "tcptrace", "connect", "-p", text }, "tcptrace connect: invalid PID '" text   \
						       "': expected a number from 1 to 4194304" \
	}
	BAD_PID("abc"),
	BAD_PID(""),
	BAD_PID("0"),
	BAD_PID("-1"),
	BAD_PID("+5"),
	BAD_PID(" 5"),
	BAD_PID("5 "),
	BAD_PID("12x"),
	BAD_PID("0x10"),
	BAD_PID("4194305"),
	BAD_PID("99999999999999999999999"),
	BAD_PID("1.5"),
#define BAD_MS(text)                                                                       \
	{                                                                                  \
		{ "tcptrace", "connect", text }, "tcptrace connect: invalid min_ms '" text \
						 "': expected milliseconds from 0 to "     \
						 "86400000, with up to 6 decimals"         \
	}
	BAD_MS("abc"),
	BAD_MS(""),
	BAD_MS(".5"),
	BAD_MS("5."),
	BAD_MS("1.2.3"),
	BAD_MS("1e3"),
	BAD_MS("0x10"),
	BAD_MS("nan"),
	BAD_MS("inf"),
	BAD_MS("1.0000001"),
	BAD_MS("86400000.000001"),
	BAD_MS("86400001"),
	BAD_MS("99999999999999999999"),
	BAD_MS("1,5"),
	BAD_MS(" 1"),
#define BAD_RING(text)                                                                         \
	{                                                                                      \
		{ "tcptrace", "connect", "-b", text },                                         \
			"tcptrace connect: invalid ring size '" text                           \
			"': expected a power of two from 4K to 1G, in bytes or with K, M or G" \
	}
	BAD_RING(""),
	BAD_RING("0"),
	BAD_RING("K"),
	BAD_RING("3M"),
	BAD_RING("2K"),
	BAD_RING("4095"),
	BAD_RING("2G"),
	BAD_RING("1T"),
	BAD_RING("1KB"),
	BAD_RING("1.5M"),
	BAD_RING("-1M"),
	BAD_RING(" 1M"),
	BAD_RING("0x1000"),
	BAD_RING("99999999999999999999"),
#define BAD_DURATION(text)                                                                \
	{                                                                                 \
		{ "tcptrace", "connect", "-d", text },                                    \
			"tcptrace connect: invalid duration '" text                       \
			"': expected seconds, more than 0 and at most 31536000, with up " \
			"to 6 decimals"                                                   \
	}
	BAD_DURATION(""),
	BAD_DURATION("0"),
	BAD_DURATION("0.0"),
	BAD_DURATION("-1"),
	BAD_DURATION("1s"),
	BAD_DURATION("1.0000001"),
	BAD_DURATION("31536000.000001"),
	BAD_DURATION("99999999999999999999"),
	BAD_DURATION(".5"),
#define BAD_COUNT(text)                                               \
	{                                                             \
		{ "tcptrace", "accept", "-n", text },                 \
			"tcptrace accept: invalid event count '" text \
			"': expected a number from 1"                 \
	}
	BAD_COUNT(""),
	BAD_COUNT("0"),
	BAD_COUNT("-3"),
	BAD_COUNT("1e3"),
	BAD_COUNT("18446744073709551616"),
	BAD_COUNT("ten"),
	{ { "tcptrace", "connect", "-i", "1" },
	  "tcptrace connect: option '-i' needs -c or -H: it is how often they print" },
	{ { "tcptrace", "connect", "-c", "-i", "0" },
	  "tcptrace connect: invalid interval '0': expected seconds, more than 0 and at most "
	  "31536000, with up to 6 decimals" },
	{ { "tcptrace", "accept", "--interval=1", "-x" },
	  "tcptrace accept: option '-i' needs -c or -H: it is how often they print" },
	{ { "tcptrace", "accept", "-H", "-i", "-1" },
	  "tcptrace accept: invalid interval '-1': expected seconds, more than 0 and at most "
	  "31536000, with up to 6 decimals" },
	{ { "tcptrace", "accept", "-L" }, "tcptrace accept: unknown option '-L'" },
	{ { "tcptrace", "connect", "-4", "-6" },
	  "tcptrace connect: options '-4' and '-6' exclude each other" },
	{ { "tcptrace", "accept", "--ipv6", "--ipv4" },
	  "tcptrace accept: options '-4' and '-6' exclude each other" },
#define BAD_UID(text)                                                                            \
	{                                                                                        \
		{ "tcptrace", "connect", "-u", text },                                           \
			"tcptrace connect: invalid UID '" text "': expected a number from 0 to " \
			"4294967294"                                                             \
	}
	BAD_UID("-1"),
	BAD_UID("4294967295"),
	BAD_UID("99999999999999999999999"),
	BAD_UID(""),
	BAD_UID("1.5"),
	BAD_UID("0x10"),
	BAD_UID(" 1"),
	{ { "tcptrace", "accept", "--uid=root" },
	  "tcptrace accept: invalid UID 'root': expected a number from 0 to 4294967294" },
	{ { "tcptrace", "connect", "-P", "0" },
	  "tcptrace connect: invalid port list '0': expected ports from 1 to 65535, separated by "
	  "commas" },
	{ { "tcptrace", "connect", "--cgroup", "/nonexistent" },
	  "tcptrace connect: invalid cgroup '/nonexistent': No such file or directory" },
	{ { "tcptrace", "connect", "--cgroup", "/" },
	  "tcptrace connect: invalid cgroup '/': not on a cgroup v2 filesystem" },
	{ { "tcptrace", "connect", "--cgroup=/proc/self/status" },
	  "tcptrace connect: invalid cgroup '/proc/self/status': Not a directory" },
	{ { "tcptrace", "accept", "--netns", "/proc/self/ns/pid" },
	  "tcptrace accept: invalid network namespace '/proc/self/ns/pid': not a network namespace "
	  "file (/proc/PID/ns/net, /run/netns/NAME)" },
	{ { "tcptrace", "accept", "--netns", "/proc/self/status" },
	  "tcptrace accept: invalid network namespace '/proc/self/status': not a network "
	  "namespace file (/proc/PID/ns/net, /run/netns/NAME)" },
	{ { "tcptrace", "accept", "--netns", "/nonexistent" },
	  "tcptrace accept: invalid network namespace '/nonexistent': No such file or directory" },
	{ { "tcptrace", "connect", "--btf", "/nonexistent" },
	  "tcptrace connect: invalid BTF file '/nonexistent': No such file or directory" },
	{ { "tcptrace", "serve", "--btf", "/" },
	  "tcptrace serve: invalid BTF file '/': Is a directory" },
	{ { "tcptrace", "features", "--btf=/proc/self/status" },
	  "tcptrace features: invalid BTF file '/proc/self/status': neither raw BTF nor an ELF "
	  "file with a .BTF section" },
	{ { "tcptrace", "accept", "--btf", "/dev/null" },
	  "tcptrace accept: invalid BTF file '/dev/null': neither raw BTF nor an ELF file with a "
	  ".BTF section" },
	{ { "tcptrace", "accept", "-f", "-u", "0" },
	  "tcptrace accept: options '-f' and '-u' exclude each other: -f's attempts belong to no "
	  "process (select them with -P PORTS)" },
	{ { "tcptrace", "accept", "--ring-size=1Q" },
	  "tcptrace accept: invalid ring size '1Q': expected a power of two from 4K to 1G, in "
	  "bytes or with K, M or G" },
	{ { "tcptrace", "connect", "--", "-1" },
	  "tcptrace connect: invalid min_ms '-1': expected milliseconds from 0 to 86400000, "
	  "with up to 6 decimals" },
	{ { "tcptrace", "connect", "1", "2" }, "tcptrace connect: unexpected argument '2'" },
	{ { "tcptrace", "serve", "--no-seccomp=yes" },
	  "tcptrace serve: option '--no-seccomp' takes no value" },
#define BAD_PORTS(text)                                                                           \
	{                                                                                         \
		{ "tcptrace", "accept", "-P", text }, "tcptrace accept: invalid port list '" text \
						      "': expected ports from 1 to 65535, "       \
						      "separated by commas"                       \
	}
	BAD_PORTS(""),
	BAD_PORTS("0"),
	BAD_PORTS("65536"),
	BAD_PORTS("80,"),
	BAD_PORTS(",80"),
	BAD_PORTS("80,,81"),
	BAD_PORTS("http"),
	BAD_PORTS("-1"),
	BAD_PORTS("80 81"),
	BAD_PORTS("0x50"),
	BAD_PORTS("99999999999999999999"),
	BAD_PORTS("80;81"),
	{ { "tcptrace", "accept", "-P",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,"
	    "31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,"
	    "58,59,60,61,62,63,64,65" },
	  "tcptrace accept: too many ports in '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,"
	  "20,21,22,23,24,2...': at most 64" },
	/* A value is quoted escaped, at most its first 64 bytes. */
	{ { "tcpconnect", "-u", "\x1b[2J\a\\" },
	  "tcpconnect: invalid UID '\\x1b[2J\\x07\\x5c': expected a number from 0 to 4294967294" },
	{ { "tcpconnect", "-\x1b" }, "tcpconnect: unknown option '-\\x1b'" },
	{ { "tcptrace", "\x1b]0;x\a" }, "tcptrace: unknown command '\\x1b]0;x\\x07'" },
	{ { "tcpconnect", "--a-long-option-that-is-not-there-and-goes-on-and-on-and-on-and-on=1" },
	  "tcpconnect: unknown option "
	  "'--a-long-option-that-is-not-there-and-goes-on-and-on-and-on-and-...'" },
	{ { "tcpconnect", "--duration-of-the-run-that-is-not-an-option-at-all-but-goes-on-and-on" },
	  "tcpconnect: unknown option "
	  "'--duration-of-the-run-that-is-not-an-option-at-all-but-goes-on-a...'" },
	{ { "tcptrace", "accept", "-p", "abc" },
	  "tcptrace accept: invalid PID 'abc': expected a number from 1 to 4194304" },
	{ { "tcptrace", "accept", "-L" }, "tcptrace accept: unknown option '-L'" },
	{ { "tcptrace", "connect", "-A", "fexit" },
	  "tcptrace connect: invalid attach method 'fexit': expected auto, tp_btf, raw_tp, "
	  "tracepoint, fentry or kprobe" },
	{ { "tcpaccept", "--attach=" },
	  "tcpaccept: invalid attach method '': expected auto, tp_btf, raw_tp, tracepoint, fentry "
	  "or kprobe" },
	{ { "tcptrace", "accept", "-f", "-p", "1" },
	  "tcptrace accept: options '-f' and '-p' exclude each other: -f's attempts belong to no "
	  "process (select them with -P PORTS)" },
	{ { "tcptrace", "accept", "10" }, "tcptrace accept: unexpected argument '10'" },
	{ { "tcptrace", "accept", "-P" }, "tcptrace accept: option '-P' needs a value" },
	{ { "tcpaccept", "--failed=yes" }, "tcpaccept: option '--failed' takes no value" },
	{ { "tcpconnect", "-p", "0" },
	  "tcpconnect: invalid PID '0': expected a number from 1 to 4194304" },
};

/* One line naming the culprit, then the usage, all on stderr. */
static void test_rejections(void)
{
	for (size_t i = 0; i < sizeof(rejections) / sizeof(rejections[0]); i++) {
		const struct rejection *r = &rejections[i];
		struct trace_config config;
		char *newline;

		CHECK(parse((char **)r->argv, &config) == CLI_BAD_USAGE);
		newline = strchr(captured, '\n');
		CHECK(newline != NULL);
		if (!newline)
			continue;
		*newline = '\0';
		CHECK_STR(captured, r->first_line);
		CHECK(strncmp(newline + 1, "Usage: ", 7) == 0);
	}
}

/* A 131 KB argument makes a line of at most 64 of its bytes, not a 131 KB one. */
static void test_huge_value(void)
{
	static char huge[131072];
	char *argv[] = { "tcptrace", "connect", "-p", huge, NULL };
	struct trace_config config;

	memset(huge, '7', sizeof(huge) - 1);
	CHECK(parse(argv, &config) == CLI_BAD_USAGE);
	*strchr(captured, '\n') = '\0';
	CHECK_STR(captured,
		  "tcptrace connect: invalid PID "
		  "'7777777777777777777777777777777777777777777777777777777777777777...': "
		  "expected a number from 1 to 4194304");
}

static void test_attach_methods(void)
{
	char *long_form[] = { "tcpaccept", "--attach=raw_tp", NULL };
	char *argv[] = { "tcptrace", "connect", "-A", NULL, NULL };
	const char *names[] = { "auto", "tp_btf", "raw_tp", "tracepoint", "fentry", "kprobe" };
	struct trace_config config;

	for (int m = 0; m < 6; m++) {
		argv[3] = (char *)names[m];
		CHECK(parse(argv, &config) == CLI_RUN);
		CHECK_EQ_U64(config.attach_method, m);
	}
	CHECK(parse(long_form, &config) == CLI_RUN);
	CHECK_EQ_U64(config.attach_method, ATTACH_RAW_TP);
}

/* A test file of these bytes, checked as --btf's: 0, or -EPROTO for no BTF. */
static int check_bytes(const void *bytes, size_t size)
{
	char path[] = "/tmp/tcptrace-test-btf.XXXXXX";
	int fd = mkstemp(path), err;

	CHECK(fd >= 0 && write(fd, bytes, size) == (ssize_t)size);
	close(fd);
	err = cli_check_btf_file(path);
	unlink(path);
	return err;
}

/* An ELF file: a null section, the section names, and a .BTF of 4 bytes. */
struct elf_file {
	Elf64_Ehdr ehdr;
	Elf64_Shdr shdr[3];
	char names[12];
	char btf[4];
};

static struct elf_file elf_with_btf(void)
{
	struct elf_file file = {
		.ehdr = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
				       ELFDATA2LSB },
			  .e_shoff = offsetof(struct elf_file, shdr),
			  .e_shentsize = sizeof(Elf64_Shdr),
			  .e_shnum = 3,
			  .e_shstrndx = 1 },
		.shdr = { {},
			  { .sh_name = 1,
			    .sh_type = SHT_STRTAB,
			    .sh_offset = offsetof(struct elf_file, names),
			    .sh_size = sizeof(file.names) },
			  { .sh_name = 7,
			    .sh_type = SHT_PROGBITS,
			    .sh_offset = offsetof(struct elf_file, btf),
			    .sh_size = sizeof(file.btf) } },
		.names = "\0.strs\0.BTF",
	};

	return file;
}

/* --btf: raw BTF, or an ELF file with a .BTF section, as libbpf reads them; never more. */
static void test_btf_files(void)
{
	/* struct btf_header's start, little-endian: magic, version, flags, hdr_len. */
	const unsigned char raw[32] = { 0x9f, 0xeb, 1, 0, 24 },
			    bad_version[32] = { 0x9f, 0xeb, 2, 0, 24 },
			    short_header[32] = { 0x9f, 0xeb, 1, 0, 0, 16 };
	struct elf_file file = elf_with_btf();

	CHECK(check_bytes(&raw, sizeof(raw)) == 0);
	CHECK(check_bytes(&bad_version, sizeof(bad_version)) == -EPROTO);
	CHECK(check_bytes(&short_header, sizeof(short_header)) == -EPROTO);
	CHECK(check_bytes(&raw, 3) == -EPROTO);
	CHECK(check_bytes(&file, sizeof(file)) == 0);
	/* Cut short: the section headers lie beyond the end. */
	CHECK(check_bytes(&file, offsetof(struct elf_file, shdr) + 8) == -EPROTO);
	/* Hostile headers: anything may be any value. */
	file.ehdr.e_shoff = ~0ull - 16;
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	file = elf_with_btf();
	file.ehdr.e_shnum = 0xffff;
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	file = elf_with_btf();
	file.ehdr.e_shstrndx = SHN_UNDEF;
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	file = elf_with_btf();
	file.shdr[2].sh_name = 0xfffffff0;
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	file = elf_with_btf();
	file.shdr[2].sh_type = SHT_NOBITS;
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	file = elf_with_btf();
	file.shdr[2].sh_name = 1; /* .strs: no .BTF */
	CHECK(check_bytes(&file, sizeof(file)) == -EPROTO);
	CHECK(cli_check_btf_file("/") == -EISDIR);
}

static void test_accepted_values(void)
{
	struct {
		char *text;
		__u64 ns;
	} ms[] = {
		{ "0", 0 },
		{ "1", 1000000 },
		{ "0.5", 500000 },
		{ "0.000001", 1 },
		{ "007", 7000000 },
		{ "86400000", 86400000000000ull },
		{ "12.25", 12250000 },
		{ "0000000000000001", 1000000 },
	};
	__u32 pid;
	__u64 ns;

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		CHECK(cli_parse_ms(ms[i].text, &ns) == 0);
		CHECK_EQ_U64(ns, ms[i].ns);
	}
	struct {
		char *text;
		__u32 bytes;
	} sizes[] = {
		{ "4096", 4096 },  { "4K", 4096 },    { "4k", 4096 },	     { "64K", 65536 },
		{ "1M", 1 << 20 }, { "1m", 1 << 20 }, { "0016M", 16 << 20 }, { "1G", 1u << 30 },
	};
	__u32 bytes;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(cli_parse_ring_size(sizes[i].text, &bytes) == 0);
		CHECK_EQ_U64(bytes, sizes[i].bytes);
	}
	__u64 value;

	CHECK(cli_parse_seconds("0.000001", &value) == 0);
	CHECK_EQ_U64(value, 1000);
	CHECK(cli_parse_seconds("2.5", &value) == 0);
	CHECK_EQ_U64(value, 2500000000ull);
	CHECK(cli_parse_seconds("31536000", &value) == 0);
	CHECK_EQ_U64(value, 31536000000000000ull);
	CHECK(cli_parse_count("1", &value) == 0);
	CHECK_EQ_U64(value, 1);
	CHECK(cli_parse_count("18446744073709551615", &value) == 0);
	CHECK_EQ_U64(value, 18446744073709551615ull);
	CHECK(cli_parse_pid("1", &pid) == 0 && pid == 1);
	CHECK(cli_parse_pid("4194304", &pid) == 0 && pid == 4194304);
	test_btf_files();
}

static void test_accept_options(void)
{
	char *argv[] = { "tcptrace", "accept", "-P", "80,8080,443", "-t",
			 "-T",	     "-x",     "-f", "-v",	    NULL };
	char *with_pid[] = { "tcptrace", "accept", "-p", "42", NULL };
	char *defaults[] = { "tcptrace", "accept", NULL };
	struct trace_config config;

	CHECK(parse(defaults, &config) == CLI_RUN);
	CHECK_STR(config.command, "accept");
	CHECK_EQ_U64(config.nr_filter_ports, 0);
	CHECK_EQ_U64(config.column_flags, 0);
	/* Without -x and -f, their programs are left out, and nothing else is. */
	CHECK(config.disabled_programs[0] && !strcmp(config.disabled_programs[0], "accept_queue"));
	CHECK(config.disabled_programs[1] &&
	      !strcmp(config.disabled_programs[1], "accept_failed_drop"));
	CHECK(config.disabled_programs[2] &&
	      !strcmp(config.disabled_programs[2], "accept_refused_v4"));
	CHECK(config.disabled_programs[3] &&
	      !strcmp(config.disabled_programs[3], "accept_refused_v6"));
	CHECK_STR(config.disabled_programs[4] ?: "", "accept_overflow_v4");
	CHECK_STR(config.disabled_programs[5] ?: "", "accept_overflow_v6");
	CHECK_STR(config.disabled_programs[6] ?: "", "accept_listener_accept4");
	CHECK_STR(config.disabled_programs[7] ?: "", "accept_listener_accept");
	CHECK(!config.disabled_programs[8]);
	CHECK(config.stand_ins[0] == &cli_stand_in_refused);
	CHECK(config.stand_ins[1] == &cli_stand_in_dropped);
	CHECK(config.stand_ins[2] == &cli_stand_in_listener);
	CHECK(!config.report_queue);
	CHECK(parse(with_pid, &config) == CLI_RUN);
	CHECK_EQ_U64(config.filter_tgid, 42);
	CHECK(parse(argv, &config) == CLI_RUN);
	CHECK_EQ_U64(config.nr_filter_ports, 3);
	CHECK_EQ_U64(config.filter_ports[0], 80);
	CHECK_EQ_U64(config.filter_ports[1], 8080);
	CHECK_EQ_U64(config.filter_ports[2], 443);
	CHECK_EQ_U64(config.column_flags,
		     COLUMN_TIMESTAMP | COLUMN_CLOCK | COLUMN_EXTENDED | COLUMN_FAILED);
	CHECK(config.disabled_programs[0] == NULL);
	CHECK(config.report_queue);
	CHECK(config.limits[0] == &cli_limit_uring && config.limits[1] == &cli_limit_refused);
	CHECK(config.verbose);
}

/* connect's summaries. */
static void test_summaries(void)
{
	char *argv[] = { "tcptrace", "connect", "--count", "-H", "--interval=2.5", "-j", NULL };
	struct trace_config config;

	CHECK(parse(argv, &config) == CLI_RUN);
	CHECK(config.count_mode && config.histogram);
	CHECK_EQ_U64(config.interval_ns, 2500000000ull);
	CHECK(config.column_flags & FORMAT_JSON);
	CHECK(config.summary_labels != NULL);
}

/* accept's summaries: -c and -H need the accept-queue wait, so its probe is loaded. */
static void test_accept_summaries(void)
{
	char *count[] = { "tcpaccept", "-cf", "-i", "0.5", NULL };
	char *histogram[] = { "tcptrace", "accept", "--histogram", "--interval=10", "-j", NULL };
	char *connect[] = { "tcptrace", "connect", "-c", NULL };
	struct trace_config config;
	const struct summary_labels *connect_labels;

	CHECK(parse(connect, &config) == CLI_RUN);
	connect_labels = config.summary_labels;
	CHECK(parse(count, &config) == CLI_RUN);
	CHECK(config.count_mode && !config.histogram);
	CHECK_EQ_U64(config.interval_ns, 500000000ull);
	CHECK_EQ_U64(config.column_flags, COLUMN_FAILED);
	CHECK(config.report_queue);
	/* The backlog is no summary's: only its programs are left out. */
	CHECK_STR(config.disabled_programs[0], "accept_listener_accept4");
	CHECK_STR(config.disabled_programs[1], "accept_listener_accept");
	CHECK(config.disabled_programs[2] == NULL);
	CHECK(config.summary_labels != NULL && config.summary_labels != connect_labels);
	CHECK(parse(histogram, &config) == CLI_RUN);
	CHECK(config.histogram && !config.count_mode);
	CHECK_EQ_U64(config.interval_ns, 10000000000ull);
	CHECK(config.report_queue);
	/* -f's programs are left out too. */
	CHECK(config.disabled_programs[0] &&
	      !strcmp(config.disabled_programs[0], "accept_failed_drop"));
	CHECK(config.disabled_programs[2] &&
	      !strcmp(config.disabled_programs[2], "accept_refused_v6"));
	CHECK_STR(config.disabled_programs[6], "accept_listener_accept");
	CHECK(!config.disabled_programs[7]);
}

/* The filters, for both commands, and -U. */
static void test_filters(void)
{
	char *connect[] = { "tcptrace", "connect",	     "-P", "443,80", "-u", "0", "-6",
			    "--netns",	"/proc/self/ns/net", "-U", NULL };
	char *accept[] = { "tcptrace", "accept", "--uid=1000", "--ipv4", NULL };
	struct trace_config config;
	struct stat netns;

	CHECK(stat("/proc/self/ns/net", &netns) == 0);
	CHECK(parse(connect, &config) == CLI_RUN);
	CHECK_EQ_U64(config.nr_filter_ports, 2);
	CHECK_EQ_U64(config.filter_ports[0], 443);
	CHECK_EQ_U64(config.filter_uid, 0);
	CHECK_EQ_U64(config.filter_family, AF_INET6);
	CHECK_EQ_U64(config.filter_netns, netns.st_ino);
	CHECK_EQ_U64(config.column_flags, COLUMN_UID);
	CHECK(parse(accept, &config) == CLI_RUN);
	CHECK_EQ_U64(config.filter_uid, 1000);
	CHECK_EQ_U64(config.filter_family, AF_INET);
	CHECK(!config.cgroup_path && !config.filter_netns);
	/* A FIFO for a namespace is refused, not waited on. */
	char fifo[] = "/tmp/tcptrace-test-fifo.XXXXXX",
	     *fifo_argv[] = { "tcptrace", "accept", "--netns", fifo, NULL };

	CHECK(mkdtemp(fifo) != NULL);
	rmdir(fifo);
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(parse(fifo_argv, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "not a network namespace file") != NULL);
	unlink(fifo);
}

/* Who made a connection: -I, -e, and the cgroup options that find a cgroup by name. */
static void test_identity_options(void)
{
	char *columns[] = { "tcptrace", "accept", "-I", "--parent", NULL };
	char *pod[] = { "tcptrace", "connect", "--pod", "web", NULL };
	char *container[] = { "tcptrace", "connect", "--container", "0123456789a", NULL };
	char *unit[] = { "tcptrace", "connect", "--unit", "tcptrace-no-such.service", NULL };
	char mount[4096] = "", line[8192];
	char *both[] = { "tcptrace", "connect", "--cgroup", mount, "--unit", "x", NULL };
	struct trace_config config;
	FILE *mounts = fopen("/proc/mounts", "r");

	CHECK(parse(columns, &config) == CLI_RUN);
	CHECK_EQ_U64(config.column_flags, COLUMN_IDENTITY | COLUMN_PARENT);
	CHECK(parse(pod, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "tcptrace connect: invalid pod 'web': expected NAMESPACE/NAME\n"));
	CHECK(parse(container, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "tcptrace connect: invalid container '0123456789a': expected 12 to "
			       "64 hexadecimal digits\n"));
	/* The two cases that need a cgroup v2 tree to search. */
	while (mounts && fgets(line, sizeof(line), mounts))
		if (sscanf(line, "%*s %4095s cgroup2", mount) == 1 && strstr(line, " cgroup2 "))
			break;
	if (mounts)
		fclose(mounts);
	if (!*mount || !strstr(line, " cgroup2 "))
		return;
	CHECK(parse(unit, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "tcptrace connect: invalid unit 'tcptrace-no-such.service': no "
			       "cgroup has this name\n"));
	CHECK(parse(both, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "tcptrace connect: options '--cgroup' and '--unit' exclude each "
			       "other\n"));
}

static void test_accept_dispatch(void)
{
	char *via_tcptrace[] = { "tcptrace", "accept", "-p", "1", "-P", "22", "-x", NULL };
	char *via_tcpaccept[] = { "/usr/local/sbin/tcpaccept", "-p", "1", "-P", "22", "-x", NULL };
	struct trace_config a, b;

	CHECK(parse(via_tcptrace, &a) == CLI_RUN);
	CHECK(parse(via_tcpaccept, &b) == CLI_RUN);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

/* serve: its defaults, both commands' programs, and each of its own options. */
static void test_serve_options(void)
{
	char *defaults[] = { "tcptrace", "serve", NULL };
	char *all[] = { "tcptrace", "serve",	   "-f",	   "--listen",	   "[::1]:9",
			"--label",  "dport,daddr", "--max-series", "10000000",	   "--series-ttl",
			"1.5",	    "--bpf-stats", "-6",	   "--no-seccomp", NULL };
	char *by_user[] = { "tcptrace", "serve", "-u", "0", "-p", "7", NULL };
	char *ports[] = { "tcptrace", "serve", "--label", "dport", "-P", "80", NULL };
	struct trace_config config;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&config.metrics.listen;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&config.metrics.listen;

	memset(&config, 0, sizeof(config));
	CHECK(parse(defaults, &config) == CLI_RUN);
	CHECK_STR(config.command, "serve");
	CHECK_STR(config.program_commands[0], "connect");
	CHECK_STR(config.program_commands[1], "accept");
	CHECK_STR(config.disabled_programs[0], "accept_listener_accept4");
	CHECK_STR(config.disabled_programs[2], "accept_failed_drop");
	CHECK(config.stand_ins[0] == &cli_stand_in_refused &&
	      config.stand_ins[1] == &cli_stand_in_dropped && !config.stand_ins[2]);
	CHECK(config.report_queue);
	CHECK(config.metrics.nr_families == 5);
	CHECK_EQ_U64(config.metrics.labels, 0);
	CHECK_EQ_U64(config.metrics.max_series, 10000);
	CHECK_EQ_U64(config.metrics.series_ttl_ns, 3600 * 1000000000ull);
	CHECK(!config.metrics.bpf_stats);
	CHECK(!config.no_seccomp);
	CHECK_EQ_U64(in->sin_family, AF_INET);
	CHECK_EQ_U64(ntohs(in->sin_port), 10026);
	CHECK_EQ_U64(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	CHECK_EQ_U64(config.metrics.listen_len, sizeof(*in));

	memset(&config, 0, sizeof(config));
	CHECK(parse(all, &config) == CLI_RUN);
	CHECK_STR(config.disabled_programs[1], "accept_listener_accept");
	CHECK(!config.disabled_programs[2]);
	CHECK_EQ_U64(in6->sin6_family, AF_INET6);
	CHECK_EQ_U64(ntohs(in6->sin6_port), 9);
	CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
	CHECK_EQ_U64(config.metrics.labels, METRIC_LABEL_DADDR | METRIC_LABEL_DPORT);
	CHECK_EQ_U64(config.metrics.max_series, 10000000);
	CHECK_EQ_U64(config.metrics.series_ttl_ns, 1500000000);
	CHECK(config.metrics.bpf_stats);
	CHECK(config.no_seccomp);
	CHECK_EQ_U64(config.filter_family, AF_INET6);
	memset(&config, 0, sizeof(config));
	CHECK(parse(by_user, &config) == CLI_RUN);
	CHECK_EQ_U64(config.filter_uid, 0);
	CHECK_EQ_U64(config.filter_tgid, 7);

	CHECK(parse(ports, &config) == CLI_BAD_USAGE);
	CHECK(strstr(captured, "tcptrace serve: unknown option '-P'\n"));
}

static void test_port_lists(void)
{
	__u16 ports[FILTER_PORTS_MAX];
	char list[FILTER_PORTS_MAX * 6 + 8] = "1";
	unsigned int n;

	CHECK(cli_parse_ports("65535", ports, &n) == 0 && n == 1 && ports[0] == 65535);
	CHECK(cli_parse_ports("1,2,3", ports, &n) == 0 && n == 3 && ports[2] == 3);
	for (int i = 2; i <= FILTER_PORTS_MAX; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), ",%d", i);
	CHECK(cli_parse_ports(list, ports, &n) == 0 && n == FILTER_PORTS_MAX);
	strcat(list, ",65");
	CHECK(cli_parse_ports(list, ports, &n) == -E2BIG);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_every_short_option);
	RUN(test_long_options_and_bundling);
	RUN(test_argv0_dispatch);
	RUN(test_alias_names_itself);
	RUN(test_help_and_version);
	RUN(test_rejections);
	RUN(test_accepted_values);
	RUN(test_attach_methods);
	RUN(test_accept_options);
	RUN(test_huge_value);
	RUN(test_summaries);
	RUN(test_accept_summaries);
	RUN(test_filters);
	RUN(test_accept_dispatch);
	RUN(test_port_lists);
	RUN(test_identity_options);
	RUN(test_serve_options);
	return CHECK_RESULT();
}

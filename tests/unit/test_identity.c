// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cgroup paths as each runtime and driver writes them, the kubelet's directory names, and
 * the resolver against a tree of its own: a cgroup2 mount, /proc, and the kubelet's logs,
 * all in a temporary directory, where a cgroup's ID is its directory's inode number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/types.h>
#include "../../lib/identity.h"
#include "check.h"

/* Container IDs: 64 digits. The twins share their first 12. */
#define ID_DOCKER "d548c5b83fa61d8e3bd86ad42a7ffea9b7c86e3f9d8095c1577d3e1270bb9420"
#define ID_WEB	  "4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2"
#define ID_PAUSE  "6210c0bf05396716df932f0729df69de0533933e5ad9871fd07b61811c4c28df"
#define ID_ETCD	  "c38cbd92fce41312f3fbdce60510013b7f0d4004a03b45c8e762f98f1ed4006c"
#define ID_PODMAN "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
#define ID_API	  "14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479"
#define ID_CONMON "bab5c4d7552ba41ee95f3ca277ee00dd454fc697f2c459b536ff208c70f9a8de"
#define TWIN	  "abcdefabcdef"
#define ID_TWIN_1 TWIN "0d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192"
#define ID_TWIN_2 TWIN "1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012"
/* Pod UIDs, and as the systemd driver writes them in slice names. */
#define UID_WEB	    "7d3c1a52-9f1e-4c8b-a2d4-5e6f70819203"
#define UID_WEB_    "7d3c1a52_9f1e_4c8b_a2d4_5e6f70819203"
#define UID_API	    "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
#define UID_API_    "0b1c2d3e_4f50_4617_8293_a4b5c6d7e8f9"
#define UID_LATE    "5e6f7081-9203-4a4b-8c5d-6e7f80910a1b"
#define UID_LATE_   "5e6f7081_9203_4a4b_8c5d_6e7f80910a1b"
#define ID_LATE	    "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
#define UID_TWIN_1  "11111111-2222-4333-8444-555555555555"
#define UID_TWIN_1_ "11111111_2222_4333_8444_555555555555"
#define UID_TWIN_2  "66666666-7777-4888-9999-aaaaaaaaaaaa"
#define UID_GONE    "deadbeef-0000-4000-8000-000000000000"
/* A static pod's: the MD5 of its manifest. */
#define UID_ETCD "a81259cef8e959c624df1d456e5d3297"

#define BURSTABLE "kubepods.slice/kubepods-burstable.slice/"
#define WEB_POD	  BURSTABLE "kubepods-burstable-pod" UID_WEB_ ".slice"
#define ETCD_POD  "kubepods/besteffort/pod" UID_ETCD
#define API_POD	  "kubepods.slice/kubepods-pod" UID_API_ ".slice"
#define USER_APPS "user.slice/user-%d.slice/user@%d.service/app.slice"

/* Not container IDs: 63 digits, and a capital. */
#define ID_SHORT   TWIN "0d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819"
#define ID_CAPITAL "D548c5b83fa61d8e3bd86ad42a7ffea9b7c86e3f9d8095c1577d3e1270bb9420"

_Static_assert(sizeof(ID_TWIN_1) == 65 && sizeof(ID_TWIN_2) == 65, "64 digits");
_Static_assert(sizeof(ID_SHORT) == 64 && sizeof(ID_CAPITAL) == 65, "63 and 64 digits");

/* No process has this ID: its /proc/PID/cgroup is not there. */
#define NO_PID 4242

/* A name that may be NULL, checked against one that may be too. */
static const char *or_null(const char *name)
{
	return name ? name : "(null)";
}

#define CHECK_NAME(actual, expected) CHECK_STR(or_null(actual), or_null(expected))

/* ---- identity_parse_path ---- */

#define CHECK_PARSE(path, unit, container_id, pod_uid)            \
	do {                                                      \
		struct identity_path parsed_;                     \
		identity_parse_path(path, &parsed_);              \
		CHECK_NAME(parsed_.unit_p, unit);                 \
		CHECK_NAME(parsed_.container_id_p, container_id); \
		CHECK_NAME(parsed_.pod_uid_p, pod_uid);           \
	} while (0)

static void test_parse_systemd_units(void)
{
	CHECK_PARSE("/system.slice/nginx.service", "nginx.service", NULL, NULL);
	/* A user's manager runs units of its own: the deepest one is the process's. */
	CHECK_PARSE("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
		    "foo.service", NULL, NULL);
	CHECK_PARSE("/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope", NULL,
		    NULL);
	CHECK_PARSE("/user.slice/user-1000.slice/session-3.scope", "session-3.scope", NULL, NULL);
	/* A slice is not where a process runs. */
	CHECK_PARSE("/user.slice/user-1000.slice", NULL, NULL, NULL);
	CHECK_PARSE("/", NULL, NULL, NULL);
	CHECK_PARSE("", NULL, NULL, NULL);
	/* Neither is a suffix alone a unit. */
	CHECK_PARSE("/system.slice/.service", NULL, NULL, NULL);
	CHECK_PARSE("//system.slice//cron.service/", "cron.service", NULL, NULL);
}

static void test_parse_docker(void)
{
	CHECK_PARSE("/system.slice/docker-" ID_DOCKER ".scope", "docker-" ID_DOCKER ".scope",
		    ID_DOCKER, NULL);
	/* systemd inside the container: the container's scope stays the deepest with an ID. */
	CHECK_PARSE("/system.slice/docker-" ID_DOCKER ".scope/init.scope", "init.scope", ID_DOCKER,
		    NULL);
	CHECK_PARSE("/system.slice/docker-" ID_DOCKER ".scope/system.slice/sshd.service",
		    "sshd.service", ID_DOCKER, NULL);
	/* The cgroupfs driver. */
	CHECK_PARSE("/docker/" ID_DOCKER, NULL, ID_DOCKER, NULL);
	/* Docker in Docker: the inner container is the deepest. */
	CHECK_PARSE("/docker/" ID_DOCKER "/docker/" ID_WEB, NULL, ID_WEB, NULL);
}

static void test_parse_kubernetes_systemd(void)
{
	CHECK_PARSE("/" WEB_POD "/cri-containerd-" ID_WEB ".scope",
		    "cri-containerd-" ID_WEB ".scope", ID_WEB, UID_WEB);
	/* The pod's own cgroup, with no container. */
	CHECK_PARSE("/" WEB_POD, NULL, NULL, UID_WEB);
	CHECK_PARSE("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_WEB_
		    ".slice/docker-" ID_WEB ".scope",
		    "docker-" ID_WEB ".scope", ID_WEB, UID_WEB);
	/* Guaranteed QoS: no QoS slice, and CRI-O. */
	CHECK_PARSE("/" API_POD "/crio-" ID_API ".scope", "crio-" ID_API ".scope", ID_API, UID_API);
	/* A static pod's UID has no dashes. */
	CHECK_PARSE("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ETCD
		    ".slice/cri-containerd-" ID_ETCD ".scope",
		    "cri-containerd-" ID_ETCD ".scope", ID_ETCD, UID_ETCD);
	/* The systemd driver writes '_' for '-': dashes there are nesting, not a UID. */
	CHECK_PARSE("/kubepods.slice/kubepods-pod" UID_WEB ".slice", NULL, NULL, NULL);
	CHECK_PARSE("/kubepods.slice/kubepods-burstable.slice", NULL, NULL, NULL);
}

static void test_parse_kubernetes_cgroupfs(void)
{
	CHECK_PARSE("/kubepods/besteffort/pod" UID_WEB "/" ID_WEB, NULL, ID_WEB, UID_WEB);
	CHECK_PARSE("/kubepods/burstable/pod" UID_WEB "/" ID_WEB, NULL, ID_WEB, UID_WEB);
	/* Guaranteed QoS: the pod right under kubepods. */
	CHECK_PARSE("/kubepods/pod" UID_WEB "/" ID_WEB, NULL, ID_WEB, UID_WEB);
	CHECK_PARSE("/" ETCD_POD "/" ID_ETCD, NULL, ID_ETCD, UID_ETCD);
	CHECK_PARSE("/kubepods/pod" UID_WEB_, NULL, NULL, NULL);
	CHECK_PARSE("/kubepods/pod" UID_WEB "0", NULL, NULL, NULL);
}

static void test_parse_podman(void)
{
	CHECK_PARSE("/machine.slice/libpod-" ID_PODMAN ".scope", "libpod-" ID_PODMAN ".scope",
		    ID_PODMAN, NULL);
	CHECK_PARSE("/libpod_parent/libpod-" ID_PODMAN, NULL, ID_PODMAN, NULL);
	/* Rootless, in the user's manager. */
	CHECK_PARSE("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_PODMAN
		    ".scope/container",
		    "libpod-" ID_PODMAN ".scope", ID_PODMAN, NULL);
}

/* The runtimes' monitors run beside the container, not in it. */
static void test_parse_monitors(void)
{
	CHECK_PARSE("/" API_POD "/crio-conmon-" ID_CONMON ".scope",
		    "crio-conmon-" ID_CONMON ".scope", NULL, UID_API);
	CHECK_PARSE("/machine.slice/libpod-conmon-" ID_PODMAN ".scope",
		    "libpod-conmon-" ID_PODMAN ".scope", NULL, NULL);
}

static void test_parse_not_container_ids(void)
{
	/* 63 and 65 digits, a capital, a non-digit. */
	CHECK_PARSE("/docker/" ID_SHORT, NULL, NULL, NULL);
	CHECK_PARSE("/docker/" ID_DOCKER "0", NULL, NULL, NULL);
	CHECK_PARSE("/docker/" ID_CAPITAL, NULL, NULL, NULL);
	CHECK_PARSE("/docker/g548c5b83fa61d8e3bd86ad42a7ffea9b7c86e3f9d8095c1577d3e1270bb9420",
		    NULL, NULL, NULL);
	CHECK_PARSE("/system.slice/docker-" ID_DOCKER "0.scope", "docker-" ID_DOCKER "0.scope",
		    NULL, NULL);
	/* A runtime's ID, not just any unit ending in one. */
	CHECK_PARSE("/system.slice/foo-" ID_DOCKER ".scope", "foo-" ID_DOCKER ".scope", NULL, NULL);
	CHECK_PARSE("/system.slice/docker-" ID_DOCKER ".slice", NULL, NULL, NULL);
	CHECK_PARSE("/system.slice/docker.service", "docker.service", NULL, NULL);
}

/* ---- The kubelet's names ---- */

static void test_kubelet_pod_dir(void)
{
	struct kubelet_pod pod;
	char long_name[300];

	CHECK(!kubelet_parse_pod_dir("default_web-0_" UID_WEB, &pod));
	CHECK_STR(pod.namespace, "default");
	CHECK_STR(pod.pod, "web-0");
	CHECK_STR(pod.uid, UID_WEB);
	CHECK(!kubelet_parse_pod_dir("kube-system_etcd-node.example.com_" UID_ETCD, &pod));
	CHECK_STR(pod.namespace, "kube-system");
	CHECK_STR(pod.pod, "etcd-node.example.com");
	CHECK_STR(pod.uid, UID_ETCD);

	CHECK_EQ_U64(kubelet_parse_pod_dir("", &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default_web-0", &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default_web-0_" UID_WEB "_x", &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("_web-0_" UID_WEB, &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default__" UID_WEB, &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default_web-0_" UID_WEB_, &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default_web-0_not-a-uid", &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("Default_web-0_" UID_WEB, &pod), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_pod_dir("default_-web_" UID_WEB, &pod), -EINVAL);
	/* A namespace is a DNS label: no dots, 63 bytes at most. */
	CHECK_EQ_U64(kubelet_parse_pod_dir("my.ns_web-0_" UID_WEB, &pod), -EINVAL);
	snprintf(long_name, sizeof(long_name), "%.64s_web-0_%s", ID_WEB, UID_WEB);
	CHECK_EQ_U64(kubelet_parse_pod_dir(long_name, &pod), -EINVAL);
	/* Longer than a file name can be. */
	snprintf(long_name, sizeof(long_name), "default_%.254s_%s",
		 ID_WEB ID_WEB ID_WEB ID_WEB ID_WEB, UID_WEB);
	CHECK_EQ_U64(kubelet_parse_pod_dir(long_name, &pod), -EINVAL);
}

static void test_kubelet_container_log(void)
{
	struct kubelet_container container;
	char long_name[400];

	CHECK(!kubelet_parse_container_log("web-0_default_nginx-" ID_WEB ".log", &container));
	CHECK_STR(container.pod, "web-0");
	CHECK_STR(container.namespace, "default");
	CHECK_STR(container.container, "nginx");
	CHECK_STR(container.id, ID_WEB);
	/* The ID comes after the container name's last '-'. */
	CHECK(!kubelet_parse_container_log("web-0_default_log-shipper-" ID_WEB ".log", &container));
	CHECK_STR(container.container, "log-shipper");

	CHECK_EQ_U64(kubelet_parse_container_log("web-0_default_nginx-" ID_WEB, &container),
		     -EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("web-0_default_nginx_" ID_WEB ".log", &container),
		     -EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("web-0_default_nginx-" ID_WEB "0.log", &container),
		     -EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("web-0_default_nginx-" TWIN ".log", &container),
		     -EINVAL);
	CHECK_EQ_U64(
		kubelet_parse_container_log("web-0_default_nginx-" ID_CAPITAL ".log", &container),
		-EINVAL);
	CHECK_EQ_U64(
		kubelet_parse_container_log("web-0_default_nginx-" ID_SHORT ".log", &container),
		-EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("default_nginx-" ID_WEB ".log", &container),
		     -EINVAL);
	CHECK_EQ_U64(
		kubelet_parse_container_log("x_web-0_default_nginx-" ID_WEB ".log", &container),
		-EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("web-0_default_-" ID_WEB ".log", &container),
		     -EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log("-" ID_WEB ".log", &container), -EINVAL);
	CHECK_EQ_U64(kubelet_parse_container_log(".log", &container), -EINVAL);
	snprintf(long_name, sizeof(long_name), "%s%s%s%s_default_nginx-%s.log", ID_WEB, ID_WEB,
		 ID_WEB, ID_WEB, ID_WEB);
	CHECK_EQ_U64(kubelet_parse_container_log(long_name, &container), -EINVAL);
}

/* ---- The resolver, against a tree of its own ---- */

static char base[] = "/tmp/test_identity.XXXXXX";

/* base/relative, formatted; in one of a few buffers, each call taking the next. */
__attribute__((format(printf, 1, 2))) static const char *at(const char *format, ...)
{
	static char paths[4][PATH_MAX];
	static unsigned int next;
	char *path = paths[next++ % 4];
	int len = snprintf(path, PATH_MAX, "%s/", base);
	va_list args;

	va_start(args, format);
	vsnprintf(path + len, PATH_MAX - len, format, args);
	va_end(args);
	return path;
}

/* mkdir -p base/relative */
static bool make_dirs(const char *relative)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", at("%s", relative));
	for (char *slash = path + strlen(base) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return false;
		*slash = '/';
	}
	return !mkdir(path, 0755) || errno == EEXIST;
}

static bool write_file(const char *relative, const char *text)
{
	FILE *file = fopen(at("%s", relative), "w");

	if (!file)
		return false;
	fputs(text, file);
	return !fclose(file);
}

/* A cgroup's ID: its directory's inode number. */
static __u64 cgroup_id(const char *relative)
{
	struct stat st;

	if (stat(at("cgroup/%s", relative), &st)) {
		fprintf(stderr, "no cgroup %s\n", relative);
		return 0;
	}
	return st.st_ino;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void remove_tree(void)
{
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *const tree_dirs[] = {
	"cgroup/system.slice/nginx.service",
	"cgroup/system.slice/doomed.service",
	"cgroup/system.slice/docker-" ID_DOCKER ".scope/init.scope",
	"cgroup/system.slice/docker-" ID_TWIN_1 ".scope",
	"cgroup/system.slice/docker-" ID_TWIN_2 ".scope",
	"cgroup/user.slice/user-1000.slice/session-3.scope",
	"cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
	"cgroup/user.slice/user-1001.slice/user@1001.service/app.slice/foo.service",
	"cgroup/" WEB_POD "/cri-containerd-" ID_WEB ".scope",
	"cgroup/" WEB_POD "/cri-containerd-" ID_PAUSE ".scope",
	"cgroup/" ETCD_POD "/" ID_ETCD,
	"cgroup/" BURSTABLE "kubepods-burstable-pod" UID_TWIN_1_ ".slice",
	"cgroup/kubepods/burstable/pod" UID_TWIN_2,
	"cgroup/machine.slice/libpod-" ID_PODMAN ".scope",
	"cgroup/machine.slice/libpod-conmon-" ID_PODMAN ".scope",
	"cgroup/" API_POD "/crio-conmon-" ID_CONMON ".scope",
	"proc/100",
	"proc/101",
	"proc/102",
	"proc/103",
	"proc/104",
	/* The kubelet's: a directory per pod, a link per container (here a file). */
	"pods/default_web-0_" UID_WEB,
	"pods/kube-system_etcd-node_" UID_ETCD,
	"pods/default_gone_" UID_GONE,
	/* The same pod twice: deleted and made again, the old one not yet gone. */
	"pods/default_twin_" UID_TWIN_1,
	"pods/default_twin_" UID_TWIN_2,
	"pods/lost+found",
};

static bool make_tree(void)
{
	for (size_t i = 0; i < sizeof(tree_dirs) / sizeof(tree_dirs[0]); i++)
		if (!make_dirs(tree_dirs[i]))
			return false;
	return make_dirs("containers") &&
	       write_file("containers/web-0_default_nginx-" ID_WEB ".log", "") &&
	       write_file("containers/etcd-node_kube-system_etcd-" ID_ETCD ".log", "") &&
	       write_file("containers/README", "");
}

static struct identity_resolver *new_resolver(void)
{
	char cgroup2[PATH_MAX], proc[PATH_MAX], pods[PATH_MAX], containers[PATH_MAX];
	struct identity_roots roots = { cgroup2, proc, pods, containers };
	struct identity_resolver *resolver = NULL;

	snprintf(cgroup2, sizeof(cgroup2), "%s", at("cgroup"));
	snprintf(proc, sizeof(proc), "%s", at("proc"));
	snprintf(pods, sizeof(pods), "%s", at("pods"));
	snprintf(containers, sizeof(containers), "%s", at("containers"));
	CHECK_EQ_U64(identity_resolver_new(&roots, &resolver), 0);
	return resolver;
}

/* The identity of a cgroup of the tree, as a process that is gone saw it. */
static const struct identity *lookup(struct identity_resolver *resolver, const char *relative)
{
	return identity_lookup(resolver, cgroup_id(relative), NO_PID);
}

static void test_lookup_walked(void)
{
	struct identity_resolver *resolver = new_resolver();
	const struct identity *identity;

	if (!resolver)
		return;
	identity = lookup(resolver, "system.slice/nginx.service");
	CHECK_NAME(identity->cgroup, "/system.slice/nginx.service");
	CHECK_NAME(identity->unit, "nginx.service");
	CHECK_NAME(identity->container_id, NULL);
	CHECK_NAME(identity->k8s_namespace, NULL);

	identity = lookup(resolver, "system.slice/docker-" ID_DOCKER ".scope/init.scope");
	CHECK_NAME(identity->unit, "init.scope");
	CHECK_NAME(identity->container_id, ID_DOCKER);
	CHECK_NAME(identity->k8s_pod, NULL);

	identity = lookup(resolver, WEB_POD "/cri-containerd-" ID_WEB ".scope");
	CHECK_NAME(identity->cgroup, "/" WEB_POD "/cri-containerd-" ID_WEB ".scope");
	CHECK_NAME(identity->container_id, ID_WEB);
	CHECK_NAME(identity->k8s_namespace, "default");
	CHECK_NAME(identity->k8s_pod, "web-0");
	CHECK_NAME(identity->k8s_container, "nginx");

	/* The sandbox has no log: its pod is known, not its name. */
	identity = lookup(resolver, WEB_POD "/cri-containerd-" ID_PAUSE ".scope");
	CHECK_NAME(identity->k8s_namespace, "default");
	CHECK_NAME(identity->k8s_pod, "web-0");
	CHECK_NAME(identity->k8s_container, NULL);

	identity = lookup(resolver, ETCD_POD "/" ID_ETCD);
	CHECK_NAME(identity->cgroup, "/" ETCD_POD "/" ID_ETCD);
	CHECK_NAME(identity->unit, NULL);
	CHECK_NAME(identity->k8s_namespace, "kube-system");
	CHECK_NAME(identity->k8s_pod, "etcd-node");
	CHECK_NAME(identity->k8s_container, "etcd");

	identity = lookup(resolver, ".");
	CHECK_NAME(identity->cgroup, "/");
	CHECK_NAME(identity->unit, NULL);
	identity_resolver_free(resolver);
}

/* Once named, a cgroup stays named until the next walk, even removed. */
static void test_lookup_cached(void)
{
	struct identity_resolver *resolver;
	const struct identity *identity;
	__u64 id;

	CHECK(make_dirs("cgroup/system.slice/cached.service"));
	id = cgroup_id("system.slice/cached.service");
	resolver = new_resolver();
	if (!resolver)
		return;
	identity = identity_lookup(resolver, id, NO_PID);
	CHECK_NAME(identity->cgroup, "/system.slice/cached.service");
	CHECK(!rmdir(at("cgroup/system.slice/cached.service")));
	CHECK(identity_lookup(resolver, id, NO_PID) == identity);
	CHECK_NAME(identity->unit, "cached.service");
	identity_resolver_free(resolver);
}

/* A cgroup made after the walk, named by its process's /proc/PID/cgroup. */
static void test_lookup_proc(void)
{
	struct identity_resolver *resolver = new_resolver();
	const struct identity *identity;
	__u64 id;

	if (!resolver)
		return;
	CHECK(make_dirs("cgroup/system.slice/late.service"));
	id = cgroup_id("system.slice/late.service");
	CHECK(write_file("proc/100/cgroup", "12:pids:/system.slice/late.service\n"
					    "1:name=systemd:/system.slice/late.service\n"
					    "0::/system.slice/late.service\n"));
	identity = identity_lookup(resolver, id, 100);
	CHECK_NAME(identity->cgroup, "/system.slice/late.service");
	CHECK_NAME(identity->unit, "late.service");
	/* Remembered: the process may go. */
	identity = identity_lookup(resolver, id, NO_PID);
	CHECK_NAME(identity->cgroup, "/system.slice/late.service");

	/* A pod started since: the kubelet's directories are read again. */
	CHECK(make_dirs("pods/default_api-1_" UID_API));
	CHECK(write_file("containers/api-1_default_server-" ID_API ".log", ""));
	CHECK(make_dirs("cgroup/" API_POD "/crio-" ID_API ".scope"));
	CHECK(write_file("proc/101/cgroup", "0::/" API_POD "/crio-" ID_API ".scope\n"));
	identity = identity_lookup(resolver, cgroup_id(API_POD "/crio-" ID_API ".scope"), 101);
	CHECK_NAME(identity->cgroup, "/" API_POD "/crio-" ID_API ".scope");
	CHECK_NAME(identity->container_id, ID_API);
	CHECK_NAME(identity->k8s_namespace, "default");
	CHECK_NAME(identity->k8s_pod, "api-1");
	CHECK_NAME(identity->k8s_container, "server");
	identity_resolver_free(resolver);
}

/* /proc/PID/cgroup is taken only for the cgroup the event came from. */
static void test_lookup_proc_moved(void)
{
	struct identity_resolver *resolver = new_resolver();
	const struct identity *identity;

	if (!resolver)
		return;
	CHECK(make_dirs("cgroup/system.slice/elsewhere.service"));
	CHECK(write_file("proc/102/cgroup", "0::/system.slice/nginx.service\n"));
	identity = identity_lookup(resolver, cgroup_id("system.slice/elsewhere.service"), 102);
	CHECK_NAME(identity->cgroup, NULL);
	/* Nor a path out of the mount, even one that comes back into it. */
	CHECK(make_dirs("cgroup/system.slice/outside.service"));
	CHECK(write_file("proc/102/cgroup", "0::/../cgroup/system.slice/outside.service\n"));
	identity = identity_lookup(resolver, cgroup_id("system.slice/outside.service"), 102);
	CHECK_NAME(identity->cgroup, NULL);
	CHECK(!rmdir(at("cgroup/system.slice/elsewhere.service")));
	CHECK(!rmdir(at("cgroup/system.slice/outside.service")));
	identity_resolver_free(resolver);
}

/* A cgroup removed before its first lookup: its ID alone. */
static void test_lookup_removed(void)
{
	struct identity_resolver *resolver = new_resolver();
	const struct identity *identity;
	__u64 id;

	if (!resolver)
		return;
	CHECK(make_dirs("cgroup/system.slice/brief.service"));
	id = cgroup_id("system.slice/brief.service");
	CHECK(!rmdir(at("cgroup/system.slice/brief.service")));
	CHECK(write_file("proc/103/cgroup", "0::/system.slice/brief.service (deleted)\n"));
	identity = identity_lookup(resolver, id, 103);
	CHECK_NAME(identity->cgroup, NULL);
	CHECK_NAME(identity->unit, NULL);
	CHECK_NAME(identity->container_id, NULL);
	CHECK_NAME(identity_lookup(resolver, id, 103)->cgroup, NULL);
	identity_resolver_free(resolver);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * A miss walks the tree again at most once a second, and is remembered until then: a
 * flood of events from a cgroup not found costs nothing, not even a read of /proc.
 */
static void test_rescan_once_a_second(void)
{
	struct identity_resolver *resolver = new_resolver();
	__u64 later, latest, doomed = cgroup_id("system.slice/doomed.service");

	if (!resolver)
		return;
	CHECK_NAME(identity_lookup(resolver, doomed, NO_PID)->cgroup,
		   "/system.slice/doomed.service");
	CHECK(make_dirs("cgroup/system.slice/later.service"));
	later = cgroup_id("system.slice/later.service");
	CHECK_NAME(identity_lookup(resolver, later, NO_PID)->cgroup, NULL);
	CHECK(write_file("proc/104/cgroup", "0::/system.slice/later.service\n"));
	CHECK_NAME(identity_lookup(resolver, later, 104)->cgroup, NULL);

	sleep_ms(1100);
	CHECK(make_dirs("cgroup/system.slice/latest.service"));
	latest = cgroup_id("system.slice/latest.service");
	CHECK(!rmdir(at("cgroup/system.slice/doomed.service")));
	/* Not in /proc: found by the walk a second allows. */
	CHECK_NAME(identity_lookup(resolver, latest, NO_PID)->cgroup,
		   "/system.slice/latest.service");
	/* That walk forgot what was not found, and what is gone. */
	CHECK_NAME(identity_lookup(resolver, later, NO_PID)->cgroup, "/system.slice/later.service");
	CHECK_NAME(identity_lookup(resolver, doomed, NO_PID)->cgroup, NULL);
	identity_resolver_free(resolver);
}

/*
 * What was not found, or not named, is looked for again a second later by itself: a
 * service whose first process left before its event was read, a container whose log
 * link the kubelet made after its first connection.
 */
static void test_retried_a_second_later(void)
{
	struct identity_resolver *resolver = new_resolver();
	__u64 shy, late;

	if (!resolver)
		return;
	CHECK(make_dirs("cgroup/system.slice/shy.service") && make_dirs("proc/105") &&
	      make_dirs("proc/106"));
	shy = cgroup_id("system.slice/shy.service");
	CHECK_NAME(identity_lookup(resolver, shy, NO_PID)->cgroup, NULL);
	CHECK(write_file("proc/105/cgroup", "0::/system.slice/shy.service\n"));
	CHECK_NAME(identity_lookup(resolver, shy, 105)->cgroup, NULL);

	CHECK(make_dirs("pods/default_late-0_" UID_LATE));
	CHECK(make_dirs("cgroup/" BURSTABLE "kubepods-burstable-pod" UID_LATE_
			".slice/cri-containerd-" ID_LATE ".scope"));
	CHECK(write_file("proc/106/cgroup", "0::/" BURSTABLE "kubepods-burstable-pod" UID_LATE_
					    ".slice/cri-containerd-" ID_LATE ".scope\n"));
	late = cgroup_id(BURSTABLE "kubepods-burstable-pod" UID_LATE_
				   ".slice/cri-containerd-" ID_LATE ".scope");
	CHECK_NAME(identity_lookup(resolver, late, 106)->k8s_pod, "late-0");
	CHECK_NAME(identity_lookup(resolver, late, 106)->k8s_container, NULL);
	CHECK(write_file("containers/late-0_default_app-" ID_LATE ".log", ""));
	CHECK_NAME(identity_lookup(resolver, late, 106)->k8s_container, NULL);

	sleep_ms(1100);
	CHECK_NAME(identity_lookup(resolver, shy, 105)->cgroup, "/system.slice/shy.service");
	CHECK_NAME(identity_lookup(resolver, late, NO_PID)->k8s_container, "app");
	identity_resolver_free(resolver);
}

static int find_unit(struct identity_resolver *resolver, const char *name)
{
	char path[PATH_MAX];

	return identity_find_unit(resolver, name, path, sizeof(path));
}

static int find_pod(struct identity_resolver *resolver, const char *name)
{
	char path[PATH_MAX];

	return identity_find_pod(resolver, name, path, sizeof(path));
}

static int find_container(struct identity_resolver *resolver, const char *id)
{
	char path[PATH_MAX];

	return identity_find_container(resolver, id, path, sizeof(path));
}

static void test_find_unit(void)
{
	struct identity_resolver *resolver = new_resolver();
	char path[PATH_MAX];

	if (!resolver)
		return;
	CHECK_EQ_U64(identity_find_unit(resolver, "nginx", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/system.slice/nginx.service"));
	CHECK_EQ_U64(identity_find_unit(resolver, "nginx.service", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/system.slice/nginx.service"));
	CHECK_EQ_U64(identity_find_unit(resolver, "session-3.scope", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/user.slice/user-1000.slice/session-3.scope"));
	/* Made since the resolver was: a new walk sees it. */
	CHECK(make_dirs("cgroup/system.slice/fresh.service"));
	CHECK_EQ_U64(identity_find_unit(resolver, "fresh", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/system.slice/fresh.service"));

	/* Two users' managers each run one. */
	CHECK_EQ_U64(find_unit(resolver, "foo"), -E2BIG);
	CHECK_EQ_U64(find_unit(resolver, "missing"), -ENOENT);
	CHECK_EQ_U64(find_unit(resolver, "nginx.scope"), -ENOENT);
	CHECK_EQ_U64(find_unit(resolver, ""), -EINVAL);
	CHECK_EQ_U64(find_unit(resolver, "system.slice/nginx.service"), -EINVAL);
	CHECK_EQ_U64(identity_find_unit(resolver, "nginx", path, 10), -ENAMETOOLONG);
	identity_resolver_free(resolver);
}

static void test_find_pod(void)
{
	struct identity_resolver *resolver = new_resolver();
	char path[PATH_MAX];

	if (!resolver)
		return;
	CHECK_EQ_U64(identity_find_pod(resolver, "default/web-0", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/" WEB_POD));
	CHECK_EQ_U64(identity_find_pod(resolver, "kube-system/etcd-node", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/" ETCD_POD));

	/* Its log directory is there, its cgroup is not. */
	CHECK_EQ_U64(find_pod(resolver, "default/gone"), -ENOENT);
	CHECK_EQ_U64(find_pod(resolver, "default/nope"), -ENOENT);
	CHECK_EQ_U64(find_pod(resolver, "kube-system/web-0"), -ENOENT);
	CHECK_EQ_U64(find_pod(resolver, "default/twin"), -E2BIG);
	CHECK_EQ_U64(find_pod(resolver, "web-0"), -EINVAL);
	CHECK_EQ_U64(find_pod(resolver, "default/"), -EINVAL);
	CHECK_EQ_U64(find_pod(resolver, "/web-0"), -EINVAL);
	CHECK_EQ_U64(find_pod(resolver, "default/web-0/nginx"), -EINVAL);
	CHECK_EQ_U64(find_pod(resolver, "Default/web-0"), -EINVAL);
	CHECK_EQ_U64(identity_find_pod(resolver, "default/web-0", path, 20), -ENAMETOOLONG);
	identity_resolver_free(resolver);
}

static void test_find_container(void)
{
	struct identity_resolver *resolver = new_resolver();
	char path[PATH_MAX];

	if (!resolver)
		return;
	CHECK_EQ_U64(identity_find_container(resolver, ID_WEB, path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/" WEB_POD "/cri-containerd-" ID_WEB ".scope"));
	/* As docker ps shows it; the scope, not the init.scope under it. */
	CHECK_EQ_U64(identity_find_container(resolver, "d548c5b83fa6", path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/system.slice/docker-" ID_DOCKER ".scope"));
	CHECK_EQ_U64(identity_find_container(resolver, "c38cbd92fce41312f3", path, sizeof(path)),
		     0);
	CHECK_STR(path, at("cgroup/" ETCD_POD "/" ID_ETCD));
	CHECK_EQ_U64(identity_find_container(resolver, ID_PODMAN, path, sizeof(path)), 0);
	CHECK_STR(path, at("cgroup/machine.slice/libpod-" ID_PODMAN ".scope"));

	CHECK_EQ_U64(find_container(resolver, TWIN), -E2BIG);
	CHECK_EQ_U64(find_container(resolver, TWIN "0"), 0);
	/* A monitor's scope is not its container's. */
	CHECK_EQ_U64(find_container(resolver, ID_CONMON), -ENOENT);
	CHECK_EQ_U64(find_container(resolver, "ffffffffffff"), -ENOENT);
	CHECK_EQ_U64(find_container(resolver, "d548c5b83fa"), -EINVAL);
	CHECK_EQ_U64(find_container(resolver, "d548c5b83fag"), -EINVAL);
	CHECK_EQ_U64(find_container(resolver, "D548C5B83FA6"), -EINVAL);
	CHECK_EQ_U64(find_container(resolver, ID_DOCKER "0"), -EINVAL);
	CHECK_EQ_U64(find_container(resolver, ""), -EINVAL);
	CHECK_EQ_U64(identity_find_container(resolver, ID_WEB, path, 30), -ENAMETOOLONG);
	identity_resolver_free(resolver);
}

/* With no cgroup2 root given, the first cgroup2 mount of /proc/self/mountinfo. */
static void test_mountinfo(void)
{
	char proc[PATH_MAX], mountinfo[2 * PATH_MAX], path[PATH_MAX];
	struct identity_roots roots = { .proc = proc, .pods = "/nonexistent/pods" };
	struct identity_resolver *resolver = NULL;

	snprintf(proc, sizeof(proc), "%s", at("mountinfo"));
	CHECK(make_dirs("mountinfo/self"));
	CHECK(make_dirs("cg two/system.slice/sshd.service"));
	snprintf(mountinfo, sizeof(mountinfo),
		 "25 1 0:23 / /proc rw,nosuid - proc proc rw\n"
		 "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
		 "40 31 0:37 / /sys/fs/cgroup/systemd rw shared:9 - cgroup cgroup rw,name=systemd\n"
		 "41 31 0:38 / %s/cg\\040two rw,relatime shared:10 - cgroup2 cgroup2 rw\n"
		 "42 31 0:39 / /elsewhere rw - cgroup2 cgroup2 rw\n",
		 base);
	CHECK(write_file("mountinfo/self/mountinfo", mountinfo));
	CHECK_EQ_U64(identity_resolver_new(&roots, &resolver), 0);
	if (!resolver)
		return;
	CHECK_EQ_U64(identity_find_unit(resolver, "sshd", path, sizeof(path)), 0);
	CHECK_STR(path, at("cg two/system.slice/sshd.service"));
	identity_resolver_free(resolver);

	CHECK(write_file("mountinfo/self/mountinfo", "25 1 0:23 / /proc rw - proc proc rw\n"));
	CHECK_EQ_U64(identity_resolver_new(&roots, &resolver), -ENOENT);
	CHECK(resolver == NULL);
}

/* No kubelet on the node: no error, no Kubernetes names. No cgroup2 tree: an error. */
static void test_missing_dirs(void)
{
	char cgroup2[PATH_MAX];
	struct identity_roots roots = { .cgroup2 = cgroup2,
					.proc = "/nonexistent/proc",
					.pods = "/nonexistent/pods",
					.containers = "/nonexistent/containers" };
	struct identity_resolver *resolver = NULL;
	const struct identity *identity;

	snprintf(cgroup2, sizeof(cgroup2), "%s", at("cgroup"));
	CHECK_EQ_U64(identity_resolver_new(&roots, &resolver), 0);
	if (!resolver)
		return;
	identity = identity_lookup(resolver, cgroup_id(WEB_POD "/cri-containerd-" ID_WEB ".scope"),
				   100);
	CHECK_NAME(identity->container_id, ID_WEB);
	CHECK_NAME(identity->k8s_pod, NULL);
	identity_resolver_free(resolver);

	roots.cgroup2 = "/nonexistent/cgroup";
	CHECK_EQ_U64(identity_resolver_new(&roots, &resolver), -ENOENT);
	CHECK(resolver == NULL);
}

/*
 * A subtree systemd delegated to a user: its directories are the user's, named as the
 * user pleases, after another's pod, container or unit. Nothing is taken from there but
 * a unit, named after the delegated unit: the user's manager.
 */
#define DELEGATED "user.slice/user-1000.slice/user@1000.service"
static int give_to_user(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return lchown(path, 1000, 1000);
}

static void test_delegated_subtree(void)
{
	const char *spoof = DELEGATED "/app.slice/kubepods-pod" UID_WEB_
				      ".slice/cri-containerd-" ID_WEB ".scope";
	struct identity_resolver *resolver;
	const struct identity *identity;
	char path[PATH_MAX];

	if (geteuid() != 0) {
		printf("skip test_delegated_subtree: not root\n");
		return;
	}
	char relative[PATH_MAX];

	snprintf(relative, sizeof(relative), "cgroup/%s", spoof);
	CHECK(make_dirs("cgroup/" DELEGATED "/app.slice/nginx.service") && make_dirs(relative));
	CHECK(nftw(at("cgroup/" DELEGATED), give_to_user, 16, FTW_PHYS) == 0);
	resolver = new_resolver();
	if (!resolver)
		return;
	identity = identity_lookup(resolver, cgroup_id(spoof), NO_PID);
	CHECK_NAME(identity->container_id, NULL);
	CHECK_NAME(identity->k8s_pod, NULL);
	CHECK_NAME(identity->k8s_container, NULL);
	CHECK_NAME(identity->unit, "user@1000.service/cri-containerd-" ID_WEB ".scope");
	identity =
		identity_lookup(resolver, cgroup_id(DELEGATED "/app.slice/nginx.service"), NO_PID);
	CHECK_NAME(identity->unit, "user@1000.service/nginx.service");
	/* The names select the real ones alone. */
	CHECK_EQ_U64(identity_find_unit(resolver, "nginx", path, sizeof(path)), 0);
	CHECK(strstr(path, "/system.slice/nginx.service") != NULL);
	CHECK_EQ_U64(identity_find_container(resolver, ID_WEB, path, sizeof(path)), 0);
	CHECK(strstr(path, DELEGATED) == NULL);
	identity_resolver_free(resolver);
}

/*
 * tcptrace drops to nobody after start: everything is read through the directories opened
 * before. The temporary directory is root's, mode 0700, so no path through it would do.
 */
static void test_unprivileged(void)
{
	struct identity_resolver *resolver;
	__u64 id;
	int status, before;
	pid_t child;

	if (geteuid() != 0) {
		printf("skip test_unprivileged: not root\n");
		return;
	}
	resolver = new_resolver();
	if (!resolver)
		return;
	CHECK(make_dirs("cgroup/system.slice/nobody.service"));
	id = cgroup_id("system.slice/nobody.service");
	CHECK(write_file("proc/104/cgroup", "0::/system.slice/nobody.service\n"));
	before = check_failures;
	child = fork();
	if (child == 0) {
		char path[PATH_MAX];

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(100);
		CHECK(access(at("cgroup"), X_OK) != 0);
		CHECK_NAME(identity_lookup(resolver, id, 104)->cgroup,
			   "/system.slice/nobody.service");
		CHECK_EQ_U64(identity_find_unit(resolver, "nginx", path, sizeof(path)), 0);
		CHECK_EQ_U64(identity_find_pod(resolver, "default/web-0", path, sizeof(path)), 0);
		identity_resolver_free(resolver);
		_exit(check_failures != before);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	identity_resolver_free(resolver);
}

int main(void)
{
	RUN(test_parse_systemd_units);
	RUN(test_parse_docker);
	RUN(test_parse_kubernetes_systemd);
	RUN(test_parse_kubernetes_cgroupfs);
	RUN(test_parse_podman);
	RUN(test_parse_monitors);
	RUN(test_parse_not_container_ids);
	RUN(test_kubelet_pod_dir);
	RUN(test_kubelet_container_log);

	umask(022);
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	/* Removed on every way out, failures included. */
	atexit(remove_tree);
	if (!make_tree()) {
		perror("making the test tree");
		return 1;
	}
	RUN(test_lookup_walked);
	RUN(test_lookup_cached);
	RUN(test_lookup_proc);
	RUN(test_lookup_proc_moved);
	RUN(test_lookup_removed);
	RUN(test_rescan_once_a_second);
	RUN(test_retried_a_second_later);
	RUN(test_find_unit);
	RUN(test_find_pod);
	RUN(test_find_container);
	RUN(test_mountinfo);
	RUN(test_missing_dirs);
	RUN(test_delegated_subtree);
	RUN(test_unprivileged);
	return CHECK_RESULT();
}

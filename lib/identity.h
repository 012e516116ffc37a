/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a process is, in the terms of today's servers: its cgroup v2 path, and what that
 * path names (a systemd unit, a container, a Kubernetes pod), from the cgroup ID the BPF
 * programs put in each event.
 *
 * Everything is read from files: the cgroup2 tree, /proc/PID/cgroup, and the kubelet's
 * log directories (/var/log/pods, /var/log/containers), which name each pod's namespace,
 * name and UID, and each container's name and ID. No API server, credentials or runtime
 * socket. The directories are opened before privileges are dropped, and read through
 * those descriptors afterwards.
 */
#ifndef TCPTRACE_IDENTITY_H
#define TCPTRACE_IDENTITY_H

#include <stddef.h>
#include <linux/types.h>

/* A container ID as the runtimes write it: 64 lowercase hexadecimal digits. */
#define IDENTITY_CONTAINER_ID_LEN 64
/* How much of it a table shows, as docker ps does. */
#define IDENTITY_CONTAINER_ID_SHORT 12
/*
 * A pod's UID: 36 characters, 8-4-4-4-12 hexadecimal digits with dashes; a static pod's,
 * the MD5 of its manifest, is 32 digits without.
 */
#define IDENTITY_POD_UID_LEN 36
/* Kubernetes names are DNS labels or subdomains: at most 253 bytes. */
#define IDENTITY_K8S_NAME_MAX 253

/*
 * What a cgroup path names. Each field is NULL when unknown. The strings belong to the
 * resolver, and stay valid until its next lookup or free.
 */
struct identity {
	const char *cgroup;	  /* relative to the cgroup2 mount, beginning with '/' */
	const char *unit;	  /* systemd unit: nginx.service, session-3.scope, ... */
	const char *container_id; /* 64 hexadecimal digits */
	const char *k8s_namespace;
	const char *k8s_pod;
	const char *k8s_container;
};

/*
 * What a cgroup path says by itself, without reading any file: the deepest systemd unit
 * in it (a component ending in .service or .scope), the deepest container ID (Docker,
 * containerd, CRI-O and Podman, with the systemd or the cgroupfs driver: docker-ID.scope,
 * cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope or libpod-ID, or the ID alone;
 * never a runtime monitor's crio-conmon-ID or libpod-conmon-ID), and the pod's UID
 * (kubepods-...-pod<UID>.slice or pod<UID>, dashes restored). Each is copied into the
 * caller's buffer and its pointer set, or set to NULL when absent.
 */
struct identity_path {
	char unit[256];
	char container_id[IDENTITY_CONTAINER_ID_LEN + 1];
	char pod_uid[IDENTITY_POD_UID_LEN + 1];
	const char *unit_p, *container_id_p, *pod_uid_p;
};
void identity_parse_path(const char *path, struct identity_path *out);
/*
 * The same, trusting only the first owned bytes of path: the directories root owns. In
 * a subtree delegated to a user (their own cgroups), a directory may be named after any
 * pod, container or unit: none is taken from there, but a unit, named after the user's
 * manager ("user@1000.service/foo.service").
 */
void identity_parse_owned_path(const char *path, size_t owned, struct identity_path *out);

/*
 * The kubelet's directory names. A pod's log directory, /var/log/pods/
 * <namespace>_<pod>_<uid>; a container's log link, /var/log/containers/
 * <pod>_<namespace>_<container>-<container ID>.log. Kubernetes names hold no '_', so
 * the split is unambiguous. 0, or -EINVAL for a name of another shape.
 */
struct kubelet_pod {
	char namespace[IDENTITY_K8S_NAME_MAX + 1];
	char pod[IDENTITY_K8S_NAME_MAX + 1];
	char uid[IDENTITY_POD_UID_LEN + 1];
};
int kubelet_parse_pod_dir(const char *name, struct kubelet_pod *out);
struct kubelet_container {
	char namespace[IDENTITY_K8S_NAME_MAX + 1];
	char pod[IDENTITY_K8S_NAME_MAX + 1];
	char container[IDENTITY_K8S_NAME_MAX + 1];
	char id[IDENTITY_CONTAINER_ID_LEN + 1];
};
int kubelet_parse_container_log(const char *name, struct kubelet_container *out);

/*
 * Where the resolver reads. NULL fields (or roots NULL) take the defaults: the cgroup2
 * mount from PROC/self/mountinfo (its first cgroup2 line), /proc, /var/log/pods and
 * /var/log/containers. The tests point them at trees of their own.
 */
struct identity_roots {
	const char *cgroup2; /* the cgroup2 mount */
	const char *proc;
	const char *pods;	/* the kubelet's pod log directories */
	const char *containers; /* the kubelet's container log links */
};

struct identity_resolver;

/*
 * Opens the directories (before privileges are dropped) and reads the cgroup tree and
 * the kubelet's directories once. A missing kubelet directory (or /proc) is no error:
 * the node runs no Kubernetes. -errno when the cgroup2 tree cannot be found or opened.
 * The tree is remembered up to 65536 cgroups; a walk stops there.
 */
int identity_resolver_new(const struct identity_roots *roots, struct identity_resolver **out);
void identity_resolver_free(struct identity_resolver *resolver);

/*
 * The identity of cgroup_id, as process pid saw it; never NULL. From the cache; on a
 * miss, from /proc/PID/cgroup when the process is still there and still in that cgroup,
 * else from a new walk of the tree, at most once a second. What cannot be found stays
 * NULL: a cgroup removed before its line was printed has its ID alone. A miss is
 * remembered too, until the next walk: no system call per event for a vanished cgroup.
 * A cgroup found through /proc whose pod or container the kubelet's tables do not know
 * has them read again; a walk reads them again too.
 */
const struct identity *identity_lookup(struct identity_resolver *resolver, __u64 cgroup_id,
				       __u32 pid);

/*
 * Selection by name, at start, after a new walk of the tree: the cgroup directory
 * (absolute path) of a systemd unit (NAME, or NAME.service when it has no '.'; any
 * directory of that name, so a slice too), of a pod ("NAMESPACE/NAME", its UID from the
 * kubelet's pod directories), or of a container (its ID, or a prefix of at least
 * IDENTITY_CONTAINER_ID_SHORT lowercase digits). -ENOENT when nothing matches, -E2BIG
 * when several cgroups do (a unit's name in two users' managers, a short ID prefix, a pod
 * made again while its old self lingers), -EINVAL for a malformed name, -ENAMETOOLONG
 * when the path does not fit in size bytes.
 */
int identity_find_unit(struct identity_resolver *resolver, const char *name, char *path,
		       size_t size);
int identity_find_pod(struct identity_resolver *resolver, const char *name, char *path,
		      size_t size);
int identity_find_container(struct identity_resolver *resolver, const char *id, char *path,
			    size_t size);

#endif /* TCPTRACE_IDENTITY_H */

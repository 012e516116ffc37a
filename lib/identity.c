// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cgroup IDs to names. A cgroup v2 directory's inode number is its cgroup ID, the one
 * bpf_get_current_cgroup_id() returns: one walk of the tree maps every ID to its path,
 * and the path's components name the unit, the container and the pod. The kubelet's log
 * directories name the pods and containers Kubernetes runs.
 *
 * tcptrace drops to user nobody once started, so every directory is opened here first and
 * read through its descriptor afterwards: openat() and fstatat() below it, or a rewound
 * dup() of it for fdopendir(), which takes the descriptor it is given.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/types.h>
#include "array.h"
#include "identity.h"

/* The most cgroups remembered: a walk stops there, and a lookup adds no more. */
#define CGROUPS_MAX	    65536
#define CGROUPS_FIRST_SLOTS 1024
/* The most pods, and the most containers, read from the kubelet's directories. */
#define KUBELET_MAX 16384
/* A miss walks the tree again at most this often. */
#define RESCAN_INTERVAL_NS 1000000000ull
/*
 * How long a walk made for an event may take: 20 ms, a fifth of the delay the output
 * allows (docs/performance.md). A tree too large for it keeps the table of the last walk
 * that finished; its new cgroups are named through /proc/PID/cgroup.
 */
#define WALK_BUDGET_NS 20000000ull
/* /proc/PID/cgroup: a short line per cgroup v1 hierarchy, then the v2 line, "0::PATH". */
#define PROC_CGROUP_MAX (PATH_MAX + 4096)
/* A static pod's UID is the MD5 of its manifest: 32 hexadecimal digits, no dashes. */
#define STATIC_POD_UID_LEN 32
/* Namespaces and containers are named by DNS labels; pods by DNS subdomains. */
#define K8S_LABEL_MAX 63

static bool is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_hex_digit(s[i]))
			return false;
	return true;
}

/* Does s, of len bytes, end in suffix after at least one byte of its own? */
static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	return len > suffix_len && !memcmp(s + len - suffix_len, suffix, suffix_len);
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t prefix_len = strlen(prefix);

	return len >= prefix_len && !memcmp(s, prefix, prefix_len);
}

/*
 * A pod UID of len bytes at s, its groups separated by sep (systemd's slice names turn
 * '-' into '_', which means nesting to systemd), copied with dashes into uid.
 */
static bool copy_pod_uid(const char *s, size_t len, char sep, char *uid)
{
	if (len == STATIC_POD_UID_LEN && is_hex(s, len)) {
		memcpy(uid, s, len);
		uid[len] = '\0';
		return true;
	}
	if (len != IDENTITY_POD_UID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_hex_digit(s[i]))
			return false;
		uid[i] = dash ? '-' : s[i];
	}
	uid[len] = '\0';
	return true;
}

/* pod<UID> (the cgroupfs driver) or kubepods[-QOS]-pod<UID>.slice (the systemd driver). */
static bool pod_uid_of(const char *name, size_t len, char *uid)
{
	const char *dash;

	if (has_prefix(name, len, "pod"))
		return copy_pod_uid(name + 3, len - 3, '-', uid);
	if (!has_prefix(name, len, "kubepods-") || !has_suffix(name, len, ".slice"))
		return false;
	len -= strlen(".slice");
	/* The UID holds no '-' here: the last one comes before "pod". */
	dash = memrchr(name, '-', len);
	if (!has_prefix(dash + 1, name + len - (dash + 1), "pod"))
		return false;
	return copy_pod_uid(dash + 4, name + len - (dash + 4), '_', uid);
}

/*
 * The runtimes' scopes (systemd driver) or directories (cgroupfs driver) named after the
 * container. Their monitors' (crio-conmon-ID, libpod-conmon-ID) hold no container.
 */
static const char *const container_prefixes[] = { "docker-", "cri-containerd-", "crio-",
						  "libpod-" };

/* The container ID a cgroup directory's name holds, or NULL: 64 digits from name. */
static const char *container_id_in(const char *name, size_t len)
{
	const size_t id_len = IDENTITY_CONTAINER_ID_LEN, scope_len = strlen(".scope");

	if (len == id_len) /* cgroupfs: /docker/ID, /kubepods/.../pod<UID>/ID */
		return is_hex(name, len) ? name : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(container_prefixes); i++) {
		const char *prefix = container_prefixes[i];
		size_t rest;

		if (!has_prefix(name, len, prefix))
			continue;
		name += strlen(prefix);
		rest = len - strlen(prefix);
		if (rest == id_len + scope_len && !memcmp(name + id_len, ".scope", scope_len))
			rest = id_len;
		return rest == id_len && is_hex(name, id_len) ? name : NULL;
	}
	return NULL;
}

static bool is_unit(const char *name, size_t len)
{
	return has_suffix(name, len, ".service") || has_suffix(name, len, ".scope");
}

/* One component of a path: what it names replaces what the components above it did. */
static void parse_component(const char *name, size_t len, struct identity_path *out)
{
	const char *id = container_id_in(name, len);
	char uid[IDENTITY_POD_UID_LEN + 1];

	if (is_unit(name, len) && len < sizeof(out->unit)) {
		memcpy(out->unit, name, len);
		out->unit[len] = '\0';
		out->unit_p = out->unit;
	}
	if (id) {
		memcpy(out->container_id, id, IDENTITY_CONTAINER_ID_LEN);
		out->container_id[IDENTITY_CONTAINER_ID_LEN] = '\0';
		out->container_id_p = out->container_id;
	}
	if (pod_uid_of(name, len, uid)) {
		memcpy(out->pod_uid, uid, sizeof(uid));
		out->pod_uid_p = out->pod_uid;
	}
}

/*
 * A unit below the root-owned part of a path (owned), in a subtree systemd delegated to
 * a user or a service: named after the unit that subtree is, such as the user's manager,
 * "user@1000.service/foo.service". No user can name a directory of theirs after it.
 * Below a delegated directory that is no unit, the root-owned part's unit stands.
 */
static void qualify_unit(const char *path, size_t owned, const char *unit,
			 struct identity_path *out)
{
	const char *owner = path + owned + strspn(path + owned, "/");
	size_t owner_len = strcspn(owner, "/"), unit_len = strlen(unit);

	if (!is_unit(owner, owner_len) || owner_len + 1 + unit_len >= sizeof(out->unit))
		return;
	memcpy(out->unit, owner, owner_len);
	out->unit[owner_len] = '\0';
	if (unit_len != owner_len || memcmp(unit, owner, owner_len)) {
		out->unit[owner_len] = '/';
		memcpy(out->unit + owner_len + 1, unit, unit_len + 1);
	}
	out->unit_p = out->unit;
}

void identity_parse_owned_path(const char *path, size_t owned, struct identity_path *out)
{
	struct identity_path beyond = {};
	size_t len;

	out->unit_p = out->container_id_p = out->pod_uid_p = NULL;
	for (const char *name = path; *name; name += len) {
		name += strspn(name, "/");
		len = strcspn(name, "/");
		if (!len)
			continue;
		/* Past the root-owned part, a user names directories as they please. */
		parse_component(name, len, (size_t)(name - path) < owned ? out : &beyond);
	}
	if (beyond.unit_p)
		qualify_unit(path, owned, beyond.unit, out);
}

void identity_parse_path(const char *path, struct identity_path *out)
{
	identity_parse_owned_path(path, strlen(path), out);
}

struct span {
	const char *start;
	size_t len;
};

/* Splits len bytes at s into exactly nr fields separated by '_'. */
static bool split_fields(const char *s, size_t len, struct span *fields, size_t nr)
{
	const char *end = s + len;

	for (size_t i = 0; i < nr; i++) {
		const char *sep = memchr(s, '_', end - s);

		if ((sep != NULL) != (i + 1 < nr))
			return false;
		fields[i] = (struct span){ s, (sep ? sep : end) - s };
		if (sep)
			s = sep + 1;
	}
	return true;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * A DNS label (lowercase letters, digits and '-', at most 63 bytes), or with dots a DNS
 * subdomain (at most 253), copied into name; alphanumeric at both ends either way.
 */
static bool copy_k8s_name(char *name, struct span field, bool dots)
{
	const char *s = field.start;
	size_t len = field.len;

	if (!len || len > (dots ? IDENTITY_K8S_NAME_MAX : K8S_LABEL_MAX))
		return false;
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && !(dots && s[i] == '.'))
			return false;
	memcpy(name, s, len);
	name[len] = '\0';
	return true;
}

/* The directory entry's length, or 0 for one longer than a file name can be. */
static size_t entry_name_len(const char *name)
{
	size_t len = strnlen(name, NAME_MAX + 1);

	return len > NAME_MAX ? 0 : len;
}

int kubelet_parse_pod_dir(const char *name, struct kubelet_pod *out)
{
	size_t len = entry_name_len(name);
	struct span fields[3];

	if (!split_fields(name, len, fields, 3) ||
	    !copy_k8s_name(out->namespace, fields[0], false) ||
	    !copy_k8s_name(out->pod, fields[1], true) ||
	    !copy_pod_uid(fields[2].start, fields[2].len, '-', out->uid))
		return -EINVAL;
	return 0;
}

int kubelet_parse_container_log(const char *name, struct kubelet_container *out)
{
	/* -ID.log */
	const size_t tail_len = 1 + IDENTITY_CONTAINER_ID_LEN + strlen(".log");
	size_t len = entry_name_len(name);
	struct span fields[3];
	const char *id;

	if (len <= tail_len || !has_suffix(name, len, ".log"))
		return -EINVAL;
	len -= tail_len;
	id = name + len + 1;
	if (name[len] != '-' || !is_hex(id, IDENTITY_CONTAINER_ID_LEN))
		return -EINVAL;
	if (!split_fields(name, len, fields, 3) || !copy_k8s_name(out->pod, fields[0], true) ||
	    !copy_k8s_name(out->namespace, fields[1], false) ||
	    !copy_k8s_name(out->container, fields[2], false))
		return -EINVAL;
	memcpy(out->id, id, IDENTITY_CONTAINER_ID_LEN);
	out->id[IDENTITY_CONTAINER_ID_LEN] = '\0';
	return 0;
}

/* What a cgroup's path names, from its first lookup to the end of its walk's table. */
struct named {
	struct identity identity;
	unsigned int kubelet_generation; /* the kubelet's tables it was named from */
	/* The path names a pod, or a pod's container, that those tables did not know yet. */
	bool kubelet_behind;
	char strings[];
};

struct cgroup_entry {
	__u64 id;
	char *path;	 /* relative to the mount; NULL: no such cgroup found (yet) */
	__u64 missed_ns; /* when it was not found: it is looked for again a second later */
	struct named *named;
};

/* Cgroup IDs to entries: open addressing over indexes into entries. */
struct cgroup_table {
	struct cgroup_entry *entries; /* in the order found: a walk lists them breadth first */
	size_t nr_entries, entries_size;
	__u32 *slots; /* 1 + the index of an entry; 0 for a free slot */
	size_t nr_slots;
};

/* A pod's UID, or a container's ID, and its names: one allocation, at key. */
struct kubelet_record {
	char *key;
	const char *namespace, *pod, *container; /* container: NULL in a pod's record */
};

struct kubelet_table {
	struct kubelet_record *records;
	size_t nr_records, size;
};

struct identity_resolver {
	int cgroup2_fd, proc_fd, pods_fd, containers_fd; /* -1 when absent */
	dev_t cgroup2_dev;
	uid_t cgroup2_owner; /* root: who owns the tree, but the subtrees delegated to others */
	char *cgroup2_path;  /* without a trailing '/': "" for a mount at "/" */
	struct cgroup_table cgroups;
	__u64 last_walk_ns;
	struct kubelet_table pods, containers;
	unsigned int kubelet_generation;
	__u64 last_kubelet_read_ns;
	struct timespec pods_changed, containers_changed; /* when last read */
	/* Past CGROUPS_MAX: the last cgroup looked up, not remembered. */
	struct cgroup_entry spare;
	/* What is returned when nothing better can be. */
	struct identity fallback;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Fibonacci hashing: cgroup IDs are consecutive, the high bits of the product are not. */
static size_t hash_of(__u64 id)
{
	return (id * 11400714819323198485ull) >> 32;
}

/* The slot of id: the one that holds it, or the free one where it goes. */
static __u32 *slot_in(__u32 *slots, size_t nr_slots, const struct cgroup_entry *entries, __u64 id)
{
	size_t mask = nr_slots - 1, i = hash_of(id) & mask;

	while (slots[i] && entries[slots[i] - 1].id != id)
		i = (i + 1) & mask;
	return &slots[i];
}

static struct cgroup_entry *find_entry(const struct cgroup_table *table, __u64 id)
{
	__u32 *slot;

	if (!table->nr_slots)
		return NULL;
	slot = slot_in(table->slots, table->nr_slots, table->entries, id);
	return *slot ? &table->entries[*slot - 1] : NULL;
}

/* Room for one more entry, its slot at most half the table's; false without memory. */
static bool reserve_entry(struct cgroup_table *table)
{
	size_t nr_slots = table->nr_slots ? table->nr_slots * 2 : CGROUPS_FIRST_SLOTS;
	struct cgroup_entry *entries;
	__u32 *slots;

	if (table->nr_entries == table->entries_size) {
		size_t size = table->entries_size ? table->entries_size * 2 : nr_slots / 2;

		entries = reallocarray(table->entries, size, sizeof(*entries));
		if (!entries)
			return false;
		table->entries = entries;
		table->entries_size = size;
	}
	if ((table->nr_entries + 1) * 2 <= table->nr_slots)
		return true;
	slots = calloc(nr_slots, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < table->nr_entries; i++)
		*slot_in(slots, nr_slots, table->entries, table->entries[i].id) = i + 1;
	free(table->slots);
	table->slots = slots;
	table->nr_slots = nr_slots;
	return true;
}

/*
 * Remembers id's path (NULL: no cgroup found), which the table then owns. NULL when the
 * table is full or memory is short: path is the caller's still.
 */
static struct cgroup_entry *add_entry(struct cgroup_table *table, __u64 id, char *path)
{
	struct cgroup_entry *entry;
	__u32 *slot;

	if (table->nr_entries >= CGROUPS_MAX || !reserve_entry(table))
		return NULL;
	slot = slot_in(table->slots, table->nr_slots, table->entries, id);
	if (*slot) { /* the same directory twice, renamed during the walk */
		free(path);
		return &table->entries[*slot - 1];
	}
	entry = &table->entries[table->nr_entries++];
	*entry = (struct cgroup_entry){ .id = id, .path = path };
	*slot = table->nr_entries;
	return entry;
}

static void clear_entry(struct cgroup_entry *entry)
{
	free(entry->path);
	free(entry->named);
	memset(entry, 0, sizeof(*entry));
}

static void free_cgroup_table(struct cgroup_table *table)
{
	for (size_t i = 0; i < table->nr_entries; i++)
		clear_entry(&table->entries[i]);
	free(table->entries);
	free(table->slots);
	memset(table, 0, sizeof(*table));
}

/*
 * A stream over the directory fd, from its start. fdopendir() takes the descriptor it is
 * given, and a dup() shares the original's offset: hence the rewind.
 */
static DIR *reopen_dir(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir;

	if (copy < 0)
		return NULL;
	dir = lseek(copy, 0, SEEK_SET) ? NULL : fdopendir(copy);
	if (!dir)
		close(copy);
	return dir;
}

/* A path relative to the mount ("/" or "/a/b") as openat() and fstatat() take it. */
static const char *below_mount(const char *path)
{
	return path[1] ? path + 1 : ".";
}

/*
 * How much of path (relative to the mount) is owned as the mount is: the directories
 * down to the first one systemd delegated to a user or a service, whose names that user
 * chooses. Its length in bytes; a directory gone since counts as delegated.
 */
static size_t owned_length(const struct identity_resolver *resolver, const char *path)
{
	char prefix[PATH_MAX];
	size_t owned = 0, len;
	struct stat st;

	for (const char *name = path; *name; name += len) {
		size_t end;

		name += strspn(name, "/");
		len = strcspn(name, "/");
		end = name + len - path;
		if (!len || end >= sizeof(prefix))
			break;
		memcpy(prefix, path, end);
		prefix[end] = '\0';
		if (fstatat(resolver->cgroup2_fd, below_mount(prefix), &st, AT_SYMLINK_NOFOLLOW) ||
		    st.st_uid != resolver->cgroup2_owner)
			break;
		owned = end;
	}
	return owned;
}

static DIR *open_cgroup_dir(const struct identity_resolver *resolver, const char *path)
{
	int fd;

	if (!path[1])
		return reopen_dir(resolver->cgroup2_fd);
	fd = openat(resolver->cgroup2_fd, below_mount(path),
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? NULL : fdopendir(fd);
}

static bool may_be_subdir(const struct dirent *entry)
{
	if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN)
		return false;
	return strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..");
}

/* parent/name, or NULL without memory. */
static char *child_path(const char *parent, size_t parent_len, const char *name, size_t len)
{
	char *path = malloc(parent_len + 1 + len + 1);

	if (path) {
		memcpy(path, parent, parent_len);
		path[parent_len] = '/';
		memcpy(path + parent_len + 1, name, len + 1);
	}
	return path;
}

/*
 * Adds dir's subdirectories to the table, behind the walk's position: it lists them in
 * turn. -ENOSPC when the table is full, -ENOMEM.
 */
static int add_subdirs(struct cgroup_table *table, DIR *dir, const char *parent)
{
	size_t parent_len = parent[1] ? strlen(parent) : 0;
	struct dirent *entry;
	struct stat st;

	while ((entry = readdir(dir))) {
		size_t len = strlen(entry->d_name);
		char *path;

		if (!may_be_subdir(entry) || parent_len + 1 + len >= PATH_MAX)
			continue;
		if (table->nr_entries >= CGROUPS_MAX)
			return -ENOSPC;
		if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		path = child_path(parent, parent_len, entry->d_name, len);
		if (!path || !add_entry(table, st.st_ino, path)) {
			free(path);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Every directory from the root down, breadth first, until the table is full. */
/*
 * The whole tree into table, breadth first; -ETIME once past deadline (0: none), as a
 * walk made for an event must not hold its line, and the next ones, for long.
 */
static int walk_into(const struct identity_resolver *resolver, struct cgroup_table *table,
		     __u64 deadline)
{
	char *root = strdup("/");
	struct stat st;
	int err = 0;

	if (fstat(resolver->cgroup2_fd, &st)) {
		free(root);
		return -errno;
	}
	if (!root || !add_entry(table, st.st_ino, root)) {
		free(root);
		return -ENOMEM;
	}
	for (size_t i = 0; i < table->nr_entries && !err; i++) {
		const char *path = table->entries[i].path;
		DIR *dir = open_cgroup_dir(resolver, path);

		if (!dir) {
			/* A subdirectory removed since it was listed is no error. */
			if (i == 0)
				err = -errno;
			continue;
		}
		err = add_subdirs(table, dir, path);
		closedir(dir);
		if (!err && deadline && now_ns() > deadline)
			err = -ETIME;
	}
	return err == -ENOSPC ? 0 : err;
}

/* A record of key and its names, in one allocation. Without memory, none. */
static void add_record(struct kubelet_table *table, const char *key, const char *namespace,
		       const char *pod, const char *container)
{
	size_t key_size = strlen(key) + 1, namespace_size = strlen(namespace) + 1;
	size_t pod_size = strlen(pod) + 1, container_size = container ? strlen(container) + 1 : 0;
	struct kubelet_record *record;
	char *strings;

	if (table->nr_records == table->size) {
		size_t size = table->size ? table->size * 2 : 64;

		record = reallocarray(table->records, size, sizeof(*record));
		if (!record)
			return;
		table->records = record;
		table->size = size;
	}
	strings = malloc(key_size + namespace_size + pod_size + container_size);
	if (!strings)
		return;
	record = &table->records[table->nr_records++];
	*record = (struct kubelet_record){
		.key = strings,
		.namespace = strings + key_size,
		.pod = strings + key_size + namespace_size,
		.container = container ? strings + key_size + namespace_size + pod_size : NULL,
	};
	memcpy(strings, key, key_size);
	memcpy(strings + key_size, namespace, namespace_size);
	memcpy(strings + key_size + namespace_size, pod, pod_size);
	if (container)
		memcpy(strings + key_size + namespace_size + pod_size, container, container_size);
}

static void free_kubelet_table(struct kubelet_table *table)
{
	for (size_t i = 0; i < table->nr_records; i++)
		free(table->records[i].key);
	free(table->records);
	memset(table, 0, sizeof(*table));
}

static const struct kubelet_record *find_record(const struct kubelet_table *table, const char *key)
{
	for (size_t i = 0; i < table->nr_records; i++)
		if (!strcmp(table->records[i].key, key))
			return &table->records[i];
	return NULL;
}

/* Each <namespace>_<pod>_<uid> of the kubelet's pod log directories. */
static void read_pods(int fd, struct kubelet_table *table)
{
	DIR *dir = fd < 0 ? NULL : reopen_dir(fd);
	struct kubelet_pod pod;
	struct dirent *entry;

	while (dir && (entry = readdir(dir)) && table->nr_records < KUBELET_MAX)
		if (!kubelet_parse_pod_dir(entry->d_name, &pod))
			add_record(table, pod.uid, pod.namespace, pod.pod, NULL);
	if (dir)
		closedir(dir);
}

/* Each <pod>_<namespace>_<container>-<id>.log of the kubelet's container log links. */
static void read_containers(int fd, struct kubelet_table *table)
{
	DIR *dir = fd < 0 ? NULL : reopen_dir(fd);
	struct kubelet_container container;
	struct dirent *entry;

	while (dir && (entry = readdir(dir)) && table->nr_records < KUBELET_MAX)
		if (!kubelet_parse_container_log(entry->d_name, &container))
			add_record(table, container.id, container.namespace, container.pod,
				   container.container);
	if (dir)
		closedir(dir);
}

/*
 * The kubelet's tables, read again whole. What a record cannot be made for (no memory)
 * is left out: its cgroups go without Kubernetes names.
 */
/* A directory's last change: an entry made or removed in it. {0, 0} when unknown. */
static struct timespec changed_at(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) ? st.st_mtim : (struct timespec){};
}

/*
 * Still as it was when last read? A change within a second of that read is not trusted
 * to show: file systems keep coarse times, and a second change in the same tick would
 * leave the time as it was.
 */
static bool unchanged(struct timespec now, struct timespec then)
{
	struct timespec wall;

	clock_gettime(CLOCK_REALTIME, &wall);
	return now.tv_sec == then.tv_sec && now.tv_nsec == then.tv_nsec &&
	       wall.tv_sec - then.tv_sec > 1;
}

static void read_kubelet(struct identity_resolver *resolver)
{
	struct timespec pods = changed_at(resolver->pods_fd);
	struct timespec containers = changed_at(resolver->containers_fd);

	resolver->last_kubelet_read_ns = now_ns();
	/* Unchanged since the last read: a pause container, whose log link never comes. */
	if (resolver->kubelet_generation && unchanged(pods, resolver->pods_changed) &&
	    unchanged(containers, resolver->containers_changed))
		return;
	resolver->pods_changed = pods;
	resolver->containers_changed = containers;
	free_kubelet_table(&resolver->pods);
	free_kubelet_table(&resolver->containers);
	read_pods(resolver->pods_fd, &resolver->pods);
	read_containers(resolver->containers_fd, &resolver->containers);
	resolver->kubelet_generation++;
}

/* A new table for the old: cgroups removed since drop out. The kubelet's too. */
static int walk(struct identity_resolver *resolver, __u64 budget_ns)
{
	struct cgroup_table table = {};
	int err;

	resolver->last_walk_ns = now_ns();
	err = walk_into(resolver, &table, budget_ns ? resolver->last_walk_ns + budget_ns : 0);
	if (err) {
		free_cgroup_table(&table);
		return err;
	}
	free_cgroup_table(&resolver->cgroups);
	resolver->cgroups = table;
	read_kubelet(resolver);
	return 0;
}

/* Does the path leave the directory it starts from, or not start with '/'? */
static bool is_outside(const char *path)
{
	if (path[0] != '/')
		return true;
	for (const char *name = path; (name = strstr(name, "/..")); name += 3)
		if (name[3] == '/' || !name[3])
			return true;
	return false;
}

/* The "0::PATH" line of what /proc/PID/cgroup holds, in place; NULL when it has none. */
static char *unified_path(char *text)
{
	char *line = !strncmp(text, "0::", 3) ? text : strstr(text, "\n0::");
	char *end;

	if (!line)
		return NULL;
	line += line == text ? 3 : 4;
	end = strchr(line, '\n');
	if (!end) /* cut short */
		return NULL;
	*end = '\0';
	return line;
}

/* pid's cgroup v2 path into path (PATH_MAX bytes): false when pid has gone. */
static bool read_proc_cgroup(const struct identity_resolver *resolver, __u32 pid, char *path)
{
	char name[32], text[PROC_CGROUP_MAX], *unified;
	size_t len = 0;
	ssize_t n = 1;
	int fd;

	if (resolver->proc_fd < 0 || !pid)
		return false;
	snprintf(name, sizeof(name), "%u/cgroup", pid);
	fd = openat(resolver->proc_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (n > 0 && len < sizeof(text) - 1) {
		n = read(fd, text + len, sizeof(text) - 1 - len);
		len += n > 0 ? n : 0;
	}
	close(fd);
	text[len] = '\0';
	unified = unified_path(text);
	if (!unified)
		return false;
	len = strlen(unified);
	if (len >= PATH_MAX)
		return false;
	memcpy(path, unified, len + 1);
	return true;
}

/*
 * The cgroup of pid, when it is still the cgroup id: false when pid has gone, or moved,
 * or its cgroup is removed (the kernel then adds " (deleted)" to the path).
 */
static bool proc_cgroup_path(const struct identity_resolver *resolver, __u64 id, __u32 pid,
			     char *path)
{
	struct stat st;

	if (!read_proc_cgroup(resolver, pid, path) || is_outside(path))
		return false;
	if (fstatat(resolver->cgroup2_fd, below_mount(path), &st, AT_SYMLINK_NOFOLLOW))
		return false;
	return S_ISDIR(st.st_mode) && st.st_dev == resolver->cgroup2_dev && st.st_ino == id;
}

/* Remembers id's cgroup (path NULL: none found); in the spare entry when it cannot. */
static struct cgroup_entry *remember(struct identity_resolver *resolver, __u64 id, const char *path)
{
	char *copy = path ? strdup(path) : NULL;

	struct cgroup_entry *entry = NULL;

	if (!path || copy)
		entry = add_entry(&resolver->cgroups, id, copy);
	if (!entry) {
		clear_entry(&resolver->spare);
		resolver->spare = (struct cgroup_entry){ .id = id, .path = copy };
		entry = &resolver->spare;
	}
	if (!path)
		entry->missed_ns = now_ns();
	return entry;
}

/*
 * A container's log link is made once it runs, after its cgroup: its first lookup may
 * come before. Read again when the path names what the kubelet's tables do not know.
 */
static void read_kubelet_if_unknown(struct identity_resolver *resolver, const char *path)
{
	struct identity_path parsed;

	if (resolver->pods_fd < 0 && resolver->containers_fd < 0)
		return;
	identity_parse_owned_path(path, owned_length(resolver, path), &parsed);
	if ((parsed.pod_uid_p && !find_record(&resolver->pods, parsed.pod_uid_p)) ||
	    (parsed.container_id_p && !find_record(&resolver->containers, parsed.container_id_p)))
		read_kubelet(resolver);
}

/*
 * A cgroup not in the table (missed NULL), or not found there a second ago (missed, its
 * entry): made since the walk, or gone. /proc/PID/cgroup names it while its process
 * lives; else a walk does, once a second at most. Either way it is remembered, found or
 * not; one not found is looked for again a second later, when another process of it
 * may be the one asking.
 */
static struct cgroup_entry *look_up_missing(struct identity_resolver *resolver, __u64 id, __u32 pid,
					    struct cgroup_entry *missed)
{
	char path[PATH_MAX];

	if (proc_cgroup_path(resolver, id, pid, path)) {
		read_kubelet_if_unknown(resolver, path);
		if (!missed)
			return remember(resolver, id, path);
		missed->path = strdup(path); /* NULL without memory: missed again */
		missed->missed_ns = now_ns();
		return missed;
	}
	if (now_ns() - resolver->last_walk_ns > RESCAN_INTERVAL_NS &&
	    !walk(resolver, WALK_BUDGET_NS)) {
		struct cgroup_entry *entry = find_entry(&resolver->cgroups, id);

		if (entry)
			return entry;
		missed = NULL; /* the walk's new table has no such entry */
	}
	if (!missed)
		return remember(resolver, id, NULL);
	missed->missed_ns = now_ns();
	return missed;
}

static bool missed_a_while_ago(const struct cgroup_entry *entry)
{
	return !entry->path && now_ns() - entry->missed_ns > RESCAN_INTERVAL_NS;
}

/* Copies text to *p, and moves *p past it; NULL stays NULL. */
static const char *put_string(char **p, const char *text)
{
	const char *copy = *p;

	if (!text)
		return NULL;
	*p = stpcpy(*p, text) + 1;
	return copy;
}

/* What path names, in struct identity's order: unit, container ID, namespace, pod, container. */
static void names_of(const struct identity_resolver *resolver, const struct identity_path *parsed,
		     const char *names[5])
{
	const struct kubelet_record *pod = NULL, *container = NULL;

	if (parsed->container_id_p)
		container = find_record(&resolver->containers, parsed->container_id_p);
	if (parsed->pod_uid_p)
		pod = find_record(&resolver->pods, parsed->pod_uid_p);
	/* A container's record names its pod too. */
	if (!pod)
		pod = container;
	names[0] = parsed->unit_p;
	names[1] = parsed->container_id_p;
	names[2] = pod ? pod->namespace : NULL;
	names[3] = pod ? pod->pod : NULL;
	names[4] = container ? container->container : NULL;
}

/* What path names, in one allocation; NULL without memory. */
static struct named *name_path(const struct identity_resolver *resolver, const char *path)
{
	struct identity_path parsed;
	const char *names[5];
	struct named *named;
	size_t size = 0;
	char *p;

	identity_parse_owned_path(path, owned_length(resolver, path), &parsed);
	names_of(resolver, &parsed, names);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		size += names[i] ? strlen(names[i]) + 1 : 0;
	named = malloc(sizeof(*named) + size);
	if (!named)
		return NULL;
	named->kubelet_generation = resolver->kubelet_generation;
	/* The kubelet makes a container's log link once it runs: after its first connect. */
	named->kubelet_behind =
		parsed.pod_uid_p && (!names[3] || (parsed.container_id_p && !names[4]));
	p = named->strings;
	named->identity = (struct identity){
		.cgroup = path,
		.unit = put_string(&p, names[0]),
		.container_id = put_string(&p, names[1]),
		.k8s_namespace = put_string(&p, names[2]),
		.k8s_pod = put_string(&p, names[3]),
		.k8s_container = put_string(&p, names[4]),
	};
	return named;
}

static const struct identity *identity_of(struct identity_resolver *resolver,
					  struct cgroup_entry *entry)
{
	if (!entry->path) {
		resolver->fallback = (struct identity){};
		return &resolver->fallback;
	}
	/* Names the kubelet had not written yet: read its tables again, once a second at most. */
	if (entry->named && entry->named->kubelet_behind &&
	    now_ns() - resolver->last_kubelet_read_ns > RESCAN_INTERVAL_NS)
		read_kubelet(resolver);
	if (entry->named && entry->named->kubelet_generation == resolver->kubelet_generation)
		return &entry->named->identity;
	free(entry->named);
	entry->named = name_path(resolver, entry->path);
	if (entry->named)
		return &entry->named->identity;
	resolver->fallback = (struct identity){ .cgroup = entry->path };
	return &resolver->fallback;
}

const struct identity *identity_lookup(struct identity_resolver *resolver, __u64 cgroup_id,
				       __u32 pid)
{
	struct cgroup_entry *entry = find_entry(&resolver->cgroups, cgroup_id);

	if (!entry)
		entry = look_up_missing(resolver, cgroup_id, pid, NULL);
	else if (missed_a_while_ago(entry))
		entry = look_up_missing(resolver, cgroup_id, pid, entry);
	return identity_of(resolver, entry);
}

/* Does a cgroup directory's name match what is looked for? */
typedef bool (*cgroup_match)(const struct identity_resolver *resolver, const char *name, size_t len,
			     const void *wanted);

static const char *last_component(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* The mount's path and path, the cgroup's relative to it: path "/" is the mount's own. */
static int absolute_path(const struct identity_resolver *resolver, const char *path, char *buf,
			 size_t size)
{
	const char *mount = resolver->cgroup2_path;
	const char *relative = path[1] || !*mount ? path : "";
	int len = snprintf(buf, size, "%s%s", mount, relative);

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

/* The one cgroup, seen by a new walk, whose name matches; its absolute path into buf. */
static int find_cgroup(struct identity_resolver *resolver, cgroup_match match, const void *wanted,
		       char *buf, size_t size)
{
	const struct cgroup_entry *found = NULL;
	int err = walk(resolver, 0);

	if (err)
		return err;
	for (size_t i = 0; i < resolver->cgroups.nr_entries; i++) {
		const struct cgroup_entry *entry = &resolver->cgroups.entries[i];
		const char *name;

		if (!entry->path || !entry->path[1])
			continue;
		name = last_component(entry->path);
		if (!match(resolver, name, strlen(name), wanted))
			continue;
		/* A user's own cgroups may be named after anything: not theirs to answer for. */
		if (owned_length(resolver, entry->path) != strlen(entry->path))
			continue;
		if (found)
			return -E2BIG;
		found = entry;
	}
	return found ? absolute_path(resolver, found->path, buf, size) : -ENOENT;
}

static bool is_named(const struct identity_resolver *resolver, const char *name, size_t len,
		     const void *wanted)
{
	(void)resolver;
	(void)len;
	return !strcmp(name, wanted);
}

int identity_find_unit(struct identity_resolver *resolver, const char *name, char *path,
		       size_t size)
{
	char unit[NAME_MAX + 1];
	const char *suffix = strchr(name, '.') ? "" : ".service";
	size_t len = strnlen(name, sizeof(unit));

	if (!len || strchr(name, '/') || len + strlen(suffix) >= sizeof(unit))
		return -EINVAL;
	snprintf(unit, sizeof(unit), "%s%s", name, suffix);
	return find_cgroup(resolver, is_named, unit, path, size);
}

struct pod_name {
	char namespace[IDENTITY_K8S_NAME_MAX + 1];
	char pod[IDENTITY_K8S_NAME_MAX + 1];
};

/* A pod's own cgroup, whose UID the kubelet's tables give that namespace and name. */
static bool is_pod_named(const struct identity_resolver *resolver, const char *name, size_t len,
			 const void *wanted)
{
	const struct pod_name *pod_name = wanted;
	const struct kubelet_record *pod;
	char uid[IDENTITY_POD_UID_LEN + 1];

	if (!pod_uid_of(name, len, uid))
		return false;
	pod = find_record(&resolver->pods, uid);
	return pod && !strcmp(pod->namespace, pod_name->namespace) &&
	       !strcmp(pod->pod, pod_name->pod);
}

int identity_find_pod(struct identity_resolver *resolver, const char *name, char *path, size_t size)
{
	const char *slash = strchr(name, '/');
	struct pod_name wanted;

	if (!slash ||
	    !copy_k8s_name(wanted.namespace, (struct span){ name, slash - name }, false) ||
	    !copy_k8s_name(wanted.pod, (struct span){ slash + 1, strlen(slash + 1) }, true))
		return -EINVAL;
	return find_cgroup(resolver, is_pod_named, &wanted, path, size);
}

static bool holds_container(const struct identity_resolver *resolver, const char *name, size_t len,
			    const void *wanted)
{
	const char *id = container_id_in(name, len);

	(void)resolver;
	return id && !strncmp(id, wanted, strlen(wanted));
}

int identity_find_container(struct identity_resolver *resolver, const char *id, char *path,
			    size_t size)
{
	size_t len = strnlen(id, IDENTITY_CONTAINER_ID_LEN + 1);

	if (len < IDENTITY_CONTAINER_ID_SHORT || len > IDENTITY_CONTAINER_ID_LEN ||
	    !is_hex(id, len))
		return -EINVAL;
	return find_cgroup(resolver, holds_container, id, path, size);
}

/* Undoes mountinfo's octal escapes (\040 for a space), in place. */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++, out++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*out = *s;
		}
	}
	*out = '\0';
}

/* A mountinfo line's mount point (its fifth field) if it mounts cgroup2; NULL if not. */
static char *cgroup2_mount_point(char *line)
{
	char *separator = strstr(line, " - "), *point = line;

	if (!separator || strncmp(separator + 3, "cgroup2 ", strlen("cgroup2 ")))
		return NULL;
	for (int i = 0; i < 4 && point; i++) {
		point = strchr(point, ' ');
		point = point ? point + 1 : NULL;
	}
	if (!point)
		return NULL;
	point[strcspn(point, " ")] = '\0';
	unescape_octal(point);
	return point;
}

/* The first cgroup2 mount of /proc/self/mountinfo: /sys/fs/cgroup, or .../unified. */
static int find_cgroup2_mount(int proc_fd, char **path)
{
	char *line = NULL, *point = NULL;
	size_t line_size = 0;
	FILE *mountinfo;
	int fd, err;

	if (proc_fd < 0)
		return -ENOENT;
	fd = openat(proc_fd, "self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mountinfo = fdopen(fd, "r");
	if (!mountinfo) {
		err = -errno;
		close(fd);
		return err;
	}
	while (!point && getline(&line, &line_size, mountinfo) > 0)
		point = cgroup2_mount_point(line);
	err = -ENOENT;
	if (point) {
		*path = strdup(point);
		err = *path ? 0 : -ENOMEM;
	}
	free(line);
	fclose(mountinfo);
	return err;
}

static int open_dir(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* A directory that may not be there: a node without Kubernetes has no kubelet logs. */
static int open_optional_dir(const char *path, int *fd)
{
	int err = open_dir(path, fd);

	return err == -ENOENT || err == -ENOTDIR ? 0 : err;
}

static int open_cgroup2(struct identity_resolver *resolver, const char *path)
{
	struct stat st;
	size_t len;
	int err = 0;

	if (path)
		resolver->cgroup2_path = strdup(path);
	else
		err = find_cgroup2_mount(resolver->proc_fd, &resolver->cgroup2_path);
	if (err)
		return err;
	if (!resolver->cgroup2_path)
		return -ENOMEM;
	len = strlen(resolver->cgroup2_path);
	while (len && resolver->cgroup2_path[len - 1] == '/')
		resolver->cgroup2_path[--len] = '\0';
	err = open_dir(len ? resolver->cgroup2_path : "/", &resolver->cgroup2_fd);
	if (err)
		return err;
	if (fstat(resolver->cgroup2_fd, &st))
		return -errno;
	resolver->cgroup2_dev = st.st_dev;
	resolver->cgroup2_owner = st.st_uid;
	return 0;
}

int identity_resolver_new(const struct identity_roots *roots, struct identity_resolver **out)
{
	static const struct identity_roots defaults = {};
	struct identity_resolver *resolver = calloc(1, sizeof(*resolver));
	int err;

	*out = NULL;
	if (!resolver)
		return -ENOMEM;
	if (!roots)
		roots = &defaults;
	resolver->cgroup2_fd = resolver->pods_fd = resolver->containers_fd = -1;
	err = open_optional_dir(roots->proc ? roots->proc : "/proc", &resolver->proc_fd);
	if (!err)
		err = open_optional_dir(roots->pods ? roots->pods : "/var/log/pods",
					&resolver->pods_fd);
	if (!err)
		err = open_optional_dir(roots->containers ? roots->containers
							  : "/var/log/containers",
					&resolver->containers_fd);
	if (!err)
		err = open_cgroup2(resolver, roots->cgroup2);
	if (!err)
		err = walk(resolver, 0);
	if (err) {
		identity_resolver_free(resolver);
		return err;
	}
	*out = resolver;
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

void identity_resolver_free(struct identity_resolver *resolver)
{
	if (!resolver)
		return;
	close_fd(resolver->cgroup2_fd);
	close_fd(resolver->proc_fd);
	close_fd(resolver->pods_fd);
	close_fd(resolver->containers_fd);
	free(resolver->cgroup2_path);
	free_cgroup_table(&resolver->cgroups);
	clear_entry(&resolver->spare);
	free_kubelet_table(&resolver->pods);
	free_kubelet_table(&resolver->containers);
	free(resolver);
}

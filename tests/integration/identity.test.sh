#!/usr/bin/env bash
# Who made a connection, on the cgroup layouts real machines have: a systemd service and a
# user's unit, Docker (systemd and cgroupfs drivers), containerd and CRI-O under Kubernetes
# (systemd and cgroupfs drivers), Podman. For connect and accept, -j's keys (cgroup_id,
# cgroup, unit, container_id, k8s_*, ppid, pcomm) and the table's IDENTITY, PPID and PCOMM
# (-I -e); pod and container names from the kubelet's log directories, which only root may
# read (tcptrace reads them as nobody, through what it opened before dropping); a pod
# started after tcptrace; a cgroup removed before its line is printed; --unit, --pod and
# --container, with other cgroups connecting at the same time, and their usage errors.
. "$(dirname "$0")/lib.sh"

ns_add loop

# The layouts, under a directory of this test's own in the cgroup v2 hierarchy.
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cgroot" ] || die "no cgroup v2 hierarchy mounted"
top="tcptrace-identity.$$"
base="$cgroot/$top"
mkdir "$base" || die "cannot create a cgroup under $cgroot"

# Whatever is still in them goes first (cgroup.kill), then the directories, deepest first.
# A stopped tracer is woken first: SIGTERM waits for SIGCONT, and cleanup() waits for it.
remove_all() {
	local pid i
	for pid in "${background[@]}" $tracer_pid; do
		kill -CONT "$pid" 2>/dev/null
	done
	if [ "$failures" -ne 0 ] || [ "${KEEP_WORK:-}" ]; then
		echo "--- JSON tracer output ---" >&2
		cat "$work"/json.out "$work"/json.err >&2 2>/dev/null
	fi
	cleanup
	echo 1 >"$base/cgroup.kill" 2>/dev/null
	for i in $(seq 50); do
		find "$base" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$base" ] || break
		sleep 0.1
	done
	[ -d "$base" ] && echo "FAIL: could not remove $base" >&2
}
trap remove_all EXIT

# container_id SEED: 64 hexadecimal digits; pod_uid SEED: 8-4-4-4-12 of them. Distinct
# for distinct seeds, and for each run of the test.
container_id() { printf 'container %s %s' $$ "$1" | sha256sum | cut -c1-64; }
pod_uid() {
	local h
	h=$(printf 'pod %s %s' $$ "$1" | md5sum | cut -c1-32)
	echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}

# layout NAME PATH UNIT CONTAINER_ID NAMESPACE POD CONTAINER POD_UID IDENTITY: a cgroup
# below $base, and what tcptrace must name it ("" for null), IDENTITY what -I must show.
declare -A path unit cid kns kpod kctr kuid ident cgid
layout() {
	path[$1]=$2 unit[$1]=$3 cid[$1]=$4 kns[$1]=$5 kpod[$1]=$6 kctr[$1]=$7 kuid[$1]=$8
	ident[$1]=$9
}

id=$(container_id docker)
layout docker "system.slice/docker-$id.scope" "docker-$id.scope" "$id" "" "" "" "" "${id:0:12}"
id=$(container_id dockerfs)
layout dockerfs "docker/$id" "" "$id" "" "" "" "" "${id:0:12}"
layout nginx system.slice/nginx.service nginx.service "" "" "" "" "" nginx.service
layout user user.slice/user-1000.slice/user@1000.service/app.slice/foo.service foo.service \
	"" "" "" "" "" foo.service
# Two pods of one name, in two namespaces: --pod must take the namespace into account.
id=$(container_id containerd) uid=$(pod_uid web)
layout containerd \
	"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$id.scope" \
	"cri-containerd-$id.scope" "$id" shop web-7d9f8b6c5-x2x4q nginx "$uid" \
	shop/web-7d9f8b6c5-x2x4q/nginx
id=$(container_id k8sfs) uid=$(pod_uid web-staging)
layout k8sfs "kubepods/besteffort/pod$uid/$id" "" "$id" staging web-7d9f8b6c5-x2x4q nginx \
	"$uid" staging/web-7d9f8b6c5-x2x4q/nginx
# A Guaranteed pod: no QoS slice.
id=$(container_id crio) uid=$(pod_uid api)
layout crio "kubepods.slice/kubepods-pod${uid//-/_}.slice/crio-$id.scope" "crio-$id.scope" \
	"$id" payments api-0 api "$uid" payments/api-0/api
id=$(container_id podman)
layout podman "machine.slice/libpod-$id.scope" "libpod-$id.scope" "$id" "" "" "" "" "${id:0:12}"
# Made once tcptrace runs.
id=$(container_id late) uid=$(pod_uid report)
layout late \
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice/cri-containerd-$id.scope" \
	"cri-containerd-$id.scope" "$id" batch report-28471234-qwert worker "$uid" \
	batch/report-28471234-qwert/worker
id=$(container_id gone)
layout gone "system.slice/docker-$id.scope" "docker-$id.scope" "$id" "" "" "" "" "${id:0:12}"

# The tracer's /var/log: a tmpfs in a mount namespace of the test's own, held by a sleeping
# process; every tracer of this test runs there (the tcptrace in $TCPTRACE_BIN_DIR, from
# here on, enters it), and the kubelet's entries are made there.
fresh "$work/holder.out"
unshare -m --propagation private sh -c \
	'mount -t tmpfs -o mode=0755 tcptrace-identity /var/log && echo ready && exec sleep 600' \
	>"$work/holder.out" 2>&1 &
holder=$!
background+=($holder)
wait_for_line "$work/holder.out" '^ready' $holder ||
	die "cannot mount a tmpfs on /var/log in a mount namespace: $(cat "$work/holder.out")"
in_mnt() { nsenter -t "$holder" -m -- "$@"; }
# Only root may read them: tcptrace, which becomes nobody once attached, can name pods only
# through the descriptors it opened before.
in_mnt mkdir -m 0700 /var/log/pods /var/log/containers ||
	die "cannot make the kubelet's directories"
in_mnt setpriv --reuid=65534 --regid=65534 --clear-groups ls /var/log/pods >/dev/null 2>&1 &&
	die "user nobody can list /var/log/pods: the test would prove nothing"
real_bin=$TCPTRACE_BIN_DIR
mkdir "$work/bin"
printf '#!/bin/sh\nexec nsenter -t %s -m -- "%s/tcptrace" "$@"\n' "$holder" "$real_bin" \
	>"$work/bin/tcptrace"
chmod +x "$work/bin/tcptrace"
TCPTRACE_BIN_DIR=$work/bin

# cgroup NAME: makes the layout's cgroup, and the kubelet's entries for its pod: the pod's
# log directory /var/log/pods/NS_POD_UID/CONTAINER/, and the container's log link
# /var/log/containers/POD_NS_CONTAINER-ID.log, pointing into it.
cgroup() {
	local name=$1 dir
	mkdir -p "$base/${path[$name]}" || die "cannot create cgroup ${path[$name]}"
	cgid[$name]=$(stat -c %i "$base/${path[$name]}")
	[ -n "${kns[$name]}" ] || return 0
	dir="/var/log/pods/${kns[$name]}_${kpod[$name]}_${kuid[$name]}"
	in_mnt sh -c 'mkdir -p "$1/$2" && : >"$1/$2/0.log" && ln -s "$1/$2/0.log" "$3"' sh \
		"$dir" "${kctr[$name]}" \
		"/var/log/containers/${kpod[$name]}_${kns[$name]}_${kctr[$name]}-${cid[$name]}.log" ||
		die "cannot make the kubelet's entries of ${kns[$name]}/${kpod[$name]}"
}

# A launcher named tt-launch: it joins a cgroup, and runs a command as its child (no exec),
# before the child enters a network namespace (ip netns exec mounts a /sys of its own,
# without the cgroup tree). Its PID is the child's PPID, and tt-launch its PCOMM.
cat >"$work/tt-launch" <<'EOF'
#!/bin/bash
echo $$ >"$1/cgroup.procs" || exit 125
shift
"$@"
exit $?
EOF
chmod +x "$work/tt-launch"

# launch NAME OUT COMMAND...: COMMAND in namespace loop, in the layout's cgroup, below a
# tt-launch, in the background, its output in OUT; the launcher's PID in $launched.
launch() {
	local name=$1 out=$2
	shift 2
	"$work/tt-launch" "$base/${path[$name]}" ip netns exec "$(ns_name loop)" "$@" \
		>"$out" 2>"$out.err" &
	launched=$!
	background+=($launched)
}

# connect_from NAME [OPTIONS]: one connection from the layout's cgroup to the server on
# $port; curl from nginx.service, tcp_peer (COMM c-NAME, with OPTIONS) from the others. The
# launcher's PID, the client's parent, in parent[NAME]; tcp_peer's PID in client[NAME].
declare -A parent client
connect_from() {
	local name=$1 status
	shift
	if [ "$name" = nginx ]; then
		# tcp_peer closes without answering: an empty reply (52), or a reset (56).
		launch "$name" "$work/client.$name" curl -sS -o /dev/null --noproxy '*' -m 5 \
			"http://127.0.0.1:$port/"
	else
		launch "$name" "$work/client.$name" "$TCP_PEER" connect -c "c-$name" "$@" \
			127.0.0.1 "$port"
	fi
	parent[$name]=$launched
	wait "$launched"
	status=$?
	case $name:$status in
	nginx:0 | nginx:52 | nginx:56) ;;
	nginx:*) die "curl in ${path[$name]} failed ($status): $(cat "$work/client.$name.err")" ;;
	*:0) ;;
	*) die "the client in ${path[$name]} failed ($status): $(cat "$work/client.$name.err")" ;;
	esac
	client[$name]=$(kv pid "$(head -n 1 "$work/client.$name")")
	echo "client of $name: launcher ${parent[$name]}, $(head -n 1 "$work/client.$name")"
}

# json_stop_parsed: json_stop, and every line it wrote is JSON.
json_stop_parsed() {
	json_stop
	expect_eq "every JSON line parses" "$(grep -c . "$work/json.out")" \
		"$(jq -c . "$work/json.out" 2>/dev/null | grep -c .)"
}

# names NAME: what JSON must say of the layout's cgroup: cgroup, unit, container_id,
# k8s_namespace, k8s_pod, k8s_container, "null" for what it does not name.
names() {
	local name=$1
	echo "/$top/${path[$name]} ${unit[$name]:-null} ${cid[$name]:-null} ${kns[$name]:-null}" \
		"${kpod[$name]:-null} ${kctr[$name]:-null}"
}
json_names='[.cgroup, .unit, .container_id, .k8s_namespace, .k8s_pod, .k8s_container] |
	map(tostring) | join(" ")'

# expect_json WHAT SELECT NAME COMM PID PPID IDENTITY_NAMES: exactly one JSON object matches
# the jq condition SELECT; its process (PID: "" for any), parent (tt-launch) and cgroup
# (its ID, and IDENTITY_NAMES as names() gives them) are the layout's.
expect_json() {
	local what=$1 select=$2 name=$3 comm=$4 pid=$5 ppid=$6 expected=$7 objects
	objects=$(jq -c "select($select)" "$work/json.out")
	if [ "$(grep -c . <<<"$objects")" != 1 ]; then
		fail "$what: expected one JSON object with $select, found: $objects"
		return 1
	fi
	echo "json: $objects"
	expect_eq "$what: comm" "$comm" "$(jq -r .comm <<<"$objects")"
	[ -z "$pid" ] || expect_eq "$what: pid" "$pid" "$(jq -r .pid <<<"$objects")"
	expect_eq "$what: ppid" "$ppid" "$(jq -r .ppid <<<"$objects")"
	expect_eq "$what: pcomm" tt-launch "$(jq -r .pcomm <<<"$objects")"
	expect_eq "$what: cgroup_id" "${cgid[$name]}" "$(jq -r .cgroup_id <<<"$objects")"
	expect_eq "$what: cgroup unit container_id k8s_namespace k8s_pod k8s_container" \
		"$expected" "$(jq -r "$json_names" <<<"$objects")"
}

server_start loop 127.0.0.1 tt-web
port=$server_port

echo "== connect: a connection from each layout, in JSON and in the table (-I -e)"
for name in nginx user docker dockerfs containerd k8sfs crio podman; do
	cgroup $name
done
json_start connect
tracer_start connect -x -I -e
expect_match "the tracer runs as nobody" 'running as user and group 65534 \(nobody\)' \
	"$(cat "$work/json.err")"
for name in nginx user docker dockerfs containerd k8sfs crio; do
	connect_from $name
done
# From a second thread: PPID and PCOMM are still the process's parent's.
connect_from podman -t
[ "${client[podman]}" != "$(kv tid "$(head -n 1 "$work/client.podman")")" ] ||
	fail "the client in ${path[podman]} did not connect from a second thread"

echo "== connect: a pod started after tcptrace printed its header"
cgroup late
# Two attempts, 300 ms apart: the first is looked up while its process lives.
connect_from late -r 2 -i 300
tracer_stop
json_stop_parsed

for name in nginx user docker dockerfs containerd k8sfs crio podman; do
	echo "-- $name: ${path[$name]}"
	comm=c-$name
	[ $name = nginx ] && comm=curl
	expect_json "connect from $name" ".ppid == ${parent[$name]}" $name $comm \
		"${client[$name]}" "${parent[$name]}" "$(names $name)"
	expect_eq "connect from $name: result" ESTABLISHED \
		"$(jq -r "select(.ppid == ${parent[$name]}) | .result" "$work/json.out")"
	the_row PPID="${parent[$name]}" &&
		expect_row COMM $comm PCOMM tt-launch IDENTITY "${ident[$name]}" RESULT ESTABLISHED
	[ -z "${client[$name]}" ] || expect_row PID "${client[$name]}"
done
echo "-- late: ${path[late]}"
expect_eq "the late pod: JSON objects" 2 \
	"$(jq -c "select(.pid == ${client[late]})" "$work/json.out" | grep -c .)"
expect_eq "the late pod: JSON objects naming it" 2 \
	"$(jq -r "select(.pid == ${client[late]}) | $json_names" "$work/json.out" |
		grep -cxF "$(names late)")"
expect_json "the late pod's first connection" \
	".pid == ${client[late]} and .sport == $(kv sport "$(head -n 1 "$work/client.late")")" \
	late c-late "${client[late]}" "${parent[late]}" "$(names late)"
expect_eq "the late pod: table lines naming it" 2 \
	"$(trace_rows PID="${client[late]}" PPID="${parent[late]}" PCOMM=tt-launch \
		IDENTITY="${ident[late]}" | grep -c .)"

echo "== accept: servers in a CRI-O container and in a Docker container (cgroupfs)"
declare -A server_pid server_port
for name in crio dockerfs; do
	launch $name "$work/server.$name" "$TCP_PEER" listen -c "s-$name" -n 1 127.0.0.1 0
	parent[$name]=$launched
	wait_for_line "$work/server.$name" '^listening' $launched ||
		die "server in ${path[$name]} did not start: $(cat "$work/server.$name.err")"
	server_pid[$name]=$(kv pid "$(head -n 1 "$work/server.$name")")
	server_port[$name]=$(kv port "$(head -n 1 "$work/server.$name")")
	expect_eq "server s-$name: its parent, from /proc" "${parent[$name]}" \
		"$(awk '{ print $4 }' "/proc/${server_pid[$name]}/stat")"
done
json_start accept
tracer_start accept -I -e
for name in crio dockerfs; do
	peer loop -c "a-$name" 127.0.0.1 "${server_port[$name]}"
	wait_accepts "$work/server.$name" 1
done
tracer_stop
json_stop_parsed
for name in crio dockerfs; do
	expect_json "accept in $name" ".pid == ${server_pid[$name]}" $name "s-$name" \
		"${server_pid[$name]}" "${parent[$name]}" "$(names $name)"
	the_row PID="${server_pid[$name]}" &&
		expect_row COMM "s-$name" PPID "${parent[$name]}" PCOMM tt-launch \
			IDENTITY "${ident[$name]}" LPORT "${server_port[$name]}"
done

echo "== a cgroup removed while its line waits in a stopped tracer"
json_start connect
tracer_start connect -x -I -e
kill -STOP "$json_pid" "$tracer_pid"
cgroup gone
connect_from gone
for i in $(seq 50); do
	rmdir "$base/${path[gone]}" 2>/dev/null && break
	sleep 0.1
done
[ -d "$base/${path[gone]}" ] && die "cannot remove ${path[gone]}"
kill -CONT "$json_pid" "$tracer_pid"
wait_for_line "$work/json.out" '"comm":"c-gone"' "$json_pid" || fail "no JSON line for c-gone"
wait_for_line "$work/trace.out" ' c-gone ' "$tracer_pid" || fail "no table line for c-gone"
expect_eq "the JSON tracer lives" 0 "$(kill -0 "$json_pid" 2>/dev/null; echo $?)"
expect_eq "the table's tracer lives" 0 "$(kill -0 "$tracer_pid" 2>/dev/null; echo $?)"
tracer_stop
json_stop_parsed
expect_json "connect from a removed cgroup" ".pid == ${client[gone]}" gone c-gone \
	"${client[gone]}" "${parent[gone]}" "null null null null null null"
the_row PID="${client[gone]}" &&
	expect_row COMM c-gone PPID "${parent[gone]}" PCOMM tt-launch \
		IDENTITY "cgroup:${cgid[gone]}" RESULT ESTABLISHED

echo "== --unit, --pod, --container: that cgroup alone, while others connect at once"
# filtered OPTION VALUE WANTED OTHER...: a tracer with OPTION VALUE; five attempts, 20 ms
# apart, from each layout's cgroup at the same time; only WANTED's are traced.
filtered() {
	local option=$1 value=$2 wanted=$3 name launchers=()
	shift 3
	tracer_start connect -x -I "$option" "$value"
	for name in "$wanted" "$@"; do
		launch "$name" "$work/traffic.$name" "$TCP_PEER" connect -c "f-$name" -r 5 -i 20 \
			127.0.0.1 "$port"
		launchers+=($launched)
	done
	wait "${launchers[@]}" || die "a client failed"
	tracer_stop
	expect_eq "$option $value: lines from $wanted, named ${ident[$wanted]}" 5 \
		"$(trace_rows COMM="f-$wanted" IDENTITY="${ident[$wanted]}" RESULT=ESTABLISHED |
			grep -c .)"
	for name; do
		expect_eq "$option $value: lines from $name" 0 "$(trace_rows COMM="f-$name" | grep -c .)"
	done
	expect_eq "$option $value: lines in all" 5 "$(trace_rows | grep -c .)"
}
filtered --unit nginx.service nginx user docker
# A pod of the same name in another namespace, with either cgroup driver.
filtered --pod shop/web-7d9f8b6c5-x2x4q containerd k8sfs nginx
filtered --pod staging/web-7d9f8b6c5-x2x4q k8sfs containerd
filtered --container "${cid[dockerfs]:0:12}" dockerfs docker podman
filtered --container "${cid[crio]}" crio containerd dockerfs

echo "== names that match nothing, and a malformed ID: usage errors, nothing loaded"
# usage_error LINE ARGS...: exit status 2, LINE and then the usage on stderr, nothing on
# stdout, and no bpf() call.
usage_error() {
	local line=$1 status
	shift
	# LeakSanitizer (tests/sanitize) cannot work under strace's ptrace.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=bpf -o "$work/strace" "$TCPTRACE_BIN_DIR/tcptrace" "$@" \
		>"$work/usage.out" 2>"$work/usage.err"
	status=$?
	expect_eq "status of '$*'" 2 "$status"
	expect_eq "first stderr line of '$*'" "$line" "$(head -n 1 "$work/usage.err")"
	expect_match "usage after the line for '$*'" '^Usage: ' "$(sed -n 2p "$work/usage.err")"
	expect_eq "stdout of '$*'" "" "$(cat "$work/usage.out")"
	expect_eq "bpf() calls of '$*'" 0 "$(grep -c 'bpf(' "$work/strace")"
}
command -v strace >/dev/null || die "strace is needed to see that bad usage loads nothing"
usage_error "tcptrace connect: invalid unit 'nginx-$$.service': no cgroup has this name" \
	connect --unit "nginx-$$.service"
# Its name is taken in two other namespaces.
usage_error "tcptrace accept: invalid pod 'default/web-7d9f8b6c5-x2x4q': no such pod on this node (/var/log/pods)" \
	accept --pod default/web-7d9f8b6c5-x2x4q
short=${cid[docker]:0:11}
usage_error "tcptrace connect: invalid container '$short': expected 12 to 64 hexadecimal digits" \
	connect --container "$short"
upper=$(tr a-f A-F <<<"${cid[docker]}")
usage_error "tcptrace accept: invalid container '$upper': expected 12 to 64 hexadecimal digits" \
	accept --container "$upper"
usage_error "tcptrace connect: invalid container '${cid[gone]:0:12}': no cgroup holds this container" \
	connect --container "${cid[gone]:0:12}"
# Two services of one name, in two slices: which one is not for tcptrace to guess.
mkdir -p "$base/one.slice/twice-$$.service" "$base/two.slice/twice-$$.service" ||
	die "cannot make the twin units' cgroups"
usage_error "tcptrace connect: invalid unit 'twice-$$': several cgroups have this name (select one with --cgroup)" \
	connect --unit "twice-$$"
usage_error "tcptrace accept: options '--cgroup' and '--pod' exclude each other" \
	accept --cgroup "$base" --pod shop/x

echo "== no cgroup2 mount to name cgroups with: said once, and the IDs stay"
# A mount namespace of its own, with the cgroup2 tree unmounted: -I and -j go on.
unshare -m --propagation private sh -c \
	'umount -l "$1" && exec "$2/tcptrace" connect -I -d 0.5' _ "$cgroot" "$real_bin" \
	>"$work/nomount.out" 2>"$work/nomount.err"
expect_eq "exit status without a cgroup2 mount" 0 $?
expect_eq "the notice, once" \
	"tcptrace: cannot name cgroups (No such file or directory): events show their cgroup's ID alone" \
	"$(cat "$work/nomount.err")"
expect_match "the header still has IDENTITY" 'IDENTITY$' "$(head -n 1 "$work/nomount.out")"
finish

#!/usr/bin/env bash
# run.sh PACKAGE_REGEX: boots the newest Debian kernel package matching PACKAGE_REGEX
# under qemu (software emulation), runs scenario.sh there — connect and accept over
# loopback, with each attach method — and checks every field of every line, as the
# integration tests do here.
# The package is downloaded once into $KERNEL_CACHE.
. "$(dirname "$0")/../integration/lib.sh"

regex=$1
cache=${KERNEL_CACHE:?KERNEL_CACHE is not set: run the tests through ctest}
for tool in qemu-system-x86_64 cpio busybox dpkg-deb; do
	command -v $tool >/dev/null || [ -x /bin/$tool ] || die "$tool is missing (scripts/setup.sh installs it)"
done

newest_package() {
	apt-cache search --names-only "^$regex\$" | awk '{ print $1 }' | sort -V | tail -n 1
}
package=$(newest_package)
if [ -z "$package" ]; then
	apt-get update -qq || die "apt-get update failed"
	package=$(newest_package)
fi
if [ -z "$package" ]; then
	# This machine's APT sources do not carry it (6.12 is in bookworm-security): not
	# tcptrace's fault, but CI must run every kernel, so there it is a failure.
	[ -n "${CI:-}" ] && die "no package in the APT sources matches $regex"
	echo "skipped: no package in this machine's APT sources matches $regex"
	exit 77
fi
mkdir -p "$cache"
deb=$(ls "$cache/${package}"_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	(cd "$cache" && apt-get download "$package" >/dev/null 2>&1) || die "cannot download $package"
	deb=$(ls "$cache/${package}"_*.deb | head -n 1)
fi
echo "kernel package: $(basename "$deb")"
mkdir "$work/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards './boot/vmlinuz-*' ||
	die "no kernel image in $deb"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-*)

# The initramfs: busybox, the programs, the shared libraries they load, the scenario.
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/"
for applet in sh mount ip sleep cat kill grep sed uname mkdir poweroff; do
	ln -s busybox "$root/bin/$applet"
done
programs=("$TCPTRACE_BIN_DIR/tcptrace" "$TCP_PEER" "$URING_ACCEPT")
cp "${programs[@]}" "$root/bin/"
for lib in $(ldd "${programs[@]}" | grep -o '/[^ :]*' | sort -u); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$(dirname "$0")/scenario.sh" "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

# KVM is unreliable on these machines: software emulation, a few seconds to boot.
timeout -k 10 300 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1024 -nographic \
	-no-reboot -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 quiet panic=-1" </dev/null >"$work/console.raw" ||
	die "qemu failed (status $?)"
tr -d '\r' <"$work/console.raw" >"$work/console"
grep -q 'TT-DONE' "$work/console" || { cat "$work/console" >&2; die "the scenario did not finish"; }
echo "booted: $(sed -n 's/.*TT-KERNEL //p' "$work/console")"

# section TAG: the lines the VM marked TT-TAG.
section() {
	sed -n "s/^.*TT-$1 //p" "$work/console"
}

check_connect() {
	local method=$1
	echo "== connect -A $method"
	section $method-CONNECT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "connect's exit status" 0 "$(section $method-CONNECT-STATUS)"
	expect_eq "connect's stderr" "" "$(section $method-CONNECT-ERR)"
	while read -r peer_lines; do
		result=$(kv result "$peer_lines")
		# A failed socket's source address is cleared before getsockname() sees it.
		peer_lines=${peer_lines/saddr=-/saddr=127.0.0.1}
		expect_attempt "$result"
	done < <(section $method-PEER)
	expect_eq "connect lines" 3 "$(trace_rows | grep -c .)"
}

check_accept() {
	local method=$1 line refused
	echo "== accept -A $method"
	section $method-ACCEPT >"$work/trace.out"
	cat "$work/trace.out"
	expect_eq "accept's exit status" 0 "$(section $method-ACCEPT-STATUS)"
	expect_eq "accept's stderr" "" "$(section $method-ACCEPT-ERR)"
	line=$(section $method-SERVER | grep 'comm=acc-srv')
	expect_accepted "$line" && expect_row UID 0 BACKLOG 0/128 RESULT ACCEPTED &&
		expect_between "QUEUED(ms), the server waited 100 ms" 100 1000 "$(kv 'QUEUED(ms)' "$row")"
	line=$(section $method-SERVER | grep 'comm=uring-srv')
	the_row RPORT="$(kv rport "$line")" LPORT="$(kv lport "$line")" &&
		expect_row PID "$(kv pid "$line")" COMM uring-srv IP 4 RADDR 127.0.0.1 RESULT ACCEPTED
	refused=$(section $method-REFUSED)
	the_row RPORT="$(kv sport "$refused")" LPORT=9 &&
		expect_row PID - COMM - IP 4 RADDR 127.0.0.1 LADDR 127.0.0.1 RESULT REFUSED
}

echo "kernel: $(sed -n 's/.*TT-KERNEL //p' "$work/console")"
echo "== features"
section FEATURES | tee "$work/features"
expect_eq "features: kernel" "$(section KERNEL)" "$(awk '$1 == "kernel" { print $2 }' "$work/features")"
# Debian's kernels have kprobes and fentry: every method is there.
expect_eq "features: sock:inet_sock_set_state" "yes yes yes yes yes" \
	"$(awk '$1 == "sock:inet_sock_set_state" { print $2, $3, $4, $5, $6 }' "$work/features")"
# Only the methods without twins clean up after missed runs (bpf/connect.bpf.c).
expect_eq "features: tcp:tcp_destroy_sock" "- - yes yes yes" \
	"$(awk '$1 == "tcp:tcp_destroy_sock" { print $2, $3, $4, $5, $6 }' "$work/features")"
expect_eq "features: skb:kfree_skb" "yes yes yes - -" \
	"$(awk '$1 == "skb:kfree_skb" { print $2, $3, $4, $5, $6 }' "$work/features")"
# Debian's 6.1 names the submission event io_uring_submit_sqe: accept goes without it.
case "$(section KERNEL)" in
6.1.*) submit=no ;;
*) submit=yes ;;
esac
expect_eq "features: io_uring_submit_req" "$submit" \
	"$(awk '$1 == "io_uring:io_uring_submit_req" { print $4 }' "$work/features")"
for method in tp_btf raw_tp tracepoint fentry kprobe; do
	check_connect $method
	check_accept $method
done
finish

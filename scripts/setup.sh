#!/bin/sh
# Install what is missing (Debian 12 packages), configure and build into build/.
# Run as root on a fresh machine; on one that has everything it only builds.
set -eu
cd "$(dirname "$0")/.."

# Build: the compiler for both sides, libbpf and what it links, bpftool for the skeleton,
# libmicrohttpd for serve.
build_packages="gcc libc6-dev make cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libmicrohttpd-dev"
# Tests: namespaces and veth (iproute2), packet rules (nftables, iptables for NFQUEUE),
# JSON checks (jq), a real client (curl),
# io_uring accepts and connects (liburing-dev),
# sysctl (procps), strace (no bpf() on bad usage), groff and mandoc (man page lint),
# python3 (the man pages' messages against the code),
# clang-format, for booting Debian's other kernels: qemu, a static busybox, cpio, xz;
# the checkers: valgrind, clang-tidy, cppcheck, libFuzzer's runtime (libclang-rt);
# and for serve's unit, systemd-analyze (package systemd; where systemd is not PID 1,
# installing it starts nothing) and man, which systemd-analyze verify runs.
test_packages="iproute2 nftables iptables jq curl libnetfilter-queue-dev liburing-dev procps strace groff-base mandoc python3 clang-format qemu-system-x86 busybox-static cpio xz-utils valgrind clang-tidy cppcheck libclang-rt-dev systemd man-db"

missing=
for package in $build_packages $test_packages; do
	dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $package"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: these packages are missing:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
# Prometheus, for the tests that scrape serve: downloaded, never installed (its package
# starts a server on port 9090 under systemd).
sh tests/helpers/prometheus_fetch.sh build/prometheus

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"

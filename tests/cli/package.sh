#!/usr/bin/env bash
# The Debian package (cpack -G DEB): the binary, its symlinks, the man pages, the
# documents they point to, the completion and serve's systemd unit, the dependencies on
# Debian 12's libraries; what it unpacks runs.
set -u
. "$(dirname "$0")/../integration/assert.sh"
[ -n "${BUILD_DIR:-}" ] || die "BUILD_DIR is not set: run the tests through ctest"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed"
out=$(mktemp -d /tmp/tcptrace-package.XXXXXX)
trap 'rm -rf "$out"' EXIT
(cd "$BUILD_DIR" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) ||
	die "cpack failed: $(tail -n 5 "$out/cpack.log")"
deb=$(ls "$out"/tcptrace_*.deb 2>/dev/null)
[ -f "$deb" ] || die "no package in $out"
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 ($7 ? " " $7 " " $8 : "") }')
for file in ./usr/sbin/tcptrace ./usr/share/man/man8/tcptrace.8 \
	./usr/share/man/man8/tcptrace-connect.8 ./usr/share/man/man8/tcptrace-accept.8 \
	./usr/share/man/man8/tcpconnect.8 ./usr/share/man/man8/tcpaccept.8 \
	./usr/share/bash-completion/completions/tcptrace ./usr/share/doc/tcptrace/json.md \
	./usr/share/doc/tcptrace/diagnostics.md ./usr/share/doc/tcptrace/prometheus.md \
	./usr/lib/systemd/system/tcptrace.service; do
	expect_eq "in the package: $file" 1 "$(grep -cx -- "$file" <<<"$contents")"
done
for alias in tcpconnect tcpconnlat tcpaccept; do
	expect_eq "in the package: the $alias symlink" 1 \
		"$(grep -cx -- "./usr/sbin/$alias -> tcptrace" <<<"$contents")"
	expect_eq "in the package: $alias's completion" 1 \
		"$(grep -cx -- "./usr/share/bash-completion/completions/$alias -> tcptrace" <<<"$contents")"
done
expect_eq "nothing from the tests" 0 "$(grep -c 'test\|loadgen\|tcp_peer' <<<"$contents")"
expect_eq "package name" tcptrace "$(dpkg-deb -f "$deb" Package)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libbpf1 libelf1 zlib1g libc6 libmicrohttpd12; do
	expect_match "depends on $lib" "(^|, )$lib " "$depends"
done
dpkg-deb -x "$deb" "$out/root"
expect_eq "the unit runs the packaged binary" "ExecStart=/usr/sbin/tcptrace serve" \
	"$(grep '^ExecStart=' "$out/root/usr/lib/systemd/system/tcptrace.service" 2>&1)"
expect_match "the unpacked binary runs" "^tcptrace [0-9]" "$("$out/root/usr/sbin/tcptrace" --version)"
expect_match "so does an unpacked alias" "^Usage: tcpaccept " \
	"$("$out/root/usr/sbin/tcpaccept" --help | head -n 1)"
finish

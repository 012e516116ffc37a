#!/usr/bin/env bash
# cmake --install honours DESTDIR and installs the binary, the symlinks from the command
# table, the man pages and the documents they point to, and serve's systemd unit; the
# installed symlinks dispatch by their name.
set -u
. "$(dirname "$0")/../integration/assert.sh"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$BUILD_DIR" --prefix /usr >/dev/null || die "cmake --install failed"

sbin=$stage/usr/sbin
[ -x "$sbin/tcptrace" ] || fail "no executable $sbin/tcptrace"
for alias in tcpconnect tcpconnlat tcpaccept; do
	expect_eq "$alias links to" tcptrace "$(readlink "$sbin/$alias")"
	expect_match "$alias names itself" "^Usage: $alias \\[" "$("$sbin/$alias" --help | head -n 1)"
done
expect_eq "tcpconnect's usage" "Usage: tcpconnect [-htTxLUIejcHv46] [-p PID] [-P PORTS] [-u UID] [--cgroup PATH]" \
	"$("$sbin/tcpconnect" --help | head -n 1)"
expect_eq "tcpaccept's usage" "Usage: tcpaccept [-htTxfUIejcHv46] [-p PID] [-P PORTS] [-u UID] [--cgroup PATH]" \
	"$("$sbin/tcpaccept" --help | head -n 1)"
completions=$stage/usr/share/bash-completion/completions
[ -f "$completions/tcptrace" ] || fail "bash completion not installed"
for alias in tcpconnect tcpconnlat tcpaccept; do
	expect_eq "$alias's completion links to" tcptrace "$(readlink "$completions/$alias")"
done
expect_match "the completion covers the aliases" "^complete -F _tcptrace tcptrace .*tcpaccept" \
	"$(grep '^complete' "$completions/tcptrace")"
for page in tcptrace.8 tcptrace-connect.8 tcptrace-accept.8 tcpconnect.8 tcpconnlat.8 tcpaccept.8; do
	[ -f "$stage/usr/share/man/man8/$page" ] || fail "man page $page not installed"
done
# The shared options are copied into each page that includes them: man(1) could not find
# the fragment where the pages are installed.
for page in tcptrace.8 tcptrace-connect.8 tcptrace-accept.8; do
	installed=$stage/usr/share/man/man8/$page
	expect_eq "$page includes no fragment" "" "$(grep '^\.so man/' "$installed")"
	expect_eq "$page holds the shared options" 1 "$(grep -c '^\.SS Options every tracing command takes' "$installed")"
done
# The documents the man pages point to.
for doc in README.md json.md diagnostics.md kernel-support.md performance.md security.md prometheus.md; do
	[ -f "$stage/usr/share/doc/tcptrace/$doc" ] || fail "$doc not installed in /usr/share/doc/tcptrace"
done
# serve's systemd unit, where systemd looks under /usr, naming the installed binary.
unit=$stage/usr/lib/systemd/system/tcptrace.service
[ -f "$unit" ] || fail "no systemd unit at /usr/lib/systemd/system/tcptrace.service"
expect_eq "the unit runs" "ExecStart=/usr/sbin/tcptrace serve" "$(grep '^ExecStart=' "$unit" 2>&1)"
expect_eq "nothing outside DESTDIR's /usr" "usr" "$(ls "$stage")"
finish

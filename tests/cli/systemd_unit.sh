#!/usr/bin/env bash
# serve's systemd unit, as cmake --install writes it: systemd-analyze verify finds no
# fault (its ExecStart names the installed binary, its man page exists), and its
# exposure, as systemd-analyze security rates it offline, stays at what it was made to.
set -u
. "$(dirname "$0")/../integration/assert.sh"
[ -n "${BUILD_DIR:-}" ] || die "BUILD_DIR is not set: run the tests through ctest"
command -v systemd-analyze >/dev/null ||
	die "systemd-analyze is missing: scripts/setup.sh installs it (package systemd)"
# verify checks Documentation='s man page with man(1).
command -v man >/dev/null || die "man is missing: scripts/setup.sh installs it (package man-db)"

# Where 1.9 comes from: the hardening a tracer can take (see the unit's comments). A
# change that lowers it should lower this too.
EXPOSURE_MAX=1.9

# Into a prefix, not DESTDIR: the unit's paths are then real ones, for verify to check.
stage=$(mktemp -d /tmp/tcptrace-unit.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cmake --install "$BUILD_DIR" --prefix "$stage/usr" >"$stage/install.log" 2>&1 ||
	die "cmake --install failed: $(tail -n 5 "$stage/install.log")"
unit=$stage/usr/lib/systemd/system/tcptrace.service
[ -f "$unit" ] || die "no unit at $unit"
expect_eq "ExecStart" "ExecStart=$stage/usr/sbin/tcptrace serve" "$(grep '^ExecStart=' "$unit")"
expect_eq "no placeholder left" "" "$(grep -E '@[A-Z_]+@' "$unit")"

verify=$(MANPATH=$stage/usr/share/man systemd-analyze verify "$unit" 2>&1)
expect_eq "systemd-analyze verify: exit status" 0 $?
expect_eq "systemd-analyze verify: findings" "" "$verify"

security=$(systemd-analyze security --offline=true "$unit" 2>&1)
expect_eq "systemd-analyze security: exit status" 0 $?
exposure=$(sed -n 's/.*Overall exposure level for tcptrace.service: \([0-9.]*\) .*/\1/p' <<<"$security")
echo "systemd-analyze security: exposure $exposure"
grep '✗' <<<"$security"
expect_between "exposure" 0 $EXPOSURE_MAX "$exposure"
finish

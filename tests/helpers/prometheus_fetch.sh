#!/bin/sh
# prometheus_fetch.sh CACHE_DIR: Debian's prometheus package, downloaded into CACHE_DIR
# unless one is there already, for the tests to unpack and run (tests/integration/
# prometheus.sh). Downloaded, never installed: under systemd, its postinst starts a
# server on port 9090. The machine's APT sources are used as they are.
set -eu
cache=${1:?usage: prometheus_fetch.sh CACHE_DIR}

if ls "$cache"/prometheus_*.deb >/dev/null 2>&1; then
	exit 0
fi
mkdir -p "$cache"
# A directory of its own, so that a download cut short leaves no .deb behind.
partial=$(mktemp -d "$cache/download.XXXXXX")
trap 'rm -rf "$partial"' EXIT
# apt-get's sandbox user (_apt) must be able to write where it downloads.
chmod 0777 "$partial"
download() {
	(cd "$partial" && apt-get download -qq prometheus) >"$partial/log" 2>&1
}
if ! download; then
	# A fresh machine may have no package lists yet; refreshing them takes root.
	if [ "$(id -u)" != 0 ]; then
		echo "prometheus_fetch: apt-get download prometheus failed; run scripts/setup.sh as root:" >&2
		cat "$partial/log" >&2
		exit 1
	fi
	apt-get update -qq
	download || {
		echo "prometheus_fetch: apt-get download prometheus failed:" >&2
		cat "$partial/log" >&2
		exit 1
	}
fi
mv "$partial"/prometheus_*.deb "$cache"/

#!/usr/bin/env bash
# The messages the man pages quote are the binary's (man_messages.py says how it tells).
# First the check itself: a page whose quote strays from the code must fail it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp -r "$source_dir"/{man,cmd,lib,bpf} "$tmp/"
sed -i 's/expected a number from 1 to 4194304" \\(rq/expected a number from 1 to 4194305" \\(rq/' \
	"$tmp/man/tcptrace-connect.8"
if python3 "$here/man_messages.py" "$tmp" | grep -q "^FAIL: tcptrace-connect.8:.*4194305"; then
	echo "ok: a quote that strays from the code is found"
else
	echo "FAIL: the check missed a quote that strays from the code"
	exit 1
fi
python3 "$here/man_messages.py" "$source_dir"

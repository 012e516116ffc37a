#!/usr/bin/env bash
# The messages the man pages and docs/diagnostics.md quote are the binary's
# (man_messages.py says how it tells).
# First the check itself: a page whose quote strays from the code must fail it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp -r "$source_dir"/{man,cmd,lib,bpf,docs} "$tmp/"
sed -i 's/expected a number from 1 to 4194304"$/expected a number from 1 to 4194305"/' \
	"$tmp/man/tcptrace.8"
strayed=$(python3 "$here/man_messages.py" "$tmp")
if grep -q "^FAIL: tcptrace.8:.*4194305" <<<"$strayed"; then
	echo "ok: a quote that strays from the code is found"
else
	echo "FAIL: the check missed a quote that strays from the code"
	exit 1
fi
sed -i 's/expected a number from 1 to 4194304`/expected a number from 1 to 4194305`/' \
	"$tmp/docs/diagnostics.md"
strayed=$(python3 "$here/man_messages.py" "$tmp")
if grep -q "^FAIL: diagnostics.md:.*4194305" <<<"$strayed"; then
	echo "ok: a message in docs/diagnostics.md that strays from the code is found"
else
	echo "FAIL: the check missed a message in docs/diagnostics.md that strays from the code"
	exit 1
fi
python3 "$here/man_messages.py" "$source_dir"

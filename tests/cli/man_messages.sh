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
# must_stray FILE EDIT: FILE (under the copy) edited so that its quote strays from the
# code: the check must name it.
must_stray() {
	local file=$1 edit=$2 strayed
	sed -i "$edit" "$tmp/$file"
	strayed=$(python3 "$here/man_messages.py" "$tmp")
	if grep -q "^FAIL: $(basename "$file"):.*4194305" <<<"$strayed"; then
		echo "ok: a quote in $file that strays from the code is found"
	else
		echo "FAIL: the check missed a quote in $file that strays from the code"
		exit 1
	fi
}
must_stray man/tcptrace.8 's/expected a number from 1 to 4194304"$/expected a number from 1 to 4194305"/'
must_stray docs/diagnostics.md 's/expected a number from 1 to 4194304`/expected a number from 1 to 4194305`/'
python3 "$here/man_messages.py" "$source_dir"

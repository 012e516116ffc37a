#!/usr/bin/env bash
# The man pages as installed (MAN_DIR: the build's man/, shared fragments copied in):
# each renders without a single groff or mandoc warning, glues no two words together, has
# its sections in the expected order, fits the length a person reads in one sitting, and
# every alias page (.so) points at a page that exists.
# Exit 0 when all is well, 1 with one line per problem (groff-base and mandoc must be
# installed).
set -u

man_dir=$(cd "${MAN_DIR:?set MAN_DIR to the built man pages (build/man)}" && pwd) || exit 1
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

if ! command -v groff >/dev/null || ! groff -man -z </dev/null 2>/dev/null; then
	echo "FAIL: groff with the man macros is needed: install groff-base" >&2
	exit 1
fi
if ! command -v mandoc >/dev/null; then
	echo "FAIL: mandoc is needed: install mandoc" >&2
	exit 1
fi

# Alternating font macros (.BR, .IR, ...) glue their arguments: two words in a row lose
# the space between them (".BR f() ) and was" renders "f())andwas"), which neither groff
# nor mandoc warns of. Escapes (\(lq, \fR, \e, \&) count as no letters.
glued_words() {
	awk '
	function bare(text) {
		gsub(/\\\(..|\\\[[^]]*\]|\\f.|\\./, "", text)
		return text
	}
	/^\.(BR|RB|BI|IB|IR|RI)[ \t]/ {
		line = substr($0, 4)
		n = 0
		while (1) {
			sub(/^[ \t]+/, "", line)
			if (line == "")
				break
			if (substr(line, 1, 1) == "\"") {
				match(line, /^"[^"]*"?/)
				arg = substr(line, 2, RLENGTH - 2)
			} else {
				match(line, /^[^ \t]+/)
				arg = substr(line, 1, RLENGTH)
			}
			line = substr(line, RLENGTH + 1)
			args[++n] = bare(arg)
		}
		for (i = 1; i < n; i++)
			if (args[i] ~ /[A-Za-z][A-Za-z]$/ && args[i + 1] ~ /^[A-Za-z][A-Za-z]/) {
				print "line " FNR ": " $0
				break
			}
	}' "$1"
}

# Sections each page must have, in this order; "optional" lists the ones it may add.
declare -A required=(
	[tcptrace.8]="NAME|SYNOPSIS|DESCRIPTION|COMMANDS|OPTIONS|EXIT STATUS|DIAGNOSTICS|REQUIREMENTS|SECURITY|FILES|SEE ALSO"
	[tcptrace-connect.8]="NAME|SYNOPSIS|DESCRIPTION|OPTIONS|FIELDS|EXAMPLES|OVERHEAD|EXIT STATUS|NOTES|SEE ALSO"
	[tcptrace-accept.8]="NAME|SYNOPSIS|DESCRIPTION|OPTIONS|FIELDS|EXAMPLES|OVERHEAD|EXIT STATUS|NOTES|SEE ALSO"
	[tcptrace-serve.8]="NAME|SYNOPSIS|DESCRIPTION|OPTIONS|METRICS|EXAMPLES|OVERHEAD|EXIT STATUS|NOTES|SEE ALSO"
)
declare -A optional=()
# At most this many lines rendered at 80 columns: tcptrace(8) is the map, each command's
# page the whole of that command (issue 13).
declare -A max_lines=([tcptrace.8]=210 [tcptrace-connect.8]=400 [tcptrace-accept.8]=400
	[tcptrace-serve.8]=400)
default_required="NAME|SYNOPSIS|DESCRIPTION|SEE ALSO"

# check_sections PAGE FILE: the .SH headings hold the required ones, in order, and (for
# a page with a fixed list) nothing but them and the optional ones.
check_sections() {
	local page=$1 file=$2
	local want=${required[$page]-$default_required} extra=${optional[$page]-}
	local -a wanted headings present=()
	local heading

	IFS='|' read -r -a wanted <<<"$want"
	mapfile -t headings < <(sed -n 's/^\.SH[[:space:]]*//p' "$file" | tr -d '"' |
		sed 's/[[:space:]]*$//')
	for heading in "${headings[@]}"; do
		if [[ "|$want|" == *"|$heading|"* ]]; then
			present+=("$heading")
		elif [ -n "${required[$page]-}" ] && [[ "|$extra|" != *"|$heading|"* ]]; then
			fail "$page: unexpected section '.SH $heading'"
		fi
	done
	for heading in "${wanted[@]}"; do
		[[ "|$(IFS='|'; echo "${headings[*]}")|" == *"|$heading|"* ]] ||
			fail "$page: no '.SH $heading' section"
	done
	# The required sections that are there, in the order they should be.
	local -a expected=()
	for heading in "${wanted[@]}"; do
		[[ "|$(IFS='|'; echo "${present[*]}")|" == *"|$heading|"* ]] && expected+=("$heading")
	done
	[ "$(IFS='|'; echo "${present[*]}")" = "$(IFS='|'; echo "${expected[*]}")" ] ||
		fail "$page: sections out of order: $(IFS=,; echo "${present[*]}")" \
			"(expected ${want//|/,})"
}

# The glue check itself catches what it is for, and lets alone what is meant to glue.
sample=$(printf '%s\n' '.BR tcp_set_state() ) and was queued' '.BR accept (2)' \
	'.RB \(lq "tcptrace: attached" \(rq' '.BI \ex HH')
[ "$(glued_words /dev/stdin <<<"$sample")" = "line 1: .BR tcp_set_state() ) and was queued" ] ||
	fail "the glue check misses glued words, or finds some where there are none"

shopt -s nullglob
pages=("$man_dir"/*.[1-9])
[ "${#pages[@]}" -gt 0 ] || fail "no man pages in $man_dir"

for file in "${pages[@]}"; do
	page=$(basename "$file")

	if grep -q '^\.so[[:space:]]' "$file"; then
		# An alias: one .so line, naming man<section>/<page> as installed.
		target=$(sed -n 's/^\.so[[:space:]]*//p' "$file")
		if [ "$(wc -l <"$file")" -ne 1 ]; then
			fail "$page: an alias page holds the .so line alone"
		elif [[ ! "$target" =~ ^man[1-9]/[^/]+$ ]]; then
			fail "$page: .so target '$target' is not man<section>/<page>"
		elif [ ! -f "$man_dir/$(basename "$target")" ]; then
			fail "$page: .so target '$target' does not exist in man/"
		elif grep -q '^\.so[[:space:]]' "$man_dir/$(basename "$target")"; then
			fail "$page: .so target '$target' is an alias itself"
		fi
		continue
	fi

	warnings=$(groff -man -ww -z -t "$file" 2>&1 >/dev/null)
	[ -z "$warnings" ] || fail "$page: groff says:"$'\n'"$warnings"
	# -W warning: mandoc's style remarks (lines over 80 bytes) are not faults.
	warnings=$(mandoc -T lint -W warning "$file" 2>&1)
	[ -z "$warnings" ] || fail "$page: mandoc says:"$'\n'"$warnings"
	warnings=$(glued_words "$file")
	[ -z "$warnings" ] || fail "$page: words glued together (quote them as one argument):"$'\n'"$warnings"

	# .TH NAME SECTION: the file's name in capitals, and its section.
	th=$(grep -m 1 '^\.TH ' "$file")
	name=$(tr '[:lower:]' '[:upper:]' <<<"${page%.*}")
	[[ "$th" =~ ^\.TH\ $name\ ${page##*.}(\ |$) ]] ||
		fail "$page: .TH line '$th' does not start with '.TH $name ${page##*.}'"

	if grep -n '[[:space:]]$' "$file" >/dev/null; then
		fail "$page: trailing whitespace on line(s) $(grep -n '[[:space:]]$' "$file" |
			cut -d: -f1 | paste -sd, -)"
	fi
	if LC_ALL=C grep -n '[^[:print:][:space:]]' "$file" >/dev/null; then
		fail "$page: bytes outside printable ASCII (use groff escapes)"
	fi
	check_sections "$page" "$file"
	# As man(1) shows it: runs of blank lines squeezed, none at the end.
	lines=$(groff -t -man -Tascii -rLL=78n "$file" 2>/dev/null | cat -s | awk 'NF { last = NR } END { print last }')
	[ "$lines" -le "${max_lines[$page]-400}" ] ||
		fail "$page: $lines lines at 80 columns, more than ${max_lines[$page]-400}"
done

if [ "$failures" -gt 0 ]; then
	echo "man_lint: $failures problem(s)" >&2
	exit 1
fi
echo "man_lint: ${#pages[@]} page(s) ok"
exit 0

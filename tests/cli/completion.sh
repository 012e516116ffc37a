#!/usr/bin/env bash
# Bash completion: commands, each command's options (all those its --help lists, and
# only those), and the values of -A, --cgroup and --netns; for tcptrace and the aliases.
set -u
. "$(dirname "$0")/../integration/assert.sh"
[ -n "${TCPTRACE_BIN_DIR:-}" ] || die "TCPTRACE_BIN_DIR is not set: run the tests through ctest"
PATH="$TCPTRACE_BIN_DIR:$PATH"
. "$TCPTRACE_BIN_DIR/tcptrace.bash-completion"

# complete WORDS...: what completing the last word offers, sorted, on one line.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_tcptrace
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# The options a command's --help lists, sorted, on one line.
help_options() {
	"$@" --help | grep -oE '^ +(-[a-zA-Z0-9], )?--[a-z0-9-]+|^ +-[a-zA-Z0-9],' |
		grep -oE -- '--?[a-zA-Z0-9-]+' | sort | tr '\n' ' ' | sed 's/ $//'
}

expect_eq "commands" "accept connect features help serve" "$(complete_words tcptrace '')"
expect_eq "commands after 'help'" "connect" "$(complete_words tcptrace help con)"
expect_eq "a command's prefix" "accept" "$(complete_words tcptrace acc)"
for cmd in connect accept; do
	expect_eq "$cmd: every option of --help" "$(help_options tcptrace $cmd)" \
		"$(complete_words tcptrace $cmd -)"
done
expect_eq "tcpaccept: accept's options" "$(help_options tcptrace accept)" \
	"$(complete_words tcpaccept -)"
expect_eq "tcpconnect: connect's options" "$(help_options tcptrace connect)" \
	"$(complete_words tcpconnect -)"
expect_eq "-f is accept's only" "" "$(complete_words tcpconnect -f)"
expect_eq "a long option's prefix" "--netns" "$(complete_words tcptrace connect -x --ne)"
expect_eq "-A's methods" "auto fentry kprobe raw_tp tp_btf tracepoint" \
	"$(complete_words tcptrace connect -A '')"
expect_eq "--attach's methods, by prefix" "tp_btf tracepoint" \
	"$(complete_words tcpaccept --attach t)"
mkdir -p "/tmp/tcptrace-completion.$$/cg/sub"
expect_eq "--cgroup: directories" "/tmp/tcptrace-completion.$$/cg" \
	"$(complete_words tcptrace accept --cgroup "/tmp/tcptrace-completion.$$/c")"
rm -rf "/tmp/tcptrace-completion.$$"
expect_eq "-P takes the user's own value" "" "$(complete_words tcptrace connect -P '')"
finish

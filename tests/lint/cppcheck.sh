#!/usr/bin/env bash
# cppcheck over every C file of ours: lib/, cmd/ and the tests' programs. Warnings,
# performance, portability and style findings all fail.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD_DIR:?run through ctest}"
command -v cppcheck >/dev/null || { echo "cppcheck is needed" >&2; exit 1; }
# libbpf's headers, and only them, from the system: for its macros
# (bpf_object__for_each_program, LIBBPF_OPTS); glibc's would only slow it down.
includes=$(mktemp -d)
trap 'rm -rf "$includes"' EXIT
ln -s /usr/include/bpf "$includes/bpf"
cd "$root" && cppcheck --enable=warning,performance,portability,style --std=c11 --quiet \
	--error-exitcode=1 --inline-suppr -D__x86_64__ --suppress=missingIncludeSystem \
	--suppress=missingInclude -I lib -I cmd -I bpf -I "$BUILD_DIR/bpf" -I "$includes" \
	lib cmd tests/unit tests/helpers tests/bench tests/fuzz

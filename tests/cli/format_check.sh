#!/usr/bin/env bash
# The C sources follow .clang-format (kernel style): clang-format would change nothing.
cd "$(dirname "$0")/../.." || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find bpf cmd lib tests -name '*.[ch]')
clang-format --dry-run --Werror $files

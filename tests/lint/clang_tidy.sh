#!/usr/bin/env bash
# clang-tidy over lib/ and cmd/, with the checks and the reasons for those left out in
# .clang-tidy; any finding fails. The build's compile_commands.json gives the flags.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD_DIR:?run through ctest}"
command -v clang-tidy >/dev/null || { echo "clang-tidy is needed" >&2; exit 1; }
[ -f "$BUILD_DIR/compile_commands.json" ] || { echo "no compile_commands.json in $BUILD_DIR" >&2; exit 1; }
cd "$root" && clang-tidy -p "$BUILD_DIR" --quiet lib/*.c cmd/*.c

#!/usr/bin/env bash
# The unit and integration tests once more, on a build with AddressSanitizer (and its
# LeakSanitizer) and UBSan, every finding fatal: the tracer's stderr then holds the
# report, which fails the test that met it (most check stderr, all check exit status).
# Left out: what builds something else (static, package, install), valgrind (memcheck
# cannot run a sanitized binary), the system call filter's own test (the sanitizers'
# runtime makes calls of its own, sigaltstack() among them; their builds trace without
# the filter), and the source checks, which are not about the binary.
set -u
: "${SOURCE_DIR:?run through ctest}" "${SANITIZE_BUILD_DIR:?run through ctest}"
log=$SANITIZE_BUILD_DIR.log
echo "building with -DTCPTRACE_SANITIZE=ON in $SANITIZE_BUILD_DIR"
if ! { cmake -S "$SOURCE_DIR" -B "$SANITIZE_BUILD_DIR" -DTCPTRACE_SANITIZE=ON &&
	cmake --build "$SANITIZE_BUILD_DIR" -j2; } >"$log" 2>&1; then
	tail -n 30 "$log"
	exit 1
fi
# verify_asan_link_order=0: integration.methods preloads a library (refuse_bpf.so)
# that intercepts bpf(), not malloc(); ASan need not come first for it.
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:verify_asan_link_order=0
export UBSAN_OPTIONS=print_stacktrace=1
exec ctest --test-dir "$SANITIZE_BUILD_DIR" --output-on-failure -L '^(unit|integration)$' \
	-E '^(integration\.(static|memcheck)|unit\.test_sandbox|cli\.(package|install|format_check|man_lint))$'

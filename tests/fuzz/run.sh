#!/usr/bin/env bash
# run.sh TARGET: builds the libFuzzer targets with clang (-DTCPTRACE_FUZZ=ON: ASan and
# UBSan too) in $FUZZ_BUILD_DIR, and runs fuzz_TARGET for $FUZZ_SECONDS (60). The corpus
# is kept in the build directory, so that each run starts where the last one ended. A
# crash fails the test; the input that caused it is kept in $FUZZ_BUILD_DIR/crashes and
# printed.
set -u
target=fuzz_$1
: "${SOURCE_DIR:?run through ctest}" "${FUZZ_BUILD_DIR:?run through ctest}"
seconds=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "clang is needed"; exit 1; }
log=$FUZZ_BUILD_DIR.log
if ! { CC=clang cmake -S "$SOURCE_DIR" -B "$FUZZ_BUILD_DIR" -DTCPTRACE_FUZZ=ON \
	-DBUILD_TESTING=OFF && cmake --build "$FUZZ_BUILD_DIR" --target "$target" -j2; } \
	>"$log" 2>&1; then
	tail -n 30 "$log"
	exit 1
fi

corpus=$FUZZ_BUILD_DIR/corpus/$target
# Crashing inputs stay, to be replayed: run the target with the file as its argument.
artifacts=$FUZZ_BUILD_DIR/crashes/$target
mkdir -p "$corpus" "$artifacts"
started=$(mktemp)
trap 'rm -f "$started"' EXIT
# A few seeds: command lines of every shape (NUL between arguments), and events.
seed() { printf "$2" >"$corpus/seed-$1"; }
case $target in
fuzz_cli)
	seed connect 'tcptrace\0connect\0-p\0001\0-tTxLU\0-P\00080,443\0-u\0000\0-4'
	seed summaries 'tcpconnlat\0-c\0-H\0-i\0001.5\0-j\0-n\00010\0-d\0000.5\0002.25'
	seed accept 'tcpaccept\0-x\0-f\0-P\00022\0--ring-size=64K\0-A\0raw_tp\0--netns\0x'
	seed help 'tcptrace\0help\0connect'
	seed serve 'tcptrace\0serve\0-f\0--listen\0[::1]:9\0--label\0daddr,dport\0--max-series\0005'
	;;
fuzz_format)
	seed connect-json '\041'
	seed accept-text '\134AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
	;;
fuzz_metrics)
	seed labels '\005AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\003a"b\002pd\001c'
	;;
esac
"$FUZZ_BUILD_DIR/tests/fuzz/$target" -close_fd_mask=3 -artifact_prefix="$artifacts/" \
	-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus"
status=$?
[ $status = 0 ] && exit 0
# This run's crashes only: those of earlier runs stay, but are not this failure.
find "$artifacts" -type f -newer "$started" | while read -r crash; do
	echo "--- to replay: $FUZZ_BUILD_DIR/tests/fuzz/$target $crash"
	od -An -c "$crash" | head -n 20
done
exit $status

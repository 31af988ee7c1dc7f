#!/usr/bin/env bash
# tests/fuzz/run.sh -- builds the libFuzzer harnesses (fuzz_snap, fuzz_aof) with clang, ASan and
# UBSan in their own build directory and runs each for N seconds, seeded with the golden files of
# tests/fixtures/ (each seed once per harness mode: the first input byte, see fuzz_*.c).
#
#   tests/fuzz/run.sh [seconds per harness, default 30]
#
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), JOBS (build jobs, default 2),
# FUZZ_TARGETS (default "snap aof"). The corpus grows in $FUZZ_BUILD_DIR/corpus/<target> and is
# reused by later runs; crashes are written to $FUZZ_BUILD_DIR/artifacts/<target>/ and make the
# script fail. Not part of ctest.
set -euo pipefail

secs=${1:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${JOBS:-2}
targets=${FUZZ_TARGETS:-"snap aof"}

command -v clang >/dev/null || { echo "run.sh: clang not found (Debian package 'clang')" >&2; exit 2; }

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Sanitize -DSTRATA_FUZZ=ON >/dev/null
cmake --build "$build" -j "$jobs" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null

declare -A seed=([snap]=snap-v1.sts [aof]=aof-v1.log)
status=0
for t in $targets; do
  corpus=$build/corpus/$t
  seeds=$build/seeds/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$seeds" "$artifacts"
  for mode in 0 1 3; do
    { printf "\\x$(printf %02x $mode)"; cat "$src/tests/fixtures/${seed[$t]}"; } >"$seeds/mode$mode"
  done
  echo "== fuzz_$t: ${secs}s (corpus $corpus)"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -dict="$src/tests/fuzz/$t.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
      "$corpus" "$seeds" 2>"$build/fuzz_$t.log"; then
    status=1
    echo "fuzz_$t FAILED: see $build/fuzz_$t.log and $artifacts/" >&2
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE)' "$build/fuzz_$t.log" || true
done
exit $status

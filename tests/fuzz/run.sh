#!/usr/bin/env bash
# tests/fuzz/run.sh -- builds the libFuzzer harnesses with clang, ASan and UBSan in their own build
# directory and runs each for N seconds:
#   fuzz_snap, fuzz_aof       the snapshot and append-log readers (engine/snap.c, engine/aof.c),
#                             seeded with the golden files of tests/fixtures/;
#   fuzz_ins_val              strata-inspect's value decoder and printers over snapshot items,
#                             seeded with tests/fixtures/*.sts and a small snapshot inspect_gen makes;
#   fuzz_ins_pool             strata-inspect's PMem pool scanner, seeded with slices of a pool
#                             inspect_gen makes through tiers/pmem.c;
#   fuzz_ins_ssd              strata-inspect's SSD directory reader, seeded with the segments of a
#                             directory inspect_gen makes through tiers/ssd.c.
# Each seed is used once per harness mode (the first input byte, see fuzz_*.c).
#
#   tests/fuzz/run.sh [seconds per harness, default 30]
#
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), JOBS (build jobs, default 2),
# FUZZ_TARGETS (default "snap aof ins_val ins_pool ins_ssd"). The corpus grows in
# $FUZZ_BUILD_DIR/corpus/<target> and is reused by later runs; crashes are written to
# $FUZZ_BUILD_DIR/artifacts/<target>/ and make the script fail. Not part of ctest (tests/fuzz/ci.sh
# is the short pass CI runs).
set -euo pipefail

secs=${1:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${JOBS:-2}
targets=${FUZZ_TARGETS:-"snap aof ins_val ins_pool ins_ssd"}

command -v clang >/dev/null || { echo "run.sh: clang not found (Debian package 'clang')" >&2; exit 2; }

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Sanitize -DSTRATA_FUZZ=ON >/dev/null
cmake --build "$build" -j "$jobs" --target inspect_gen $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null

# Seeds made by the tiers' and the engine's own writers (kept in $build/gen between runs).
gen=$build/gen
mkdir -p "$gen"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ ! -s "$gen/small.sts" ]; then
  "$build/tests/inspect_gen" snap "$gen/small.sts" "$gen/small.exp" small >/dev/null
fi
if [ ! -s "$gen/tier.pool" ]; then
  PMEM_IS_PMEM_FORCE=1 PMEMOBJ_CONF=sds.at_create=0 "$build/tests/inspect_gen" pool "$gen/tier.pool" "$gen/pool.exp" >/dev/null
fi
if [ ! -d "$gen/ssd" ]; then
  "$build/tests/inspect_gen" ssd "$gen/ssd" "$gen/ssd.exp" >/dev/null
fi

seed_files() { # target -> the raw seed files (without the mode byte)
  case $1 in
    snap) echo "$src/tests/fixtures/snap-v1.sts" ;;
    aof) echo "$src/tests/fixtures/aof-v1.log" ;;
    ins_val) ls "$src"/tests/fixtures/*.sts; echo "$gen/small.sts" ;;
    ins_pool|ins_ssd) ls "$gen/$1".seed.* ;;
  esac
}

# Pool seeds: 16-aligned slices of the object area around its records; SSD seeds: the class byte,
# then a PUT segment's entries, optionally "NOTESSEG" and the notes segment's entries.
python3 - "$gen" <<'EOF'
import os, sys
gen = sys.argv[1]
d = open(os.path.join(gen, "tier.pool"), "rb").read()
offs = [i for i in range(4096, len(d) - 4, 16) if d[i:i + 4] in (b"STR1", b"STD1")]
for n, start in enumerate(sorted(set([offs[0], offs[len(offs) // 2], offs[-1]] if offs else []))):
    s = max(4096, start - 16) & ~15
    open(os.path.join(gen, "ins_pool.seed.%d" % n), "wb").write(d[s:s + 12288])
ssd = os.path.join(gen, "ssd")
segs = {}
for f in sorted(os.listdir(ssd)):
    if f.startswith("seg-"):
        b = open(os.path.join(ssd, f), "rb").read()
        segs[f] = (int.from_bytes(b[40:44], "little"), b[4096:].rstrip(b"\0"))
notes = b"".join(body for cls, body in segs.values() if cls == 6)
n = 0
for f, (cls, body) in segs.items():
    if cls == 6:
        continue
    open(os.path.join(gen, "ins_ssd.seed.%d" % n), "wb").write(bytes([cls]) + body[:60000])
    open(os.path.join(gen, "ins_ssd.seed.%dn" % n), "wb").write(bytes([cls]) + body[:30000] + b"NOTESSEG" + notes[:20000])
    n += 1
EOF

declare -A dict=([snap]=snap [aof]=aof [ins_val]=snap [ins_pool]=ins [ins_ssd]=ins)
# the inspect harnesses write their input to files: on tmpfs, in a directory of this run's own
INSFUZZ_DIR=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/strata-insfuzz.XXXXXX")
export INSFUZZ_DIR
trap 'rm -rf "$INSFUZZ_DIR"' EXIT
status=0
for t in $targets; do
  corpus=$build/corpus/$t
  seeds=$build/seeds/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$seeds" "$artifacts"
  i=0
  for f in $(seed_files "$t"); do
    for mode in 0 1 3; do
      { printf "\\x$(printf %02x $mode)"; cat "$f"; } >"$seeds/seed$i.mode$mode"
    done
    i=$((i + 1))
  done
  echo "== fuzz_$t: ${secs}s (corpus $corpus)"
  if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -dict="$src/tests/fuzz/${dict[$t]}.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
      "$corpus" "$seeds" 2>"$build/fuzz_$t.log"; then
    status=1
    echo "fuzz_$t FAILED: see $build/fuzz_$t.log and $artifacts/" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )' "$build/fuzz_$t.log" | head -20 >&2 || true
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE)' "$build/fuzz_$t.log" || true
done
exit $status

#!/usr/bin/env bash
#
# inspect_rss.sh -- strata-inspect's peak memory and time on a big snapshot: generates a snapshot of
# SIZE_MB MiB with the engine's own writer (tests/integration/inspect_gen.c "big": hot strings of
# 200 B .. 2 KB, one in a hundred up to 64 KB, a hash of 30 fields every 17th key, every 4th key a
# cold zstd record, 4 databases, TTLs on a fifth), then runs verify, info, keys, get, dump (RESP and
# JSON, to /dev/null), diff (the file against itself) and report on it, each with --peak-rss
# (VmHWM from /proc/self/status at the end), and prints one table row per command.
#
# It builds nothing: make build first. Environment (defaults in brackets):
#   SIZE_MB [2048]  OUT [/tmp/strata-inspect-rss.sts] (kept when KEEP=1)
#   STRATA_INSPECT [<repo>/build/strata-inspect]  INSPECT_GEN [<repo>/build/tests/inspect_gen]
#
# Not in CI (a 2 GB file); tests/integration/test_inspect.py runs a small version (16 vs 96 MiB).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
INS=${STRATA_INSPECT:-$REPO/build/strata-inspect}
GEN=${INSPECT_GEN:-$REPO/build/tests/inspect_gen}
SIZE_MB=${SIZE_MB:-2048}
OUT=${OUT:-/tmp/strata-inspect-rss.sts}
for t in "$INS" "$GEN"; do
  [ -x "$t" ] || { echo "inspect_rss: $t not found (make build)" >&2; exit 2; }
done
trap '[ "${KEEP:-0}" = 1 ] || rm -f "$OUT" "$OUT.html"' EXIT

t0=$(date +%s.%N)
keys=$("$GEN" big "$OUT" "$SIZE_MB" | awk '{print $1}')
t1=$(date +%s.%N)
printf 'snapshot: %s, %s bytes, %s keys, written in %.1f s\n' "$OUT" "$(stat -c %s "$OUT")" "$keys" \
  "$(echo "$t1 - $t0" | bc)"
printf '| command | exit | peak RSS | time | output |\n| --- | ---: | ---: | ---: | ---: |\n'
row() {
  local s e rc
  s=$(date +%s.%N)
  set +e
  "$INS" "$@" --peak-rss >"$OUT.stdout" 2>"$OUT.stderr"
  rc=$?
  set -e
  e=$(date +%s.%N)
  printf '| `strata-inspect %s` | %d | %s | %.1f s | %s bytes |\n' "$*" "$rc" \
    "$(grep -o 'peak RSS [0-9]* KiB' "$OUT.stderr" | awk '{printf "%.1f MiB", $3 / 1024}')" \
    "$(echo "$e - $s" | bc)" "$(stat -c %s "$OUT.stdout")"
  rm -f "$OUT.stdout" "$OUT.stderr"
}
row verify "$OUT"
row info "$OUT"
row keys "$OUT"
row get "$OUT" user:1 --db 1
row dump "$OUT" --format resp
row dump "$OUT" --format json
row report "$OUT" --html "$OUT.html"
row diff "$OUT" "$OUT"

#!/usr/bin/env bash
# bench/persist.sh -- snapshots under a write-heavy load, Strata beside Redis.
#
# For each server: load KEYS keys of VALUE bytes, then run a SET load
# (redis-benchmark, 50 clients, pipeline 16, random keys over the same key
# space) and, while it runs, BGSAVE; sample the memory of the server's
# processes every 20 ms (the sum of Pss over the server and, for Redis, its
# fork child: the physical memory they use, shared pages counted once) and
# report the peak over the idle baseline, the snapshot's duration and size,
# and the load's throughput and p99 with and without a BGSAVE running.
#   KEYS=1000000 VALUE=100 bash bench/persist.sh
set -euo pipefail
KEYS=${KEYS:-1000000}
VALUE=${VALUE:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA:-$ROOT/build/strata-server}
WORK=$(mktemp -d /tmp/strata-bench-persist.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

pss_kb() { # pss of pid and its children, KiB
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    local v
    v=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo $total
}

run_one() { # name port pid
  local name=$1 port=$2 pid=$3
  redis-benchmark -p "$port" -t set -r "$KEYS" -n "$KEYS" -d "$VALUE" -P 32 -c 20 -q >/dev/null
  redis-cli -p "$port" dbsize >/dev/null
  sleep 1
  local base; base=$(pss_kb "$pid")
  # the load alone
  local alone; alone=$(redis-benchmark -p "$port" -t set -r "$KEYS" -n 600000 -d "$VALUE" -P 16 -c 50 --csv 2>/dev/null | tail -1)
  # the load with a BGSAVE started right after it begins
  redis-benchmark -p "$port" -t set -r "$KEYS" -n 600000 -d "$VALUE" -P 16 -c 50 --csv > "$WORK/$name.during" 2>/dev/null &
  local lp=$!
  sleep 0.3
  local before; before=$(redis-cli -p "$port" info persistence | awk -F: '/^rdb_saves:/{print $2+0}' | tr -d '\r')
  [ -n "$before" ] || before=$(redis-cli -p "$port" info stats | awk -F: '/^rdb_saves:/{print $2+0}')
  local t0; t0=$(date +%s.%N)
  redis-cli -p "$port" bgsave >/dev/null
  local peak=$base
  while :; do
    local now; now=$(pss_kb "$pid"); [ "$now" -gt "$peak" ] && peak=$now
    local prog; prog=$(redis-cli -p "$port" info persistence | awk -F: '/^rdb_bgsave_in_progress:/{print $2+0}')
    [ "$prog" = "0" ] && break
    sleep 0.02
  done
  local t1; t1=$(date +%s.%N)
  wait $lp
  local during; during=$(tail -1 "$WORK/$name.during")
  local size; size=$(stat -c %s "$WORK/$name/dump"* 2>/dev/null | head -1)
  printf '%s: keys %s, idle Pss %d MiB, peak during BGSAVE %d MiB (+%d MiB), BGSAVE %.2f s, file %d MiB (%.0f MB/s)\n' \
    "$name" "$(redis-cli -p "$port" dbsize)" $((base/1024)) $((peak/1024)) $(((peak-base)/1024)) \
    "$(echo "$t1 - $t0" | bc)" $((size/1048576)) "$(echo "$size / 1000000 / ($t1 - $t0)" | bc -l)"
  echo "$name: SET load alone:       $alone"
  echo "$name: SET load with BGSAVE: $during"
}

mkdir -p "$WORK/strata" "$WORK/redis"
"$STRATA" --port 7301 --dir "$WORK/strata" --save "" >"$WORK/strata.log" 2>&1 &
SP=$!
redis-server --port 7302 --dir "$WORK/redis" --save "" --appendonly no --dbfilename dump.rdb >"$WORK/redis.log" 2>&1 &
RP=$!
sleep 0.5
echo "# redis-benchmark csv columns: test, rps, avg_ms, min_ms, p50_ms, p95_ms, p99_ms, max_ms"
run_one strata 7301 $SP
run_one redis 7302 $RP

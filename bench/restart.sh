#!/usr/bin/env bash
# bench/restart.sh -- restart time with HOT keys in DRAM and COLD keys on PMem, Strata beside Redis.
#
# Strata (a PMem pool in /dev/shm, no maxmemory): COLD keys of VALUE bytes written with
# tier-demote-on-write (every key demoted to PMem as it is written), then HOT more with it off (they
# stay in DRAM), SAVE, kill -9, then restarts, each timed from exec to the first PONG:
#   warm: pmem-on-start attach (the pool's records re-attached, not read);
#   cold: pmem-on-start clear (every cold record read from the snapshot and stored again);
#   warm again: after a cold reload the pool's records carry new generations the snapshot does not
#   name (no SAVE since), so nothing re-attaches and everything is stored again -- the safe answer.
# Redis: the same number of keys of VALUE bytes, SAVE, kill -9, restart timed the same way (PING
# answers -LOADING until the RDB is loaded).
# Keys are redis-benchmark's key:__rand_int__ over -r RANGE, so a few collide; the script prints the
# counts the servers report. Needs about 5 GB of /dev/shm and 3 GB of RAM at the defaults.
#   HOT=1000000 COLD=10000000 VALUE=100 bash bench/restart.sh
set -euo pipefail
HOT=${HOT:-1000000}
COLD=${COLD:-10000000}
VALUE=${VALUE:-100}
POOL_MB=${POOL_MB:-$(( (HOT + COLD) * 400 / 1048576 + 256 ))}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA:-$ROOT/build/strata-server}
WORK=$(mktemp -d /dev/shm/strata-bench-restart.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PMEM_IS_PMEM_FORCE=1 PMEMOBJ_CONF=sds.at_create=0
TOTAL=$((HOT + COLD))
RANGE=$((TOTAL * 40))

now() { date +%s.%N; }
# start_timed NAME PORT ARGS... : starts a server, waits for PONG, prints the seconds
start_timed() {
  local name=$1 port=$2; shift 2
  local t0; t0=$(now)
  "$@" >>"$WORK/$name.log" 2>&1 &
  local pid=$!
  echo $pid >"$WORK/$name.pid"
  until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ]; do
    kill -0 $pid 2>/dev/null || { echo "$name exited:" >&2; tail -5 "$WORK/$name.log" >&2; exit 1; }
    sleep 0.005
  done
  echo "$(now) - $t0" | bc
}
kill9() { # the process is gone (its pool lock released) when this returns
  local pid; pid=$(cat "$WORK/$1.pid")
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
}
fill() { # port n
  redis-benchmark -p "$1" -t set -r "$RANGE" -n "$2" -d "$VALUE" -P 64 -c 16 -q >/dev/null
}

mkdir -p "$WORK/strata" "$WORK/redis"
S=("$STRATA" --port 7311 --bind 127.0.0.1 --dir "$WORK/strata" --save "" --appendonly no
   --pmem-path "$WORK/strata/tier.pool" --pmem-size "${POOL_MB}mb" --tier-promote-window -1)
start_timed strata 7311 "${S[@]}" --tier-demote-on-write yes >/dev/null
t0=$(now)
fill 7311 "$COLD"
redis-cli -p 7311 config set tier-demote-on-write no >/dev/null
fill 7311 "$HOT"
echo "strata: filled in $(echo "$(now) - $t0" | bc) s: $(redis-cli -p 7311 dbsize) keys, $(redis-cli -p 7311 info tiers | tr -d '\r' | awk -F: '/^cold_keys:/{print $2}') cold"
redis-cli -p 7311 info memory | tr -d '\r' | grep -E '^used_memory:|^mem_cold_keys:'
t0=$(now); redis-cli -p 7311 save >/dev/null; echo "strata: SAVE $(echo "$(now) - $t0" | bc) s, snapshot $(stat -c %s "$WORK/strata/dump.sts") bytes"
kill9 strata
for mode in attach clear attach; do
  secs=$(start_timed strata 7311 "${S[@]}" --pmem-on-start "$mode")
  # a few keys read back (cold ones through their records): a restart must leave them readable
  for _ in 1 2 3 4 5 6 7 8; do redis-cli -p 7311 get "$(redis-cli -p 7311 randomkey)" >/dev/null; done
  info=$(redis-cli -p 7311 info persistence | tr -d '\r')
  echo "strata restart (pmem-on-start $mode): ${secs} s to PONG; recovery_ms $(awk -F: '/^recovery_ms:/{print $2}' <<<"$info"), attached $(awk -F: '/^recovery_pmem_attached:/{print $2}' <<<"$info"), keys $(redis-cli -p 7311 dbsize), cold_lost $(redis-cli -p 7311 info tiers | tr -d '\r' | awk -F: '/^cold_lost:/{print $2}')"
  grep -E 'loaded in|warm restart' "$WORK/strata.log" | tail -2 | sed 's/^[0-9]*:M [^*#]*[*#] /    /'
  kill9 strata
done

R=(redis-server --port 7312 --bind 127.0.0.1 --dir "$WORK/redis" --save "" --appendonly no
   --dbfilename dump.rdb)
start_timed redis 7312 "${R[@]}" >/dev/null
fill 7312 "$TOTAL"
echo "redis: $(redis-cli -p 7312 dbsize) keys"
t0=$(now); redis-cli -p 7312 save >/dev/null; echo "redis: SAVE $(echo "$(now) - $t0" | bc) s, RDB $(stat -c %s "$WORK/redis/dump.rdb") bytes"
kill9 redis
secs=$(start_timed redis 7312 "${R[@]}")
echo "redis restart: ${secs} s to PONG; $(grep -o 'DB loaded from disk: [0-9.]* seconds' "$WORK/redis.log" | tail -1)"
kill9 redis

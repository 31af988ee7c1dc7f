#!/usr/bin/env bash
#
# callgrind.sh -- user-space instructions per request (Ir/request) of
# strata-server and redis-server, counted by valgrind --tool=callgrind.
#
# Instruction counts do not depend on how busy the machine is, so this is the
# noise-free companion of side_by_side.sh's CPU-seconds figures. It counts
# user-space instructions only: time in the kernel (read/write/epoll) is not
# in it, and neither are cache misses (an instruction is an instruction).
#
# For each server in turn (never both at once):
#   1. start it under callgrind on a free loopback port, with collection on;
#   2. preload KEYSPACE keys "key:%012d" (DSIZE-byte values) with redis-cli --pipe,
#      so that every GET hits;
#   3. idle baseline: zero the counters (callgrind_control -z), sleep IDLE
#      seconds, dump (callgrind_control -d) -> Ir per idle second (timers);
#   4. for each workload: zero, run redis-benchmark -c 1 -P <pipe> -n N
#      -r KEYSPACE -d DSIZE -t <test>, dump; Ir/request = dump total / N.
#      The "net" figure also subtracts the idle rate times the run's wall time.
#   5. stop the server (SIGTERM).
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_ARGS []
#   REDIS_SERVER [redis-server]  N [20000]  KEYSPACE [100000]  DSIZE [100]
#   WORKLOADS ["set:16 get:16 set:1 get:1"]  IDLE [3]  RUN_TIMEOUT [600]
#
# Loopback only. Every server started here is killed on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
STRATA_SERVER=${STRATA_SERVER:-$REPO/build/strata-server}
STRATA_ARGS=${STRATA_ARGS:-}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
N=${N:-20000}
KEYSPACE=${KEYSPACE:-100000}
DSIZE=${DSIZE:-100}
WORKLOADS=${WORKLOADS:-"set:16 get:16 set:1 get:1"}
IDLE=${IDLE:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}

for tool in valgrind callgrind_control redis-benchmark redis-cli perl "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "callgrind: '$tool' not found" >&2
        exit 2
    fi
done
# callgrind_control and the server must agree on the binary's full path.
REDIS_SERVER=$(command -v "$REDIS_SERVER")
STRATA_SERVER=$(cd "$(dirname "$(command -v "$STRATA_SERVER")")" && pwd)/$(basename "$STRATA_SERVER")

WORK=$(mktemp -d /tmp/strata-cg.XXXXXX)
SPID=""

stop_server() {
    [ -n "$SPID" ] || return 0
    kill "$SPID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

gen_preload() {
    perl -e '
        my ($n, $d) = @ARGV;
        my $v = substr("0123456789abcdefghijklmnopqrstuvwxyz" x (int($d / 36) + 2), 0, $d);
        my $buf = "";
        for my $i (0 .. $n - 1) {
            $buf .= sprintf("*3\r\n\$3\r\nSET\r\n\$16\r\nkey:%012d\r\n\$%d\r\n%s\r\n", $i, $d, $v);
        }
        print $buf;' "$KEYSPACE" "$DSIZE"
}

# dump_total NAME : dump the counters and print the Ir of the new dump file.
dump_total() {
    local before after f
    before=$(ls "$WORK/$1".cg.* 2>/dev/null | wc -l)
    timeout 60 callgrind_control -d "$SPID" >/dev/null 2>&1
    for _ in $(seq 100); do
        after=$(ls "$WORK/$1".cg.* 2>/dev/null | wc -l)
        [ "$after" -gt "$before" ] && break
        sleep 0.1
    done
    f=$(ls -t "$WORK/$1".cg.* | head -1)
    sleep 0.2
    awk '/^summary:/ { print $2; exit }' "$f"
}

zero() { timeout 60 callgrind_control -z "$SPID" >/dev/null 2>&1; }

# measure NAME CMD... : CMD must listen on $PORT; appends result lines to $WORK/results.
measure() {
    local name=$1; shift
    local port=$PORT idle idle_rate wl test pipe t0 t1 ir
    mkdir -p "$WORK/$name.d"
    (cd "$WORK/$name.d" && exec valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.cg" \
        "$@" >"$WORK/$name.log" 2>&1) &
    SPID=$!
    for _ in $(seq 600); do
        [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.2
    done
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" != PONG ]; then
        echo "callgrind: $name did not start; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1
    fi
    gen_preload | timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe >/dev/null
    [ "$(redis-cli -h 127.0.0.1 -p "$port" dbsize)" = "$KEYSPACE" ] || {
        echo "callgrind: $name preload incomplete" >&2; exit 1; }

    zero
    t0=$(now); sleep "$IDLE"
    idle=$(dump_total "$name"); t1=$(now)
    idle_rate=$(awk -v i="$idle" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", i / (b - a) }')
    echo "$name idle $idle_rate" >>"$WORK/results"
    for wl in $WORKLOADS; do
        test=${wl%%:*}; pipe=${wl##*:}
        zero
        t0=$(now)
        timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P "$pipe" -n "$N" \
            -r "$KEYSPACE" -d "$DSIZE" -t "$test" -q >/dev/null 2>&1 || {
            echo "callgrind: redis-benchmark $test P$pipe failed against $name" >&2; exit 1; }
        t1=$(now)
        ir=$(dump_total "$name")
        echo "$name $test:$pipe $ir $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" >>"$WORK/results"
    done
    stop_server
}

echo "== callgrind: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(valgrind --version)"
echo "   redis-benchmark -c 1 -n $N -r $KEYSPACE -d $DSIZE, $KEYSPACE keys preloaded"
echo "   strata: $STRATA_SERVER $STRATA_ARGS"
echo "   redis:  $("$REDIS_SERVER" --version | head -1)"
: >"$WORK/results"
PORT=$(free_port)
# shellcheck disable=SC2086
measure strata "$STRATA_SERVER" --port "$PORT" --bind 127.0.0.1 $STRATA_ARGS
PORT=$(free_port)
measure redis "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no

echo
awk '$2 == "idle" { printf "idle: %s %s Ir/s (timers, counted over %s s)\n", $1, $3, '"$IDLE"' }' "$WORK/results"
echo
printf '%-8s %14s %14s %7s %14s %14s %7s\n' workload "strata Ir/req" "redis Ir/req" ratio \
    "strata net" "redis net" ratio
for wl in $WORKLOADS; do
    awk -v wl="$wl" -v n="$N" '
        $2 == "idle" { idle[$1] = $3 }
        $2 == wl { ir[$1] = $3; wall[$1] = $4 }
        END {
            split(wl, p, ":")
            s = ir["strata"] / n; r = ir["redis"] / n
            sn = (ir["strata"] - idle["strata"] * wall["strata"]) / n
            rn = (ir["redis"] - idle["redis"] * wall["redis"]) / n
            printf "%-8s %14.0f %14.0f %7.2f %14.0f %14.0f %7.2f\n", toupper(p[1]) " P" p[2],
                s, r, (r > 0 ? s / r : 0), sn, rn, (rn > 0 ? sn / rn : 0) }' "$WORK/results"
done
echo
echo "raw (server workload Ir wall_s | server idle Ir/s):"
cat "$WORK/results"

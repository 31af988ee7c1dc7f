#!/usr/bin/env bash
#
# callgrind_types.sh -- user-space instructions per request (Ir/request) of
# strata-server and redis-server for the data-type workloads of types.sh,
# counted by valgrind --tool=callgrind. Instruction counts do not depend on
# how busy the machine is: this is the noise-free companion of types.sh's
# requests/s and CPU-seconds figures. User space only (no kernel time, no
# cache misses).
#
# For each server in turn (never both at once):
#   1. start it under callgrind on a free loopback port;
#   2. load the same data as types.sh: "lrlist" (LR_FILL elements of DSIZE
#      bytes) and the leaderboard "lb:0" (LB_MEMBERS members "member:%012d",
#      seeded random integer scores), via redis-cli --pipe;
#   3. idle baseline: zero the counters (callgrind_control -z), sleep IDLE s,
#      dump (callgrind_control -d) -> Ir per idle second (timers);
#   4. for each workload in order: zero, one redis-benchmark run with ONE
#      client (-c 1), pipeline P, -n N (pops bounded by the size the preceding
#      push left, as in types.sh), dump; Ir/request = dump total / requests;
#      "net" also subtracts the idle rate times the run's wall time.
#      Commands as in types.sh: -t lpush ... zpopmin with -r KEYSPACE -d DSIZE;
#      lrange_100/600 = LRANGE lrlist 0 99/599; lb_zadd = ZADD lb:0
#      __rand_int__ member:__rand_int__, lb_top = ZREVRANGE lb:0 0 9 WITHSCORES,
#      lb_bottom = ZRANGE lb:0 0 9 WITHSCORES, lb_rank = ZRANK lb:0
#      member:__rand_int__ (with -r LB_MEMBERS).
#   5. stop the server (SIGTERM).
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_ARGS []
#   REDIS_SERVER [redis-server]  N [20000]  KEYSPACE [1000000]  DSIZE [3]
#   LR_FILL [1000]  LB_MEMBERS [100000]  IDLE [3]  RUN_TIMEOUT [600]
#   WORKLOADS [every types.sh test at pipeline 16]  (test:pipe ...)
#   CG_OUT  directory to keep the callgrind dump of each workload in
#           (<server>.<test>.<pipe>.cg, for callgrind_annotate) [not kept]
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
KEYSPACE=${KEYSPACE:-1000000}
DSIZE=${DSIZE:-3}
LR_FILL=${LR_FILL:-1000}
LB_MEMBERS=${LB_MEMBERS:-100000}
IDLE=${IDLE:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
TESTS="lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 lrange_600 lb_zadd lb_top lb_bottom lb_rank"
if [ -z "${WORKLOADS:-}" ]; then
    WORKLOADS=""
    for t in $TESTS; do WORKLOADS="$WORKLOADS $t:16"; done
fi
CG_OUT=${CG_OUT:-}

for tool in valgrind callgrind_control redis-benchmark redis-cli python3 "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "callgrind_types: '$tool' not found" >&2
        exit 2
    fi
done
# callgrind_control and the server must agree on the binary's full path.
REDIS_SERVER=$(command -v "$REDIS_SERVER")
STRATA_SERVER=$(cd "$(dirname "$(command -v "$STRATA_SERVER")")" && pwd)/$(basename "$STRATA_SERVER")
[ -z "$CG_OUT" ] || mkdir -p "$CG_OUT"

WORK=$(mktemp -d /tmp/strata-cgt.XXXXXX)
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

python3 - "$WORK/preload.resp" "$DSIZE" "$LR_FILL" "$LB_MEMBERS" <<'EOF'
import random, sys
path = sys.argv[1]
dsize, lr_fill, lb_members = map(int, sys.argv[2:5])
rnd = random.Random(4242)
def cmd(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)
with open(path, "wb") as f:
    f.write(cmd(["LPUSH", "lrlist"] + ["x" * dsize] * lr_fill))
    for base in range(0, lb_members, 1000):
        args = ["ZADD", "lb:0"]
        for i in range(base, min(base + 1000, lb_members)):
            args += [str(rnd.randrange(1000000000)), "member:%012d" % i]
        f.write(cmd(args))
EOF

bench_args() {
    case "$1" in
        lrange_100) echo "-r $KEYSPACE LRANGE lrlist 0 99" ;;
        lrange_600) echo "-r $KEYSPACE LRANGE lrlist 0 599" ;;
        lb_zadd) echo "-r $LB_MEMBERS ZADD lb:0 __rand_int__ member:__rand_int__" ;;
        lb_top) echo "-r $LB_MEMBERS ZREVRANGE lb:0 0 9 WITHSCORES" ;;
        lb_bottom) echo "-r $LB_MEMBERS ZRANGE lb:0 0 9 WITHSCORES" ;;
        lb_rank) echo "-r $LB_MEMBERS ZRANK lb:0 member:__rand_int__" ;;
        *) echo "-r $KEYSPACE -d $DSIZE -t $1" ;;
    esac
}

pop_bound() {
    case "$2" in
        lpop|rpop) cli "$1" llen mylist ;;
        spop) cli "$1" scard myset ;;
        zpopmin) cli "$1" zcard myzset ;;
        *) echo "" ;;
    esac
}

# dump_total NAME : dump the counters and print the Ir of the new dump file
# (kept as $CG_OUT/$2 when CG_OUT is set).
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
    if [ -n "$CG_OUT" ] && [ -n "${2:-}" ]; then cp "$f" "$CG_OUT/$2"; fi
    awk '/^summary:/ { print $2; exit }' "$f"
}

zero() { timeout 60 callgrind_control -z "$SPID" >/dev/null 2>&1; }

measure() {
    local name=$1; shift
    local port=$PORT idle idle_rate wl test pipe t0 t1 ir n bound
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
        echo "callgrind_types: $name did not start; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1
    fi
    if ! { timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe <"$WORK/preload.resp" \
               >"$WORK/pre.$name" 2>&1 && grep -q 'errors: 0,' "$WORK/pre.$name"; }; then
        echo "callgrind_types: $name preload failed" >&2; cat "$WORK/pre.$name" >&2; exit 1
    fi
    [ "$(cli "$port" zcard lb:0)" = "$LB_MEMBERS" ] || {
        echo "callgrind_types: $name preload incomplete" >&2; exit 1; }

    zero
    t0=$(now); sleep "$IDLE"
    idle=$(dump_total "$name"); t1=$(now)
    idle_rate=$(awk -v i="$idle" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", i / (b - a) }')
    echo "$name idle $idle_rate" >>"$WORK/results"
    for wl in $WORKLOADS; do
        test=${wl%%:*}; pipe=${wl##*:}
        n=$N
        bound=$(pop_bound "$port" "$test")
        if [ -n "$bound" ]; then
            if [ "$bound" -le 0 ]; then
                echo "callgrind_types: $test on $name: nothing to pop (put the push before it)" >&2; exit 1
            fi
            [ "$bound" -lt "$n" ] && n=$bound
        fi
        zero
        t0=$(now)
        # shellcheck disable=SC2046
        timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P "$pipe" -n "$n" -q \
            $(bench_args "$test") >"$WORK/bench.out" 2>&1 || {
            echo "callgrind_types: redis-benchmark $test P$pipe failed against $name:" >&2
            tr '\r' '\n' <"$WORK/bench.out" | tail -5 >&2
            echo "server log (tail):" >&2; tail -20 "$WORK/$name.log" >&2; exit 1; }
        t1=$(now)
        ir=$(dump_total "$name" "$name.$test.$pipe.cg")
        echo "$name $test:$pipe $ir $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $n" >>"$WORK/results"
    done
    stop_server
}

echo "== callgrind_types: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(valgrind --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   redis-benchmark -c 1 -n $N (pops bounded), -r $KEYSPACE -d $DSIZE; lrlist $LR_FILL, lb:0 $LB_MEMBERS members"
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
printf '%-14s %14s %14s %7s %14s %14s %7s\n' workload "strata Ir/req" "redis Ir/req" ratio \
    "strata net" "redis net" ratio
for wl in $WORKLOADS; do
    awk -v wl="$wl" '
        $2 == "idle" { idle[$1] = $3 }
        $2 == wl { ir[$1] = $3; wall[$1] = $4; n[$1] = $5 }
        END {
            split(wl, p, ":")
            s = ir["strata"] / n["strata"]; r = ir["redis"] / n["redis"]
            sn = (ir["strata"] - idle["strata"] * wall["strata"]) / n["strata"]
            rn = (ir["redis"] - idle["redis"] * wall["redis"]) / n["redis"]
            printf "%-14s %14.0f %14.0f %7.2f %14.0f %14.0f %7.2f\n", toupper(p[1]) " P" p[2],
                s, r, (r > 0 ? s / r : 0), sn, rn, (rn > 0 ? sn / rn : 0) }' "$WORK/results"
done
echo
echo "raw (server workload Ir wall_s requests | server idle Ir/s):"
cat "$WORK/results"

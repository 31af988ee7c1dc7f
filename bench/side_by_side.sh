#!/usr/bin/env bash
#
# side_by_side.sh -- throughput and CPU cost of strata-server against
# redis-server, measured with redis-benchmark on the same machine.
#
# What it does
#   1. Starts strata-server and redis-server on two free loopback ports
#      (Redis with persistence off), each in its own scratch directory.
#   2. Preloads both with the same 1,000,000 keys ("key:%012d", the names
#      redis-benchmark -r 1000000 generates) so that GET hits, via redis-cli --pipe.
#   3. For ROUNDS rounds, runs every workload against both servers, interleaved
#      (strata, redis in odd rounds; redis, strata in even rounds, so neither
#      always runs first): SET and GET, 50 clients, pipeline 1 and 16,
#      -r 1000000, -d 100, a fixed number of requests per run.
#   4. Per run it records requests/s (redis-benchmark --csv) and the CPU the
#      server process used during the run (utime+stime over all threads, from
#      /proc/PID/stat), reported as CPU seconds per million requests.
#   5. Prints medians and strata/redis ratios, then every raw sample.
#   6. Runs redis-benchmark -t set,get,incr,mset once against each server as a
#      "runs clean" check (redis-benchmark 7 exits non-zero on any error reply).
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER  strata-server binary        [<repo>/build/strata-server]
#   STRATA_ARGS    extra strata-server args    []
#   REDIS_SERVER   redis-server binary         [redis-server]
#   ROUNDS [5]  CLIENTS [50]  KEYSPACE [1000000]  DSIZE [100]
#   N_P1 [200000]  N_P16 [1000000]   requests per run at pipeline 1 / 16
#   WORKLOADS  ["set:1 get:1 set:16 get:16"]
#   PRELOAD [1]    0 skips the preload (GETs then mostly miss)
#   RUN_TIMEOUT [300]  seconds allowed for one redis-benchmark run
#   CHECK_N [100000]   requests per test in the incr/mset check (0 skips it)
#   IDLE_S [10]    seconds of idle CPU measurement after the preload (0 skips)
#   OUT            directory to keep raw samples (samples.txt) in [not kept]
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
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000}
DSIZE=${DSIZE:-100}
N_P1=${N_P1:-200000}
N_P16=${N_P16:-1000000}
WORKLOADS=${WORKLOADS:-"set:1 get:1 set:16 get:16"}
PRELOAD=${PRELOAD:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
CHECK_N=${CHECK_N:-100000}
IDLE_S=${IDLE_S:-10}
CLK_TCK=$(getconf CLK_TCK)

for tool in redis-benchmark redis-cli "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "side_by_side: '$tool' not found (build strata first: make build;" \
             "redis tools: apt-get install redis-server redis-tools)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d /tmp/strata-bench.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
SPIDS=()

cleanup() {
    local pid
    for pid in "${SPIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${SPIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME PORT CMD... : start in a scratch dir, wait for PING (30 s).
# Sets the global LAST_PID.
start_server() {
    local name=$1 port=$2; shift 2
    mkdir -p "$WORK/$name.d"
    (cd "$WORK/$name.d" && exec "$@" >"$WORK/$name.log" 2>&1) &
    LAST_PID=$!
    SPIDS+=("$LAST_PID")
    for _ in $(seq 300); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        if ! kill -0 "$LAST_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "side_by_side: $name did not start on port $port; its log:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

# CPU ticks (utime+stime, all threads) of a process: fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name.
cpu_ticks() {
    local s
    s=$(cat "/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $(( ${12} + ${13} ))
}

# A RESP stream of KEYSPACE SETs for the names redis-benchmark -r uses.
gen_preload() {
    perl -e '
        my ($n, $d) = @ARGV;
        my $v = substr("0123456789abcdefghijklmnopqrstuvwxyz" x (int($d / 36) + 2), 0, $d);
        my $hdr = "*3\r\n\$3\r\nSET\r\n\$16\r\n";
        my $vl = "\$" . length($v) . "\r\n$v\r\n";
        my $buf = "";
        for my $i (0 .. $n - 1) {
            $buf .= $hdr . sprintf("key:%012d\r\n", $i) . $vl;
            if (length($buf) > 1 << 20) { print $buf; $buf = ""; }
        }
        print $buf;' "$KEYSPACE" "$DSIZE"
}

preload() {
    local port=$1 name=$2 n
    gen_preload | timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe >"$WORK/preload.$name" 2>&1 || {
        echo "side_by_side: preload of $name failed:" >&2; cat "$WORK/preload.$name" >&2; exit 1; }
    n=$(redis-cli -h 127.0.0.1 -p "$port" dbsize)
    if [ "$n" != "$KEYSPACE" ]; then
        echo "side_by_side: $name holds $n keys after preload, expected $KEYSPACE" >&2
        exit 1
    fi
}

# run_one SERVER PORT PID TEST PIPE ROUND : one redis-benchmark run; appends
# "server test pipe round rps cpu_s_per_Mreq user_s_per_Mreq sys_s_per_Mreq"
# to $OUT/samples.txt.
run_one() {
    local srv=$1 port=$2 pid=$3 test=$4 pipe=$5 round=$6 n t0 t1 out rps cpu
    if [ "$pipe" = 1 ]; then n=$N_P1; else n=$N_P16; fi
    t0=$(cpu_ticks_us "$pid")
    out=$(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -P "$pipe" \
          -r "$KEYSPACE" -d "$DSIZE" -n "$n" -t "$test" --csv 2>"$WORK/bench.err") || {
        echo "side_by_side: redis-benchmark -t $test -P $pipe failed against $srv:" >&2
        cat "$WORK/bench.err" >&2; echo "$out" >&2; exit 1; }
    t1=$(cpu_ticks_us "$pid")
    # --csv: a header line, then "TEST","rps","avg_latency_ms",...
    rps=$(echo "$out" | awk -F'"' 'NR == 2 { print $4 }')
    if [ -z "$rps" ]; then
        echo "side_by_side: no figure from redis-benchmark for $srv $test:" >&2
        echo "$out" >&2; exit 1
    fi
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN {
        split(a, x, " "); split(b, y, " "); u = (y[1] - x[1]) / hz; k = (y[2] - x[2]) / hz; m = n / 1e6
        printf "%.3f %.3f %.3f", (u + k) / m, u / m, k / m }')
    echo "$srv $test $pipe $round $rps $cpu" >>"$OUT/samples.txt"
    cpu=${cpu%% *}
    printf '  round %d  %-6s %-3s P%-2s %12.0f rps  %7.3f CPU s/Mreq\n' "$round" "$srv" "$test" "$pipe" "$rps" "$cpu"
}

P_STRATA=$(free_port)
P_REDIS=$(free_port)
while [ "$P_REDIS" = "$P_STRATA" ]; do P_REDIS=$(free_port); done

# shellcheck disable=SC2086
start_server strata "$P_STRATA" "$STRATA_SERVER" --port "$P_STRATA" --bind 127.0.0.1 $STRATA_ARGS
PID_STRATA=$LAST_PID
start_server redis "$P_REDIS" "$REDIS_SERVER" --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no
PID_REDIS=$LAST_PID

echo "== side_by_side: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "   strata: $STRATA_SERVER $STRATA_ARGS (pid $PID_STRATA, port $P_STRATA)"
echo "   redis:  $("$REDIS_SERVER" --version | head -1) (pid $PID_REDIS, port $P_REDIS)"
echo "   nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); kernel $(uname -r)"
echo "   rounds $ROUNDS, clients $CLIENTS, -r $KEYSPACE, -d $DSIZE, -n $N_P1 (P1) / $N_P16 (P16)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

: >"$OUT/samples.txt"
if [ "$PRELOAD" = 1 ]; then
    echo "== preloading $KEYSPACE keys of $DSIZE bytes into each server"
    preload "$P_STRATA" strata
    preload "$P_REDIS" redis
fi

if [ "$IDLE_S" -gt 0 ]; then
    a=$(cpu_ticks "$PID_STRATA"); b=$(cpu_ticks "$PID_REDIS")
    sleep "$IDLE_S"
    a=$(( $(cpu_ticks "$PID_STRATA") - a )); b=$(( $(cpu_ticks "$PID_REDIS") - b ))
    awk -v a="$a" -v b="$b" -v hz="$CLK_TCK" -v t="$IDLE_S" 'BEGIN {
        printf "== idle CPU over %d s (keys loaded, no clients): strata %.2f%%, redis %.2f%% of one core\n",
            t, 100 * a / hz / t, 100 * b / hz / t }'
fi

echo "== runs (interleaved)"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="strata redis"; else order="redis strata"; fi
    for wl in $WORKLOADS; do
        test=${wl%%:*}; pipe=${wl##*:}
        for srv in $order; do
            if [ "$srv" = strata ]; then
                run_one strata "$P_STRATA" "$PID_STRATA" "$test" "$pipe" "$round"
            else
                run_one redis "$P_REDIS" "$PID_REDIS" "$test" "$pipe" "$round"
            fi
        done
    done
done

echo
echo "== medians over $ROUNDS rounds (ratio = strata / redis; rps: higher is better, CPU: lower is better)"
echo "   (pairwise = median over rounds of that round's strata/redis rps ratio)"
printf '%-10s %13s %13s %7s %9s %13s %13s %7s\n' workload "strata rps" "redis rps" ratio pairwise \
    "strata CPU" "redis CPU" ratio
printf '%-10s %13s %13s %7s %9s %13s %13s %7s\n' "" "" "" "" "" "s/Mreq" "s/Mreq" ""
for wl in $WORKLOADS; do
    test=${wl%%:*}; pipe=${wl##*:}
    sr=$(awk -v t="$test" -v p="$pipe" '$1 == "strata" && $2 == t && $3 == p { print $5 }' "$OUT/samples.txt" | median)
    rr=$(awk -v t="$test" -v p="$pipe" '$1 == "redis" && $2 == t && $3 == p { print $5 }' "$OUT/samples.txt" | median)
    sc=$(awk -v t="$test" -v p="$pipe" '$1 == "strata" && $2 == t && $3 == p { print $6 }' "$OUT/samples.txt" | median)
    rc=$(awk -v t="$test" -v p="$pipe" '$1 == "redis" && $2 == t && $3 == p { print $6 }' "$OUT/samples.txt" | median)
    pr=$(awk -v t="$test" -v p="$pipe" '$2 == t && $3 == p { v[$1, $4] = $5; r[$4] = 1 }
        END { for (k in r) if (v["redis", k] > 0) print v["strata", k] / v["redis", k] }' \
        "$OUT/samples.txt" | median)
    awk -v w="$(echo "$test" | tr a-z A-Z) P$pipe" -v sr="$sr" -v rr="$rr" -v sc="$sc" -v rc="$rc" \
        -v pr="$pr" 'BEGIN {
        printf "%-10s %13.0f %13.0f %7.2f %9.2f %13.3f %13.3f %7.2f\n", w, sr, rr,
            (rr > 0 ? sr / rr : 0), pr, sc, rc, (rc > 0 ? sc / rc : 0) }'
done

echo
echo "== CPU split, medians (s/Mreq): user-space and kernel (stime) time of each server"
printf '%-10s %13s %13s %13s %13s\n' workload "strata user" "strata sys" "redis user" "redis sys"
for wl in $WORKLOADS; do
    test=${wl%%:*}; pipe=${wl##*:}
    row=""
    for srv in strata redis; do
        for col in 7 8; do
            row="$row $(awk -v s="$srv" -v t="$test" -v p="$pipe" -v c="$col" \
                '$1 == s && $2 == t && $3 == p { print $c }' "$OUT/samples.txt" | median)"
        done
    done
    # shellcheck disable=SC2086
    printf '%-10s %13.3f %13.3f %13.3f %13.3f\n' "$(echo "$test" | tr a-z A-Z) P$pipe" $row
done

echo
echo "== raw samples (server test pipeline round rps cpu_s/Mreq user_s/Mreq sys_s/Mreq)"
cat "$OUT/samples.txt"

if [ "$CHECK_N" -gt 0 ]; then
    echo
    echo "== runs-clean check: redis-benchmark -t set,get,incr,mset -n $CHECK_N -r $KEYSPACE -d $DSIZE -q"
    status=0
    for srv in strata redis; do
        if [ "$srv" = strata ]; then port=$P_STRATA; else port=$P_REDIS; fi
        if out=$(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" \
                 -n "$CHECK_N" -r "$KEYSPACE" -d "$DSIZE" -t set,get,incr,mset -q 2>&1); then
            echo "$out" | tr '\r' '\n' | grep -E 'requests per second' | sed "s/^/  $srv: /"
            echo "  $srv: clean"
        else
            echo "$out" | tr '\r' '\n' | tail -5 | sed "s/^/  $srv: /"
            echo "  $srv: FAILED (exit status non-zero)"
            status=1
        fi
    done
    echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit $status
fi
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

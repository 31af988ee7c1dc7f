#!/usr/bin/env bash
#
# types.sh -- throughput and CPU cost of strata-server against redis-server
# for the data-type commands, measured with redis-benchmark on the same
# machine (the data-types companion of side_by_side.sh).
#
# What it does
#   1. Starts strata-server and redis-server on two free loopback ports
#      (Redis with persistence off), each in its own scratch directory.
#   2. Loads both with the same data, generated once (python3) and sent with
#      redis-cli --pipe:
#        - "lrlist": LR_FILL elements of DSIZE bytes (what redis-benchmark's
#          "LPUSH (needed to benchmark LRANGE)" step builds), for the LRANGE tests;
#        - the leaderboard: LB_KEYS sorted sets "lb:0".."lb:<LB_KEYS-1>" of
#          LB_MEMBERS members "member:%012d" (the names redis-benchmark's
#          member:__rand_int__ produces with -r LB_MEMBERS) with seeded random
#          integer scores.
#   3. For ROUNDS rounds, runs every workload against both servers, interleaved
#      (strata, redis in odd rounds; redis, strata in even rounds). Each run is
#      one redis-benchmark process, CLIENTS clients, pipeline 1 or 16, bounded -n:
#        lpush rpush lpop rpop sadd hset spop zadd zpopmin
#                  redis-benchmark -t <test> -r KEYSPACE -d DSIZE  (the commands
#                  redis-benchmark -t sends: LPUSH mylist <data>, SADD myset
#                  element:__rand_int__, HSET myhash element:__rand_int__ <data>,
#                  ZADD myzset __rand_int__ element:__rand_int__, SPOP myset,
#                  ZPOPMIN myzset, ...). The pops are bounded by the size the
#                  preceding pushes left (LLEN/SCARD/ZCARD read just before the
#                  run), so every pop finds an element; a push/pop pair of a
#                  round leaves the key empty again.
#        lrange_100 lrange_600
#                  redis-benchmark LRANGE lrlist 0 99 (0 599): the command of
#                  -t lrange_100 (lrange_600) on a list already filled, so the
#                  run (and its CPU figure) holds nothing but LRANGEs. The
#                  runs-clean check at the end also runs the standard
#                  -t lrange_100,lrange_600 (which LPUSHes -n elements first).
#                  -n is N / LRANGE100_DIV (N / LRANGE600_DIV).
#        lb_zadd   ZADD lb:K __rand_int__ member:__rand_int__   (score update)
#        lb_top    ZREVRANGE lb:K 0 9 WITHSCORES                (top 10)
#        lb_bottom ZRANGE lb:K 0 9 WITHSCORES
#        lb_rank   ZRANK lb:K member:__rand_int__
#                  the leaderboard load: LB_KEYS redis-benchmark processes at
#                  once, one per board K, CLIENTS/LB_KEYS clients each,
#                  -r LB_MEMBERS, N/LB_KEYS requests each; requests/s = all
#                  requests / wall time of the batch.
#   4. Per run it records requests/s (redis-benchmark --csv) and the CPU the
#      server process used during the run (utime+stime over all threads, from
#      /proc/PID/stat), as CPU seconds per million requests.
#   5. Prints medians and strata/redis ratios (and the median of the per-round
#      ratios, "pairwise"), the user/kernel split, OBJECT ENCODING of the keys
#      on each server, then every raw sample.
#   6. Runs redis-benchmark -t lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,
#      lrange_100,lrange_600 -q once against each server as a "runs clean"
#      check (redis-benchmark 7 exits non-zero on an error reply).
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER  strata-server binary        [<repo>/build/strata-server]
#   STRATA_ARGS    extra strata-server args    []
#   REDIS_SERVER   redis-server binary         [redis-server]
#   ROUNDS [5]  CLIENTS [50]  KEYSPACE [1000000]  DSIZE [3] (redis-benchmark's default)
#   N_P1 [100000]  N_P16 [500000]   requests per run at pipeline 1 / 16
#   LRANGE100_DIV [2]  LRANGE600_DIV [10]  LR_FILL [1000]
#   LB_KEYS [4]  LB_MEMBERS [100000]
#   WORKLOADS  [every test above at pipeline 1, then every test at pipeline 16]
#   RUN_TIMEOUT [300]  seconds allowed for one redis-benchmark run
#   CHECK_N [20000]    requests per test in the runs-clean check (0 skips it)
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
DSIZE=${DSIZE:-3}
N_P1=${N_P1:-100000}
N_P16=${N_P16:-500000}
LRANGE100_DIV=${LRANGE100_DIV:-2}
LRANGE600_DIV=${LRANGE600_DIV:-10}
LR_FILL=${LR_FILL:-1000}
LB_KEYS=${LB_KEYS:-4}
LB_MEMBERS=${LB_MEMBERS:-100000}
TESTS="lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 lrange_600 lb_zadd lb_top lb_bottom lb_rank"
if [ -z "${WORKLOADS:-}" ]; then
    WORKLOADS=""
    for p in 1 16; do for t in $TESTS; do WORKLOADS="$WORKLOADS $t:$p"; done; done
fi
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
CHECK_N=${CHECK_N:-20000}
CLK_TCK=$(getconf CLK_TCK)

for tool in redis-benchmark redis-cli python3 "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "types: '$tool' not found (build strata first: make build;" \
             "redis tools: apt-get install redis-server redis-tools)" >&2
        exit 2
    fi
done
if [ "$LR_FILL" -lt 600 ]; then echo "types: LR_FILL must be >= 600" >&2; exit 2; fi

WORK=$(mktemp -d /tmp/strata-types.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
SPIDS=()
BPIDS=()

cleanup() {
    local pid
    for pid in "${BPIDS[@]}" "${SPIDS[@]}"; do
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
    echo "types: $name did not start on port $port; its log:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

# The preload (identical for both servers): lrlist, then the leaderboards.
python3 - "$WORK/preload.resp" "$DSIZE" "$LR_FILL" "$LB_KEYS" "$LB_MEMBERS" <<'EOF'
import random, sys
path = sys.argv[1]
dsize, lr_fill, lb_keys, lb_members = map(int, sys.argv[2:6])
rnd = random.Random(4242)
def cmd(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)
with open(path, "wb") as f:
    f.write(cmd(["LPUSH", "lrlist"] + ["x" * dsize] * lr_fill))
    for k in range(lb_keys):
        for base in range(0, lb_members, 1000):
            args = ["ZADD", "lb:%d" % k]
            for i in range(base, min(base + 1000, lb_members)):
                args += [str(rnd.randrange(1000000000)), "member:%012d" % i]
            f.write(cmd(args))
EOF

preload() {
    local port=$1 name=$2 k
    if ! { timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe <"$WORK/preload.resp" \
               >"$WORK/preload.$name" 2>&1 && grep -q 'errors: 0,' "$WORK/preload.$name"; }; then
        echo "types: preload of $name failed:" >&2; cat "$WORK/preload.$name" >&2; exit 1
    fi
    if [ "$(cli "$port" llen lrlist)" != "$LR_FILL" ]; then
        echo "types: $name: lrlist is not $LR_FILL long after the preload" >&2; exit 1
    fi
    for k in $(seq 0 $((LB_KEYS - 1))); do
        if [ "$(cli "$port" zcard "lb:$k")" != "$LB_MEMBERS" ]; then
            echo "types: $name: lb:$k does not hold $LB_MEMBERS members after the preload" >&2; exit 1
        fi
    done
}

# bench_args TEST [K] : the redis-benchmark arguments after the common ones,
# for one process of the test (K = board index for lb_* tests).
bench_args() {
    local test=$1 k=${2:-0}
    case "$test" in
        lrange_100) echo "LRANGE lrlist 0 99" ;;
        lrange_600) echo "LRANGE lrlist 0 599" ;;
        lb_zadd) echo "ZADD lb:$k __rand_int__ member:__rand_int__" ;;
        lb_top) echo "ZREVRANGE lb:$k 0 9 WITHSCORES" ;;
        lb_bottom) echo "ZRANGE lb:$k 0 9 WITHSCORES" ;;
        lb_rank) echo "ZRANK lb:$k member:__rand_int__" ;;
        *) echo "-t $test" ;;
    esac
}

# pop_bound PORT TEST : the number of elements a pop test can take (or "" for
# tests that are not pops).
pop_bound() {
    case "$2" in
        lpop|rpop) cli "$1" llen mylist ;;
        spop) cli "$1" scard myset ;;
        zpopmin) cli "$1" zcard myzset ;;
        *) echo "" ;;
    esac
}

# run_one SERVER PORT PID TEST PIPE ROUND : one run; appends
# "server test pipe round rps cpu_s_per_Mreq user_s_per_Mreq sys_s_per_Mreq n"
# to $OUT/samples.txt.
run_one() {
    local srv=$1 port=$2 pid=$3 test=$4 pipe=$5 round=$6 n bound t0 t1 w0 w1 out rps cpu k per c i rc
    if [ "$pipe" = 1 ]; then n=$N_P1; else n=$N_P16; fi
    case "$test" in
        lrange_100) n=$((n / LRANGE100_DIV)) ;;
        lrange_600) n=$((n / LRANGE600_DIV)) ;;
    esac
    bound=$(pop_bound "$port" "$test")
    if [ -n "$bound" ]; then
        if [ "$bound" -le 0 ]; then
            echo "types: $test on $srv: nothing to pop (run the matching push before it in WORKLOADS)" >&2
            exit 1
        fi
        [ "$bound" -lt "$n" ] && n=$bound
    fi
    case "$test" in
    lb_*)
        per=$((n / LB_KEYS)); n=$((per * LB_KEYS)); c=$(( (CLIENTS + LB_KEYS - 1) / LB_KEYS ))
        BPIDS=()
        t0=$(cpu_ticks_us "$pid"); w0=$(now)
        for k in $(seq 0 $((LB_KEYS - 1))); do
            # shellcheck disable=SC2046
            timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$c" -P "$pipe" \
                -r "$LB_MEMBERS" -n "$per" --csv $(bench_args "$test" "$k") \
                >"$WORK/lb.$k.out" 2>"$WORK/lb.$k.err" &
            BPIDS+=($!)
        done
        rc=0
        for i in "${BPIDS[@]}"; do wait "$i" || rc=1; done
        w1=$(now); t1=$(cpu_ticks_us "$pid")
        BPIDS=()
        if [ "$rc" != 0 ]; then
            echo "types: redis-benchmark $test -P $pipe failed against $srv:" >&2
            cat "$WORK"/lb.*.err "$WORK"/lb.*.out >&2; exit 1
        fi
        for k in $(seq 0 $((LB_KEYS - 1))); do
            if [ -z "$(awk -F'"' 'NR == 2 { print $4 }' "$WORK/lb.$k.out")" ]; then
                echo "types: no figure from redis-benchmark for $srv $test:" >&2
                cat "$WORK/lb.$k.out" "$WORK/lb.$k.err" >&2; exit 1
            fi
        done
        rps=$(awk -v n="$n" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", n / (b - a) }')
        ;;
    *)
        t0=$(cpu_ticks_us "$pid")
        # shellcheck disable=SC2046
        out=$(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -P "$pipe" \
              -r "$KEYSPACE" -d "$DSIZE" -n "$n" --csv $(bench_args "$test") 2>"$WORK/bench.err") || {
            echo "types: redis-benchmark $test -P $pipe failed against $srv:" >&2
            cat "$WORK/bench.err" >&2; echo "$out" >&2; exit 1; }
        t1=$(cpu_ticks_us "$pid")
        # --csv: a header line, then "TEST","rps","avg_latency_ms",...
        rps=$(echo "$out" | awk -F'"' 'NR == 2 { print $4 }')
        if [ -z "$rps" ]; then
            echo "types: no figure from redis-benchmark for $srv $test:" >&2
            echo "$out" >&2; exit 1
        fi
        ;;
    esac
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN {
        split(a, x, " "); split(b, y, " "); u = (y[1] - x[1]) / hz; k = (y[2] - x[2]) / hz; m = n / 1e6
        printf "%.3f %.3f %.3f", (u + k) / m, u / m, k / m }')
    echo "$srv $test $pipe $round $rps $cpu $n" >>"$OUT/samples.txt"
    cpu=${cpu%% *}
    printf '  round %d  %-6s %-10s P%-2s n=%-7d %12.0f rps  %7.3f CPU s/Mreq\n' "$round" "$srv" "$test" \
        "$pipe" "$n" "$rps" "$cpu"
}

P_STRATA=$(free_port)
P_REDIS=$(free_port)
while [ "$P_REDIS" = "$P_STRATA" ]; do P_REDIS=$(free_port); done

# shellcheck disable=SC2086
start_server strata "$P_STRATA" "$STRATA_SERVER" --port "$P_STRATA" --bind 127.0.0.1 $STRATA_ARGS
PID_STRATA=$LAST_PID
start_server redis "$P_REDIS" "$REDIS_SERVER" --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no
PID_REDIS=$LAST_PID

echo "== types: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "   strata: $STRATA_SERVER $STRATA_ARGS (pid $PID_STRATA, port $P_STRATA)"
echo "   redis:  $("$REDIS_SERVER" --version | head -1) (pid $PID_REDIS, port $P_REDIS)"
echo "   nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); kernel $(uname -r)"
echo "   rounds $ROUNDS, clients $CLIENTS, -r $KEYSPACE, -d $DSIZE, -n $N_P1 (P1) / $N_P16 (P16);" \
     "lrange -n /$LRANGE100_DIV, /$LRANGE600_DIV on a $LR_FILL-element list;" \
     "leaderboard $LB_KEYS x $LB_MEMBERS members"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

: >"$OUT/samples.txt"
echo "== preloading lrlist ($LR_FILL elements) and $LB_KEYS leaderboards of $LB_MEMBERS members into each server"
preload "$P_STRATA" strata
preload "$P_REDIS" redis

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
    echo "   load average after round $round: $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "== medians over $ROUNDS rounds (ratio = strata / redis; rps: higher is better, CPU: lower is better)"
echo "   (pairwise = median over rounds of that round's strata/redis rps ratio)"
printf '%-14s %13s %13s %7s %9s %11s %11s %7s\n' workload "strata rps" "redis rps" ratio pairwise \
    "strata CPU" "redis CPU" ratio
printf '%-14s %13s %13s %7s %9s %11s %11s %7s\n' "" "" "" "" "" "s/Mreq" "s/Mreq" ""
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
        printf "%-14s %13.0f %13.0f %7.2f %9.2f %11.3f %11.3f %7.2f\n", w, sr, rr,
            (rr > 0 ? sr / rr : 0), pr, sc, rc, (rc > 0 ? sc / rc : 0) }'
done

echo
echo "== CPU split, medians (s/Mreq): user-space and kernel (stime) time of each server"
printf '%-14s %11s %11s %11s %11s\n' workload "strata user" "strata sys" "redis user" "redis sys"
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
    printf '%-14s %11.3f %11.3f %11.3f %11.3f\n' "$(echo "$test" | tr a-z A-Z) P$pipe" $row
done

echo
echo "== keys after the runs: TYPE / OBJECT ENCODING / size on each server"
for key in lrlist mylist myset myhash myzset lb:0; do
    for srv in strata redis; do
        if [ "$srv" = strata ]; then port=$P_STRATA; else port=$P_REDIS; fi
        ty=$(cli "$port" type "$key")
        case "$ty" in
            list) sz=$(cli "$port" llen "$key") ;;
            set) sz=$(cli "$port" scard "$key") ;;
            hash) sz=$(cli "$port" hlen "$key") ;;
            zset) sz=$(cli "$port" zcard "$key") ;;
            *) sz=0 ;;
        esac
        if [ "$ty" = none ]; then enc="-"; else enc=$(cli "$port" object encoding "$key"); fi
        printf '  %-7s %-6s %-5s %-10s %s\n' "$key" "$srv" "$ty" "$enc" "$sz"
    done
done

echo
echo "== raw samples (server test pipeline round rps cpu_s/Mreq user_s/Mreq sys_s/Mreq requests)"
cat "$OUT/samples.txt"

status=0
if [ "$CHECK_N" -gt 0 ]; then
    echo
    echo "== runs-clean check: redis-benchmark -t lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600" \
         "-n $CHECK_N -r $KEYSPACE -d $DSIZE -c $CLIENTS -q (single runs, not interleaved: figures indicative only)"
    for srv in strata redis; do
        if [ "$srv" = strata ]; then port=$P_STRATA; else port=$P_REDIS; fi
        if out=$(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" \
                 -n "$CHECK_N" -r "$KEYSPACE" -d "$DSIZE" \
                 -t lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600 -q 2>&1); then
            echo "$out" | tr '\r' '\n' | grep -E 'requests per second' | sed "s/^ */  $srv: /"
            echo "  $srv: clean"
        else
            echo "$out" | tr '\r' '\n' | tail -5 | sed "s/^/  $srv: /"
            echo "  $srv: FAILED (exit status non-zero)"
            status=1
        fi
    done
fi
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status

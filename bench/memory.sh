#!/usr/bin/env bash
#
# memory.sh -- bytes per key of strata-server against redis-server for the
# same data set: NKEYS string keys "key:%07d" with DSIZE-byte values.
#
# Each server is started fresh, alone (the other is not running), on a free
# loopback port. Before and after loading, it reads
#   - RSS: VmRSS from /proc/PID/status, and
#   - used_memory from INFO memory (the allocator's view; "n/a" if the server
#     does not report it),
# and reports (after - before) / NKEYS for both, and the strata/redis ratios.
# The load is one identical RESP stream of SET commands sent with
# redis-cli --pipe (generated once, kept in a scratch file); values differ
# from key to key (windows of a pseudo-random text), so nothing can share or
# compress them trivially. DBSIZE is checked to be exactly NKEYS.
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_ARGS []
#   REDIS_SERVER [redis-server]  NKEYS [1000000]  DSIZE [100]
#   LOAD_TIMEOUT [300] seconds for one load   SETTLE [2] seconds before a reading
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
NKEYS=${NKEYS:-1000000}
DSIZE=${DSIZE:-100}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
SETTLE=${SETTLE:-2}

for tool in redis-cli perl "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "memory: '$tool' not found (build strata first: make build)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d /tmp/strata-mem.XXXXXX)
SPID=""

stop_server() {
    [ -n "$SPID" ] || return 0
    kill "$SPID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load: NKEYS SETs, each value a DSIZE-byte window of a fixed
# pseudo-random text (seeded, so both servers get the same bytes).
perl -e '
    my ($n, $d) = @ARGV;
    srand(12345);
    my @c = ("a".."z", "A".."Z", "0".."9");
    my $text = join "", map { $c[int rand 62] } 1 .. 65536 + $d;
    my $buf = "";
    for my $i (0 .. $n - 1) {
        my $k = sprintf("key:%07d", $i);
        my $v = substr($text, ($i * 7919) % 65536, $d);
        $buf .= "*3\r\n\$3\r\nSET\r\n\$" . length($k) . "\r\n$k\r\n\$$d\r\n$v\r\n";
        if (length($buf) > 1 << 20) { print $buf; $buf = ""; }
    }
    print $buf;' "$NKEYS" "$DSIZE" >"$WORK/load.resp"

# measure NAME CMD... : CMD must listen on $PORT.
# Runs in this shell (not a subshell) so the EXIT trap sees the server's pid;
# sets RESULT to "NAME rss_before rss_after um_before um_after".
measure() {
    local name=$1; shift
    local port=$PORT rb ra ub ua n
    mkdir -p "$WORK/$name.d"
    (cd "$WORK/$name.d" && exec "$@" >"$WORK/$name.log" 2>&1) &
    SPID=$!
    for _ in $(seq 300); do
        [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" != PONG ]; then
        echo "memory: $name did not start; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1
    fi
    sleep "$SETTLE"
    rb=$(rss_bytes "$SPID"); ub=$(used_memory "$port")
    if ! timeout "$LOAD_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe <"$WORK/load.resp" >"$WORK/$name.pipe" 2>&1; then
        echo "memory: loading $name failed:" >&2; cat "$WORK/$name.pipe" >&2; exit 1
    fi
    n=$(redis-cli -h 127.0.0.1 -p "$port" dbsize)
    if [ "$n" != "$NKEYS" ]; then
        echo "memory: $name holds $n keys, expected $NKEYS" >&2; exit 1
    fi
    sleep "$SETTLE"
    ra=$(rss_bytes "$SPID"); ua=$(used_memory "$port")
    stop_server
    RESULT="$name $rb $ra $ub $ua"
}

echo "== memory: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $NKEYS keys 'key:%07d', $DSIZE-byte values, loaded with redis-cli --pipe"
echo "   strata: $STRATA_SERVER $STRATA_ARGS"
echo "   redis:  $("$REDIS_SERVER" --version | head -1)"

PORT=$(free_port)
# shellcheck disable=SC2086
measure strata "$STRATA_SERVER" --port "$PORT" --bind 127.0.0.1 $STRATA_ARGS
S=$RESULT
PORT=$(free_port)
measure redis "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
R=$RESULT

echo
printf '%-7s %14s %14s %10s %16s %16s %10s\n' server "RSS before" "RSS after" "RSS B/key" \
    "used_mem before" "used_mem after" "um B/key"
for line in "$S" "$R"; do
    echo "$line" | awk -v n="$NKEYS" '{
        um = ($4 == "n/a" || $5 == "n/a") ? "n/a" : sprintf("%.1f", ($5 - $4) / n)
        printf "%-7s %14d %14d %10.1f %16s %16s %10s\n", $1, $2, $3, ($3 - $2) / n, $4, $5, um }'
done
echo "$S $R" | awk -v n="$NKEYS" '{
    srss = ($3 - $2) / n; rrss = ($8 - $7) / n
    printf "ratio strata/redis: RSS %.2f", srss / rrss
    if ($4 != "n/a" && $5 != "n/a" && $9 != "n/a" && $10 != "n/a")
        printf ", used_memory %.2f", (($5 - $4) / n) / (($10 - $9) / n)
    else
        printf ", used_memory n/a (a server did not report INFO memory used_memory)"
    printf "\n" }'

#!/usr/bin/env bash
#
# memory_types.sh -- memory per collection of strata-server against
# redis-server for the same data, for the two data sets the data-types issue
# sets a target on (Strata <= Redis 7 for both):
#
#   hash  NOBJ hashes "user:%07d", each written by one
#           HSET user:N f0 <v> f1 <v> ... f9 <v>
#         10 short fields, 8-byte values (seeded random alphanumerics, so no two
#         values are the same and none looks like an integer).
#   zset  NOBJ sorted sets "zs:%07d", each written by one
#           ZADD zs:N <score> <member> ... (ZMEMBERS pairs, default 100)
#         member names are 10 seeded random alphanumerics; scores are random
#         integers in [0, 1e9) (SCORES=int, the default: leaderboard points) or
#         random decimals with two places in [0, 1e6) (SCORES=float).
#
# For each data set, each server is started fresh and alone (the other is not
# running) on a free loopback port; before and after loading it reads
#   - RSS: VmRSS from /proc/PID/status, and
#   - used_memory from INFO memory (the allocator's view),
# and reports (after - before) / NOBJ for both and the strata/redis ratios.
# The load is one RESP stream per data set, generated once with python3 into a
# scratch file and sent unchanged to both servers with redis-cli --pipe.
# After the load it checks DBSIZE = NOBJ, HLEN/ZCARD of a sample key, that the
# sample key's content is identical on both servers (HGETALL / ZRANGE 0 -1
# WITHSCORES, compared as text), and records OBJECT ENCODING and MEMORY USAGE
# of the sample key on each server.
#
# It builds nothing. Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_ARGS []
#   REDIS_SERVER [redis-server]   DATASETS ["hash zset"]
#   NOBJ [100000]  HFIELDS [10]  HVALUE [8]  ZMEMBERS [100]  ZMEMBER_LEN [10]
#   SCORES [int]  (int | float)
#   LOAD_TIMEOUT [600] seconds for one load   SETTLE [2] seconds before a reading
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
DATASETS=${DATASETS:-"hash zset"}
NOBJ=${NOBJ:-100000}
HFIELDS=${HFIELDS:-10}
HVALUE=${HVALUE:-8}
ZMEMBERS=${ZMEMBERS:-100}
ZMEMBER_LEN=${ZMEMBER_LEN:-10}
SCORES=${SCORES:-int}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}
SETTLE=${SETTLE:-2}

for tool in redis-cli python3 "$REDIS_SERVER" "$STRATA_SERVER"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "memory_types: '$tool' not found (build strata first: make build)" >&2
        exit 2
    fi
done
case "$SCORES" in int|float) ;; *) echo "memory_types: SCORES must be int or float" >&2; exit 2;; esac

WORK=$(mktemp -d /tmp/strata-memt.XXXXXX)
SPID=""

stop_server() {
    [ -n "$SPID" ] || return 0
    kill "$SPID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# gen DATASET FILE : write the RESP load of one data set (deterministic: seeded).
gen() {
    python3 - "$1" "$2" "$NOBJ" "$HFIELDS" "$HVALUE" "$ZMEMBERS" "$ZMEMBER_LEN" "$SCORES" <<'EOF'
import random, sys
ds, path = sys.argv[1], sys.argv[2]
nobj, hfields, hvalue, zmembers, zlen = map(int, sys.argv[3:8])
scores = sys.argv[8]
rnd = random.Random(12345)
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
letters = alnum[:52]
def word(n):
    # first char a letter: never parses as an integer
    return rnd.choice(letters) + "".join(rnd.choices(alnum, k=n - 1))
def bulk(s):
    b = s.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)
out = open(path, "wb")
buf = []
size = 0
for i in range(nobj):
    if ds == "hash":
        args = ["HSET", "user:%07d" % i]
        for f in range(hfields):
            args += ["f%d" % f, word(hvalue)]
    else:
        args = ["ZADD", "zs:%07d" % i]
        seen = set()
        while len(seen) < zmembers:
            m = word(zlen)
            if m in seen:
                continue
            seen.add(m)
            if scores == "int":
                sc = str(rnd.randrange(1000000000))
            else:
                sc = "%.2f" % (rnd.randrange(100000000) / 100.0)
            args += [sc, m]
    rec = b"*%d\r\n" % len(args) + b"".join(bulk(a) for a in args)
    buf.append(rec)
    size += len(rec)
    if size > 1 << 20:
        out.write(b"".join(buf)); buf = []; size = 0
out.write(b"".join(buf))
out.close()
EOF
}

# sample_dump PORT DATASET : the sample key's content, one item per line.
sample_key() { if [ "$1" = hash ]; then echo "user:0000000"; else echo "zs:0000000"; fi; }
sample_dump() {
    local k
    k=$(sample_key "$2")
    if [ "$2" = hash ]; then
        redis-cli -h 127.0.0.1 -p "$1" hgetall "$k" | paste - - | sort
    else
        # scores normalised: Redis 7.0 replies %.17g, 7.2 the shortest repr
        redis-cli -h 127.0.0.1 -p "$1" zrange "$k" 0 -1 withscores |
            awk 'NR % 2 == 0 { printf "%.15g\n", $1; next } { print }'
    fi
}

# measure NAME DATASET CMD... : CMD must listen on $PORT. Runs in this shell
# so the EXIT trap sees the server's pid; sets RESULT to
# "NAME rss_before rss_after um_before um_after" and ENC, MUSE, CARD.
measure() {
    local name=$1 ds=$2; shift 2
    local port=$PORT rb ra ub ua n k
    mkdir -p "$WORK/$name.d"
    (cd "$WORK/$name.d" && exec "$@" >"$WORK/$name.log" 2>&1) &
    SPID=$!
    for _ in $(seq 300); do
        [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" != PONG ]; then
        echo "memory_types: $name did not start; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1
    fi
    sleep "$SETTLE"
    rb=$(rss_bytes "$SPID"); ub=$(used_memory "$port")
    if ! timeout "$LOAD_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe <"$WORK/$ds.resp" >"$WORK/$name.pipe" 2>&1; then
        echo "memory_types: loading $ds into $name failed:" >&2; cat "$WORK/$name.pipe" >&2; exit 1
    fi
    if ! grep -q 'errors: 0,' "$WORK/$name.pipe"; then
        echo "memory_types: $name answered errors to the $ds load:" >&2; cat "$WORK/$name.pipe" >&2; exit 1
    fi
    n=$(redis-cli -h 127.0.0.1 -p "$port" dbsize)
    if [ "$n" != "$NOBJ" ]; then
        echo "memory_types: $name holds $n keys, expected $NOBJ" >&2; exit 1
    fi
    sleep "$SETTLE"
    ra=$(rss_bytes "$SPID"); ua=$(used_memory "$port")
    k=$(sample_key "$ds")
    ENC=$(redis-cli -h 127.0.0.1 -p "$port" object encoding "$k")
    MUSE=$(redis-cli -h 127.0.0.1 -p "$port" memory usage "$k")
    if [ "$ds" = hash ]; then
        CARD=$(redis-cli -h 127.0.0.1 -p "$port" hlen "$k")
    else
        CARD=$(redis-cli -h 127.0.0.1 -p "$port" zcard "$k")
    fi
    sample_dump "$port" "$ds" >"$WORK/$name.$ds.sample"
    stop_server
    RESULT="$name $rb $ra $ub $ua"
}

echo "== memory_types: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   strata: $STRATA_SERVER $STRATA_ARGS"
echo "   redis:  $("$REDIS_SERVER" --version | head -1)"
echo "   $NOBJ objects per data set; hash: $HFIELDS fields f0..f$((HFIELDS - 1)) of $HVALUE-byte values;" \
     "zset: $ZMEMBERS members of $ZMEMBER_LEN bytes, $SCORES scores"

status=0
for ds in $DATASETS; do
    case "$ds" in hash|zset) ;; *) echo "memory_types: unknown data set '$ds'" >&2; exit 2;; esac
    gen "$ds" "$WORK/$ds.resp"
    echo
    echo "== $ds: load of $(stat -c %s "$WORK/$ds.resp") bytes of RESP, redis-cli --pipe"
    PORT=$(free_port)
    # shellcheck disable=SC2086
    measure strata "$ds" "$STRATA_SERVER" --port "$PORT" --bind 127.0.0.1 $STRATA_ARGS
    S=$RESULT; S_ENC=$ENC; S_MUSE=$MUSE; S_CARD=$CARD
    PORT=$(free_port)
    measure redis "$ds" "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
    R=$RESULT; R_ENC=$ENC; R_MUSE=$MUSE; R_CARD=$CARD
    rm -f "$WORK/$ds.resp"

    printf '%-7s %14s %14s %10s %16s %16s %10s\n' server "RSS before" "RSS after" "RSS B/obj" \
        "used_mem before" "used_mem after" "um B/obj"
    for line in "$S" "$R"; do
        echo "$line" | awk -v n="$NOBJ" '{
            um = ($4 == "n/a" || $5 == "n/a") ? "n/a" : sprintf("%.1f", ($5 - $4) / n)
            printf "%-7s %14d %14d %10.1f %16s %16s %10s\n", $1, $2, $3, ($3 - $2) / n, $4, $5, um }'
    done
    echo "$S $R" | awk -v n="$NOBJ" -v ds="$ds" '{
        srss = ($3 - $2) / n; rrss = ($8 - $7) / n
        printf "%s ratio strata/redis: RSS %.3f", ds, srss / rrss
        if ($4 != "n/a" && $5 != "n/a" && $9 != "n/a" && $10 != "n/a")
            printf ", used_memory %.3f", (($5 - $4) / n) / (($10 - $9) / n)
        else
            printf ", used_memory n/a (a server did not report INFO memory used_memory)"
        printf "\n" }'
    echo "sample $(sample_key "$ds"): strata OBJECT ENCODING $S_ENC, MEMORY USAGE $S_MUSE, size $S_CARD;" \
         "redis OBJECT ENCODING $R_ENC, MEMORY USAGE $R_MUSE, size $R_CARD"
    if cmp -s "$WORK/strata.$ds.sample" "$WORK/redis.$ds.sample"; then
        echo "sample content: identical on both servers ($(wc -l <"$WORK/strata.$ds.sample") lines)"
    else
        echo "sample content: DIFFERS between the servers:"
        diff "$WORK/strata.$ds.sample" "$WORK/redis.$ds.sample" | head -10
        status=1
    fi
done
exit $status

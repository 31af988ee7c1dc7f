#!/usr/bin/env bash
# test_strata_bench.sh -- tools/strata-bench against a real strata-server (and
# redis-server 7 when installed): the load phase, zipf key draws, JSON values,
# the report's arithmetic, error replies, connection refusal, the built-in
# --selftest (zipf shares vs the analytic law, histogram error, RESP parser).
#
# strata-bench is built next to strata-server (tools/CMakeLists.txt sets its
# RUNTIME_OUTPUT_DIRECTORY to the build root): $(dirname $STRATA_SERVER)/strata-bench.
# STRATA_SERVER_ARGS (blank-separated) reaches strata-server, as in the other
# integration tests (the all-cold and mixed tier configurations).
# Each run is bounded by --requests or --duration and by `timeout`; the whole
# test takes a few seconds. Prints one line per check and "N passed, M
# failed"; exits non-zero on any failure.

set -u

SERVER=${STRATA_SERVER:-}
if [ -z "$SERVER" ] || [ ! -x "$SERVER" ]; then
    echo "test_strata_bench: STRATA_SERVER is not set or not executable ('$SERVER')" >&2
    exit 2
fi
BENCH=$(dirname "$SERVER")/strata-bench
if [ ! -x "$BENCH" ]; then
    echo "test_strata_bench: $BENCH not found: build the strata-bench target" >&2
    exit 2
fi
for tool in redis-cli python3 timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test_strata_bench: $tool not found (Debian packages redis-tools, python3, coreutils)" >&2
        exit 2
    fi
done

PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-XXXXXX")
PID=
PORT=
RPID=

cleanup() {
    local p
    for p in "$PID" "$RPID"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() {
    FAIL=$((FAIL + 1))
    echo "FAIL - $1"
    shift
    [ $# -gt 0 ] && printf '       %s\n' "$@"
}
check_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cli() { timeout 30 redis-cli -p "$PORT" "$@"; }

# bench ARGS... : strata-bench, stdout to $TMP/out, stderr to $TMP/err, status in $RC
bench() {
    timeout 60 "$BENCH" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

start_server() {
    local attempt i
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port) || return 1
        # shellcheck disable=SC2086 # STRATA_SERVER_ARGS is a blank-separated list
        (cd "$TMP" && exec "$SERVER" --port "$PORT" --bind 127.0.0.1 ${STRATA_SERVER_ARGS:-} >"$TMP/server.log" 2>&1) &
        PID=$!
        for i in $(seq 1 200); do
            if ! kill -0 "$PID" 2>/dev/null; then
                wait "$PID" 2>/dev/null
                echo "# server exited early on port $PORT (attempt $attempt):" >&2
                cat "$TMP/server.log" >&2
                PID=
                break
            fi
            if [ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]; then
                return 0
            fi
            sleep 0.05
        done
        if [ -n "$PID" ]; then
            echo "# server did not answer PING within 10 s" >&2
            cat "$TMP/server.log" >&2
            return 1
        fi
    done
    return 1
}

# field CMD COLUMN: a column of the text report's CMD line (cmd count ops/s
# avg_us p50_us p99_us p999_us max_us hits misses errors = columns 1..11)
field() { awk -v c="$1" -v k="$2" '$1 == c { print $k }' "$TMP/out"; }

# report_sane NAME TOTAL: the per-command lines add up and their latencies are ordered
report_sane() {
    local name=$1 total=$2 g s a cmd
    g=$(field GET 2)
    s=$(field SET 2)
    a=$(field ALL 2)
    if [ -n "$g" ] && [ -n "$s" ] && [ "$a" == "$total" ] && [ $((g + s)) -eq "$a" ]; then
        ok "$name: GET $g + SET $s = ALL $a = $total"
    else
        bad "$name: per-command counts add up to the total" "$(cat "$TMP/out")"
    fi
    for cmd in GET SET ALL; do
        if awk -v c=$cmd '$1 == c { ok = ($3 > 0 && $4 > 0 && $5 > 0 && $5 <= $6 && $6 <= $7 && $7 <= $8) }
                         END { exit !ok }' "$TMP/out"; then
            ok "$name: $cmd ops/s > 0 and 0 < p50 <= p99 <= p999 <= max"
        else
            bad "$name: $cmd latencies ordered" "$(grep "^$cmd " "$TMP/out")"
        fi
    done
}

# --- no server needed -------------------------------------------------------------
bench --selftest
if [ $RC -eq 0 ] && grep -q '^ok   - zipf N=1000 theta=0.99, 1000000 draws' "$TMP/out" &&
    ! grep -q '^FAIL' "$TMP/out"; then
    ok "--selftest: zipf shares within 2 points of the analytic law, histogram, parser, values"
    grep -E '^ok   - zipf N=1000 theta=0.99' "$TMP/out" | sed 's/^/# /'
else
    bad "--selftest passes" "exit $RC" "$(cat "$TMP/out" "$TMP/err")"
fi

bench --help
missing=
for opt in host port keys key-prefix dist theta scramble hot-keys-pct hot-ops-pct value-size \
    value-kind ratio clients threads pipeline duration requests load load-only load-pipeline seed \
    timeout csv json quiet selftest help; do
    grep -q -- "--$opt" "$TMP/out" || missing="$missing $opt"
done
if [ $RC -eq 0 ] && [ -z "$missing" ] && grep -q '\[0.99\]' "$TMP/out"; then
    ok "--help lists every option with its default"
else
    bad "--help lists every option" "exit $RC, missing:$missing"
fi

bench --ratio 90-10
check_eq "a malformed option exits 1" "1" "$RC"
grep -q "ratio" "$TMP/err" && ok "a malformed option names itself" || bad "a malformed option names itself" "$(cat "$TMP/err")"

REFUSED=$(free_port)
bench --port "$REFUSED" --requests 10
check_eq "connection refused exits 2" "2" "$RC"
if grep -q "cannot connect to 127.0.0.1:$REFUSED: Connection refused" "$TMP/err"; then
    ok "connection refused says so"
else
    bad "connection refused says so" "$(cat "$TMP/err")"
fi

# --- against strata-server ------------------------------------------------------------
if ! start_server; then
    bad "strata-server starts"
    echo "$PASS passed, $FAIL failed"
    exit 1
fi
echo "# strata-server pid $PID on 127.0.0.1:$PORT"

KEYS=5000
REQ=20000
bench --port "$PORT" --keys $KEYS --load --dist zipf --theta 0.99 --value-kind json --value-size 100-1200 \
    --ratio 90:10 --requests $REQ --clients 6 --threads 2 --pipeline 4 --quiet
check_eq "load + zipf run: exit status" "0" "$RC"
[ $RC -eq 0 ] || cat "$TMP/err"
if grep -qE "^load: $KEYS keys in [0-9.]+ s, [0-9.]+ SET/s, 0 errors" "$TMP/out"; then
    ok "load phase SET $KEYS keys without error"
else
    bad "load phase line" "$(cat "$TMP/out")"
fi
grep -qE "^run: $REQ ops in [0-9.]+ s, [0-9.]+ ops/s, 0 errors" "$TMP/out" &&
    ok "run line: $REQ ops, 0 errors" || bad "run line" "$(cat "$TMP/out")"
report_sane "zipf run" $REQ
check_eq "GET hits after --load equal the GET count" "$(field GET 2)" "$(field GET 9)"
check_eq "no GET misses after --load" "0" "$(field GET 10)"
check_eq "DBSIZE after --load equals --keys" "$KEYS" "$(cli dbsize)"

json_ok=0
sizes_ok=1
for k in 0 1 17 2500 4999; do
    key=$(printf 'key:%012d' $k)
    if cli get "$key" | python3 -c 'import json, sys; json.loads(sys.stdin.read())' 2>/dev/null; then
        json_ok=$((json_ok + 1))
    fi
    n=$(cli strlen "$key")
    if [ "$n" -lt 100 ] || [ "$n" -gt 1200 ]; then sizes_ok=0; fi
done
check_eq "--value-kind json: GET of 5 keys each parses with json.loads" "5" "$json_ok"
check_eq "--value-size 100-1200: STRLEN of those keys within the range" "1" "$sizes_ok"
sample=$(cli get key:000000000000 | head -c 100)
echo "# key:000000000000 = $sample..."

# --json: the same run as a document
bench --port "$PORT" --keys $KEYS --requests 3000 --clients 3 --dist zipf --scramble --json --quiet
if [ $RC -eq 0 ] && python3 - "$TMP/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["run"]
assert r["ops"] == 3000, r
assert r["GET"]["count"] + r["SET"]["count"] == r["ALL"]["count"] == 3000, r
assert r["GET"]["hits"] == r["GET"]["count"] and r["GET"]["misses"] == 0, r
for c in ("GET", "SET", "ALL"):
    s = r[c]
    assert 0 < s["p50_us"] <= s["p99_us"] <= s["p999_us"] <= s["max_us"], s
assert d["config"]["dist"] == "zipf" and d["config"]["scramble"] is True
EOF
then
    ok "--json report parses and adds up (scrambled zipf, all GETs hit)"
else
    bad "--json report" "exit $RC" "$(cat "$TMP/out" "$TMP/err")"
fi

bench --port "$PORT" --keys 100 --requests 500 --clients 2 --csv --quiet
if [ $RC -eq 0 ] && head -1 "$TMP/out" | grep -q '^phase,command,count,seconds,ops_per_sec,avg_us,p50_us,p99_us,p999_us,max_us,hits,misses,errors$' &&
    [ "$(grep -c '^run,' "$TMP/out")" == "3" ] && grep -q '^run,ALL,500,' "$TMP/out"; then
    ok "--csv report: header and run rows GET, SET, ALL"
else
    bad "--csv report" "$(cat "$TMP/out")"
fi

# --duration stops by itself and prints a progress line each second
start=$(date +%s.%N)
bench --port "$PORT" --keys 1000 --duration 1.5 --clients 2
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
if [ $RC -eq 0 ] && python3 -c "import sys; sys.exit(0 if $elapsed < 6 else 1)" &&
    grep -qE '^\[ +1\.0s\] [0-9]+ ops/s now, [0-9]+ ops/s overall, p99 [0-9.]+ us' "$TMP/err"; then
    ok "--duration 1.5 ends by itself (${elapsed}s) with a progress line"
else
    bad "--duration ends with progress" "exit $RC after ${elapsed}s" "$(cat "$TMP/err")"
fi

# error replies are counted and printed, never fatal
cli del key:000000000001 >/dev/null
cli rpush key:000000000001 a >/dev/null
bench --port "$PORT" --keys 3 --requests 300 --clients 1 --ratio 1:0 --quiet
errs=$(field GET 11)
if [ $RC -eq 0 ] && [ "${errs:-0}" -gt 0 ] && grep -q "error reply to GET: WRONGTYPE" "$TMP/err" &&
    [ "$(grep -c 'error reply to GET' "$TMP/err")" -le 5 ]; then
    ok "error replies: $errs counted, the first printed, exit 0"
else
    bad "error replies counted, not fatal" "exit $RC" "$(cat "$TMP/out" "$TMP/err")"
fi

# --load-only loads and exits
cli flushall >/dev/null
bench --port "$PORT" --keys 777 --load-only --value-kind repeat --value-size 10 --quiet
check_eq "--load-only: exit status" "0" "$RC"
check_eq "--load-only: DBSIZE" "777" "$(cli dbsize)"
check_eq "--value-kind repeat: one byte repeated" "xxxxxxxxxx" "$(cli get key:000000000776)"
grep -q '^run:' "$TMP/out" && bad "--load-only runs no measured phase" || ok "--load-only runs no measured phase"

kill -TERM "$PID"
wait "$PID"
check_eq "strata-server exits 0 on SIGTERM" "0" "$?"
PID=

# --- against redis-server, when installed ---------------------------------------------
if command -v redis-server >/dev/null 2>&1; then
    RPORT=$(free_port)
    (cd "$TMP" && exec redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
        >"$TMP/redis.log" 2>&1) &
    RPID=$!
    for i in $(seq 1 100); do
        [ "$(timeout 2 redis-cli -p "$RPORT" ping 2>/dev/null)" == "PONG" ] && break
        sleep 0.05
    done
    bench --port "$RPORT" --keys 2000 --load --value-kind json --value-size 300 --requests 5000 \
        --clients 4 --pipeline 8 --quiet
    if [ $RC -eq 0 ] && [ "$(field GET 2)" == "$(field GET 9)" ] &&
        [ "$(timeout 5 redis-cli -p "$RPORT" dbsize)" == "2000" ]; then
        ok "against redis-server: load, run, all GETs hit, DBSIZE 2000"
    else
        bad "against redis-server" "exit $RC" "$(cat "$TMP/out" "$TMP/err")"
    fi
    report_sane "redis run" 5000
    kill -TERM "$RPID"
    wait "$RPID" 2>/dev/null
    RPID=
else
    echo "# skip: redis-server is not installed (Debian package redis-server), the Redis run is not checked"
fi

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]

#!/usr/bin/env bash
# test_cli.sh -- strata-server driven by the real Redis tools (Debian
# redis-tools): redis-cli one-shot commands, --pipe mass insert, RESP3 output
# (-3), --scan, INFO parsing, and redis-benchmark.
#
# Starts $STRATA_SERVER on a free loopback port in a temp dir, stops it with
# SIGTERM at the end (exit status 0 expected). Prints one line per check and
# "N passed, M failed"; exits non-zero on any failure. Every command that could
# hang runs under `timeout`.

set -u

SERVER=${STRATA_SERVER:-}
if [ -z "$SERVER" ] || [ ! -x "$SERVER" ]; then
    echo "test_cli: STRATA_SERVER is not set or not executable ('$SERVER')" >&2
    exit 2
fi
for tool in redis-cli redis-benchmark timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test_cli: $tool not found (Debian package redis-tools / coreutils)" >&2
        exit 2
    fi
done

PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-cli-XXXXXX")
PID=
PORT=

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
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
# check NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"; fi
}

free_port() {
    local py
    for py in python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' \
                2>/dev/null && return 0
        fi
    done
    # fallback: probe random ports until one refuses connections
    local p i
    for i in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

cli() { timeout 30 redis-cli -p "$PORT" "$@"; }

start_server() {
    local attempt i
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port) || { echo "test_cli: no free port" >&2; return 1; }
        # shellcheck disable=SC2086 # STRATA_SERVER_ARGS is a blank-separated list
        (cd "$TMP" && exec "$SERVER" --port "$PORT" --bind 127.0.0.1 ${STRATA_SERVER_ARGS:-} >"$TMP/server.log" 2>&1) &
        PID=$!
        for i in $(seq 1 200); do
            if ! kill -0 "$PID" 2>/dev/null; then
                wait "$PID" 2>/dev/null
                echo "test_cli: server exited early on port $PORT (attempt $attempt):" >&2
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
            echo "test_cli: server did not answer PING within 10 s" >&2
            cat "$TMP/server.log" >&2
            return 1
        fi
    done
    return 1
}

if ! start_server; then
    echo "0 passed, 1 failed"
    exit 1
fi
echo "# strata-server pid $PID on 127.0.0.1:$PORT"

# --- one-shot commands --------------------------------------------------------
check_eq "redis-cli set k v" "OK" "$(cli set k v)"
check_eq "redis-cli get k" "v" "$(cli get k)"
check_eq "redis-cli arguments with spaces" "OK" "$(cli set 'sp key' 'a b  c')"
check_eq "redis-cli get value with spaces" "a b  c" "$(cli get 'sp key')"
check_eq "redis-cli get missing key (raw output is empty)" "" "$(cli get missing)"
check_eq "redis-cli incr" "1" "$(cli incr cnt)"
check_eq "redis-cli unknown command error" \
    "(error) ERR unknown command 'foo', with args beginning with: 'x' " "$(cli --no-raw foo x)"
check_eq "redis-cli del" "3" "$(cli del k 'sp key' cnt)"

# --- --pipe mass insert ---------------------------------------------------------
awk 'BEGIN { for (i = 0; i < 10000; i++) {
        k = "pipe:" i; v = "value-" i
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' >"$TMP/mass.resp"
pipe_out=$(timeout 120 redis-cli -p "$PORT" --pipe <"$TMP/mass.resp" 2>&1)
pipe_rc=$?
if [ $pipe_rc -eq 0 ] && grep -q "errors: 0, replies: 10000" <<<"$pipe_out"; then
    ok "--pipe mass insert of 10000 keys"
else
    bad "--pipe mass insert of 10000 keys" "exit $pipe_rc" "$pipe_out"
fi
check_eq "DBSIZE after mass insert" "10000" "$(cli dbsize)"
check_eq "a mass-inserted key" "value-4242" "$(cli get pipe:4242)"
check_eq "the last mass-inserted key" "value-9999" "$(cli get pipe:9999)"

# --- RESP3 (-3) reply shapes ----------------------------------------------------
hello3=$(cli --no-raw -3 hello 3)
if grep -q '^1# "server" => "' <<<"$hello3" && grep -q '# "proto" => (integer) 3$' <<<"$hello3" &&
    grep -q '# "version" => "' <<<"$hello3"; then
    ok "-3: HELLO 3 is shown as a map"
else
    bad "-3: HELLO 3 is shown as a map" "$hello3"
fi
check_eq "-3: GET missing key is a RESP3 null" "(nil)" "$(cli --no-raw -3 get missing)"
check_eq "-3: MGET array with a null" $'1) "value-1"\n2) (nil)' "$(cli --no-raw -3 mget pipe:1 missing)"
check_eq "-3: INCR is an integer" "(integer) 1" "$(cli --no-raw -3 incr resp3:cnt)"
check_eq "-3: SET is a status" "OK" "$(cli --no-raw -3 set resp3:k v)"
hello2=$(cli --no-raw -2 hello 2)
if grep -q '^ 1) "server"$' <<<"$hello2" && grep -q ') (integer) 2$' <<<"$hello2"; then
    ok "-2: HELLO 2 is a flat array"
else
    bad "-2: HELLO 2 is a flat array" "$hello2"
fi
check_eq "cleanup resp3 keys" "2" "$(cli del resp3:cnt resp3:k)"

# --- --scan -----------------------------------------------------------------------
scan_all=$(cli --scan | sort -u | wc -l)
check_eq "--scan sees every key" "10000" "$scan_all"
# pipe:1, pipe:10-19, pipe:100-199, pipe:1000-1999
scan_pat=$(cli --scan --pattern 'pipe:1*' | sort -u | wc -l)
check_eq "--scan --pattern 'pipe:1*'" "1111" "$scan_pat"
scan_bad=$(cli --scan --pattern 'pipe:1*' | grep -cv '^pipe:1')
check_eq "--scan --pattern returns only matching keys" "0" "$scan_bad"

# --- INFO -------------------------------------------------------------------------
info=$(cli info | tr -d '\r')
malformed=$(grep -v -E '^$|^# [A-Za-z]|^[a-zA-Z0-9_.-]+:' <<<"$info" | head -5)
check_eq "INFO: every line is blank, '# Section' or field:value" "" "$malformed"
for section in Server Clients Memory Stats Keyspace; do
    if grep -q "^# $section\$" <<<"$info"; then ok "INFO has section $section"; else bad "INFO has section $section"; fi
done
cc=$(sed -n 's/^connected_clients:\([0-9]*\)$/\1/p' <<<"$info")
if [ -n "$cc" ] && [ "$cc" -ge 1 ]; then ok "INFO connected_clients is a number >= 1 ($cc)"; else bad "INFO connected_clients" "got '$cc'"; fi
if grep -q '^db0:keys=10000,expires=0,' <<<"$info"; then
    ok "INFO keyspace db0:keys=10000,expires=0,..."
else
    bad "INFO keyspace db0:keys=10000,expires=0,..." "$(grep '^db0:' <<<"$info")"
fi
info_server=$(cli info server | tr -d '\r')
if grep -q '^# Server$' <<<"$info_server" && ! grep -q '^# Clients$' <<<"$info_server"; then
    ok "INFO server returns only the Server section"
else
    bad "INFO server returns only the Server section" "$(grep '^#' <<<"$info_server" | tr '\n' ' ')"
fi
tcp_port=$(sed -n 's/^tcp_port:\([0-9]*\)$/\1/p' <<<"$info")
check_eq "INFO tcp_port" "$PORT" "$tcp_port"

# --- redis-benchmark ----------------------------------------------------------------
bench_out=$(timeout 300 redis-benchmark -p "$PORT" -t set,get,incr,mset -n 20000 -q 2>&1)
bench_rc=$?
bench_lines=$(tr '\r' '\n' <<<"$bench_out")
if [ $bench_rc -eq 0 ]; then ok "redis-benchmark exits 0"; else bad "redis-benchmark exits 0" "exit $bench_rc" "$bench_out"; fi
for t in 'SET' 'GET' 'INCR' 'MSET \(10 keys\)'; do
    name=${t//\\/}
    if grep -q -E "^[[:space:]]*$t: [0-9]+(\.[0-9]+)? requests per second" <<<"$bench_lines"; then
        ok "redis-benchmark $name: requests per second reported"
    else
        bad "redis-benchmark $name: requests per second reported" "$bench_lines"
    fi
done
errs=$(grep -i -E 'error|ERR ' <<<"$bench_lines" | head -3)
check_eq "redis-benchmark printed no errors" "" "$errs"
check_eq "benchmark INCR counted every request" "20000" "$(cli get counter:__rand_int__)"
check_eq "benchmark SET value (redis-benchmark writes \"VXK\")" "VXK" "$(cli get key:__rand_int__)"

# --- still healthy, clean shutdown -----------------------------------------------------
check_eq "PING after everything" "PONG" "$(cli ping)"
kill -TERM "$PID"
st=124
for i in $(seq 1 100); do
    if ! kill -0 "$PID" 2>/dev/null; then
        wait "$PID"
        st=$?
        break
    fi
    sleep 0.1
done
if [ $st -eq 0 ]; then
    ok "server exits 0 on SIGTERM"
else
    bad "server exits 0 on SIGTERM" "status $st"
    tail -50 "$TMP/server.log"
fi
PID=

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]

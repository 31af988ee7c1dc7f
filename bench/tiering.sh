#!/usr/bin/env bash
#
# tiering.sh -- the Tiering I benchmark targets (issue 4), with strata-bench:
#
#   A. throughput of a data set 8x the DRAM budget (PMem tier for the rest)
#      against the same load with everything in DRAM, zipfian theta 0.99,
#      90% GET / 10% SET, 1 KB JSON-like values; client latency p50/p99/p999;
#      the share of GETs served from DRAM and from PMem, and the PMem tier's
#      own read latency p50/p99/p999 (INFO tiers);
#   B. stored/raw bytes on the PMem tier for those values, with a trained
#      dictionary and without (tier-dict-size 0);
#   C. DRAM bytes per cold key, everything included: a server with every key
#      demoted (tier-demote-on-write) against the same server empty.
#
# Both servers of A run the same strata-server build; the runs interleave
# (tiered, dram, tiered, dram ...) and the script prints every sample and the
# medians. It builds nothing. The machine is shared: read ratios, not absolutes.
#
# Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_BENCH [next to the server]
#   BUDGET_MB [128]   DRAM budget (maxmemory) of the tiered server
#   FACTOR [8]        data set = FACTOR x BUDGET of 1 KB values
#   VALUE [1024]  CLIENTS [50]  THREADS [2]  PIPELINE [1]  DURATION [20]  ROUNDS [3]
#   POOL_DIR [/dev/shm]  (PMem pools live here, PMEM_IS_PMEM_FORCE=1)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

STRATA_SERVER=${STRATA_SERVER:-$REPO/build/strata-server}
STRATA_BENCH=${STRATA_BENCH:-$(dirname "$STRATA_SERVER")/strata-bench}
BUDGET_MB=${BUDGET_MB:-128}
FACTOR=${FACTOR:-8}
VALUE=${VALUE:-1024}
CLIENTS=${CLIENTS:-50}
THREADS=${THREADS:-2}
PIPELINE=${PIPELINE:-1}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
POOL_DIR=${POOL_DIR:-/dev/shm}
KEYS=$((BUDGET_MB * 1024 * 1024 * FACTOR / VALUE))
POOL_MB=$((BUDGET_MB * FACTOR * 3 / 4 + 256))

for tool in "$STRATA_SERVER" "$STRATA_BENCH" redis-cli python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "tiering: '$tool' not found" >&2; exit 2; }
done
export PMEM_IS_PMEM_FORCE=1 PMEMOBJ_CONF="sds.at_create=0"

WORK=$(mktemp -d /tmp/strata-tiering.XXXXXX)
POOLS=()
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for f in "${POOLS[@]}"; do rm -f "$f"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME ARGS... -> prints the port; the pid goes to PIDS via a file
start() {
    local name=$1; shift
    local port dir=$WORK/$name
    mkdir -p "$dir"
    port=$(free_port)
    (cd "$dir" && exec "$STRATA_SERVER" --port "$port" --bind 127.0.0.1 "$@" >"$dir/log" 2>&1) &
    echo $! >"$dir/pid"
    for _ in $(seq 1 300); do
        if cli "$port" ping >/dev/null 2>&1; then echo "$port"; return 0; fi
        sleep 0.1
    done
    echo "tiering: $name did not start; log:" >&2
    cat "$dir/log" >&2
    exit 1
}

stop() { cli "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.5; }

info() { cli "$1" info "$2" | tr -d '\r'; }
field() { awk -F: -v f="$2" '$1 == f { print $2 }' <<<"$1"; }
tierf() { # tierf INFO TIER FIELD
    awk -F: -v t="tier_$2" '$1 == t { print $2 }' <<<"$1" | tr ',' '\n' | awk -F= -v f="$3" '$1 == f { print $2 }'
}

bench() { # bench PORT ARGS...
    local port=$1; shift
    "$STRATA_BENCH" --port "$port" --keys "$KEYS" --value-kind json --value-size "$VALUE" \
        --dist zipf --theta 0.99 --ratio 90:10 --clients "$CLIENTS" --threads "$THREADS" \
        --pipeline "$PIPELINE" --timeout 60 "$@"
}

echo "== tiering benchmark: $(date -u +%FT%TZ), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "   budget ${BUDGET_MB} MB, data set ${FACTOR}x = $KEYS keys of $VALUE B JSON, zipf 0.99, GET:SET 90:10,"
echo "   $CLIENTS clients / $THREADS threads, pipeline $PIPELINE, ${DURATION}s runs, $ROUNDS rounds; PMem pool ${POOL_MB} MB in $POOL_DIR"

pool=$POOL_DIR/strata-tiering-$$.pool
POOLS+=("$pool")
TPORT=$(start tiered --maxmemory "${BUDGET_MB}mb" --maxmemory-policy allkeys-lru \
    --pmem-path "$pool" --pmem-size "${POOL_MB}mb")
PIDS+=("$(cat "$WORK/tiered/pid")")
DPORT=$(start dram)
PIDS+=("$(cat "$WORK/dram/pid")")

echo "-- load (every key SET once, pipelined)"
bench "$TPORT" --load-only --quiet | grep -E '^load' | sed 's/^/   tiered /'
bench "$DPORT" --load-only --quiet | grep -E '^load' | sed 's/^/   dram   /'
ti=$(info "$TPORT" all)
echo "   tiered: dbsize $(cli "$TPORT" dbsize), cold_keys $(field "$ti" cold_keys), used_memory $(field "$ti" used_memory)," \
     "pmem raw $(tierf "$ti" pmem raw_bytes) stored $(tierf "$ti" pmem stored_bytes) ratio $(tierf "$ti" pmem ratio)," \
     "dict $(field "$ti" compression_dict_id), evicted $(field "$ti" evicted_keys)"
di=$(info "$DPORT" memory)
echo "   dram:   dbsize $(cli "$DPORT" dbsize), used_memory $(field "$di" used_memory)"

echo "-- runs (${DURATION}s each)"
: >"$WORK/samples"
for r in $(seq 1 "$ROUNDS"); do
    order="tiered dram"
    [ $((r % 2)) -eq 0 ] && order="dram tiered"
    for who in $order; do
        port=$TPORT
        [ "$who" = dram ] && port=$DPORT
        before=$(info "$port" all)
        out=$(bench "$port" --duration "$DURATION" --quiet --csv)
        after=$(info "$port" all)
        # csv: phase,command,count,seconds,ops_per_sec,avg_us,p50_us,p99_us,p999_us,max_us,hits,misses,errors
        all=$(grep -E '^run,ALL,' <<<"$out")
        get=$(grep -E '^run,GET,' <<<"$out")
        ops=$(cut -d, -f5 <<<"$all")
        gets=$(cut -d, -f3 <<<"$get")
        cold=0
        if [ "$who" = tiered ]; then
            c0=$(( $(field "$before" cold_reads_served) + $(field "$before" cold_promotions) ))
            c1=$(( $(field "$after" cold_reads_served) + $(field "$after" cold_promotions) ))
            cold=$((c1 - c0))
        fi
        echo "$r $who $ops $(cut -d, -f7-9 <<<"$all" | tr , ' ') $gets $cold" >>"$WORK/samples"
        printf '   round %d %-6s %10.0f ops/s  p50 %8s us  p99 %8s us  p999 %8s us  GETs %s, from PMem %s\n' \
            "$r" "$who" "$ops" "$(cut -d, -f7 <<<"$all")" "$(cut -d, -f8 <<<"$all")" "$(cut -d, -f9 <<<"$all")" "$gets" "$cold"
    done
done

mt=$(awk '$2 == "tiered" { print $3 }' "$WORK/samples" | median)
md=$(awk '$2 == "dram" { print $3 }' "$WORK/samples" | median)
echo "-- A. medians: tiered $mt ops/s, all-DRAM $md ops/s, ratio $(python3 -c "print(f'{$mt/$md:.3f}')")"
for who in tiered dram; do
    echo "   $who client latency medians (us): p50 $(awk -v w=$who '$2 == w { print $4 }' "$WORK/samples" | median)," \
         "p99 $(awk -v w=$who '$2 == w { print $5 }' "$WORK/samples" | median)," \
         "p999 $(awk -v w=$who '$2 == w { print $6 }' "$WORK/samples" | median)"
done
awk '$2 == "tiered" { g += $7; c += $8 } END { if (g) printf "   tiered GETs: %.1f%% from DRAM, %.1f%% from PMem (%d of %d)\n", 100 * (g - c) / g, 100 * c / g, c, g }' "$WORK/samples"
ti=$(info "$TPORT" all)
echo "   PMem tier read latency (whole run, in the server): p50 $(tierf "$ti" pmem read_p50_us) us," \
     "p99 $(tierf "$ti" pmem read_p99_us) us, p999 $(tierf "$ti" pmem read_p999_us) us"
echo "   tiered at the end: cold_keys $(field "$ti" cold_keys), used_memory $(field "$ti" used_memory) (budget $((BUDGET_MB * 1048576)))," \
     "evicted $(field "$ti" evicted_keys), promotions $(field "$ti" cold_promotions), demote_raced $(field "$ti" demote_raced)"
echo "   INFO tiers line: $(awk -F: '$1 == "tier_pmem"' <<<"$ti")"
stop "$TPORT"
stop "$DPORT"

echo "-- B. stored/raw on the PMem tier, 1 KB JSON values (every key demoted as written)"
for dict in 16kb 0; do
    p2=$POOL_DIR/strata-tiering-$$-$dict.pool
    POOLS+=("$p2")
    port=$(start "ratio-$dict" --pmem-path "$p2" --pmem-size 512mb --tier-demote-on-write yes --tier-dict-size "$dict")
    PIDS+=("$(cat "$WORK/ratio-$dict/pid")")
    "$STRATA_BENCH" --port "$port" --keys 100000 --value-kind json --value-size "$VALUE" --load-only --quiet >/dev/null
    ri=$(info "$port" all)
    echo "   tier-dict-size $dict: raw $(tierf "$ri" pmem raw_bytes) B, stored $(tierf "$ri" pmem stored_bytes) B," \
         "stored/raw $(tierf "$ri" pmem ratio) (records include the 4-byte serialisation header), dictionaries $(field "$ri" compression_dicts)"
    stop "$port"
done

echo "-- C. DRAM bytes per cold key"
p3=$POOL_DIR/strata-tiering-$$-stub.pool
POOLS+=("$p3")
port=$(start stub --pmem-path "$p3" --pmem-size 512mb --tier-demote-on-write yes --tier-dict-size 0)
PIDS+=("$(cat "$WORK/stub/pid")")
empty=$(field "$(info "$port" memory)" mem_counted_for_maxmemory)
"$STRATA_BENCH" --port "$port" --keys 1000000 --value-kind json --value-size 100 --load-only --quiet >/dev/null
full=$(info "$port" all)
cold=$(field "$full" cold_keys)
used=$(field "$full" mem_counted_for_maxmemory)
echo "   1,000,000 keys of 16 bytes (key:%012d), all cold: DRAM $used B vs $empty B empty ->" \
     "$(python3 -c "print(f'{($used-$empty)/$cold:.1f}')") B per cold key (entry, stub, table slot, allocator rounding)"
stop "$port"

#!/usr/bin/env bash
#
# tiering_ssd.sh -- the Tiering II benchmark targets (issue 5), with strata-bench:
#
#   A. throughput of a data set FACTOR (20) x the DRAM budget, PMem holding
#      about PMEM_FACTOR (4) x, the rest on the SSD tier, zipfian theta 0.99,
#      90% GET / 10% SET (the SETs overwrite), 1 KB JSON-like values, against
#      the same load with everything in DRAM; client latency; the share of
#      GETs served from DRAM, PMem and SSD; each tier's read latency p50 /
#      p99 / p999 as the server measures it (INFO tiers);
#   B. write amplification of the SSD tier under that load: bytes the tier
#      wrote to its files / bytes of records it was given (INFO ssd_*).
#
# Both servers run the same strata-server build; the runs interleave and the
# script prints every sample and the medians. It builds nothing. The PMem
# pool lives on /dev/shm (PMEM_IS_PMEM_FORCE=1); the SSD segments on SSD_DIR,
# a real disk, with O_DIRECT. bench/device.sh gives the device's own limits.
#
# Environment (defaults in brackets):
#   STRATA_SERVER [<repo>/build/strata-server]  STRATA_BENCH [next to it]
#   BUDGET_MB [128]  FACTOR [20]  PMEM_FACTOR [4]  VALUE [1024]
#   CLIENTS [50]  THREADS [2]  PIPELINE [1]  DURATION [20]  ROUNDS [3]
#   POOL_DIR [/dev/shm]  SSD_DIR [/var/tmp]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

STRATA_SERVER=${STRATA_SERVER:-$REPO/build/strata-server}
STRATA_BENCH=${STRATA_BENCH:-$(dirname "$STRATA_SERVER")/strata-bench}
BUDGET_MB=${BUDGET_MB:-128}
FACTOR=${FACTOR:-20}
PMEM_FACTOR=${PMEM_FACTOR:-4}
VALUE=${VALUE:-1024}
CLIENTS=${CLIENTS:-50}
THREADS=${THREADS:-2}
PIPELINE=${PIPELINE:-1}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
POOL_DIR=${POOL_DIR:-/dev/shm}
SSD_DIR=${SSD_DIR:-/var/tmp}
KEYS=$((BUDGET_MB * 1024 * 1024 * FACTOR / VALUE))
# Compressed records are about a third of the values (docs/benchmarks.md,
# Tiering I): a pool of PMEM_FACTOR x budget x 0.4 holds PMEM_FACTOR x the
# budget's worth of values; the SSD tier gets room for all of it.
POOL_MB=$((BUDGET_MB * PMEM_FACTOR * 4 / 10 + 64))
SSD_MB=$((BUDGET_MB * FACTOR * 6 / 10 + 256))

for tool in "$STRATA_SERVER" "$STRATA_BENCH" redis-cli python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "tiering_ssd: '$tool' not found" >&2; exit 2; }
done
export PMEM_IS_PMEM_FORCE=1 PMEMOBJ_CONF="sds.at_create=0"

WORK=$(mktemp -d /tmp/strata-tiering-ssd.XXXXXX)
SEGS=$(mktemp -d "$SSD_DIR/strata-tiering-ssd.XXXXXX")
POOL=$POOL_DIR/strata-tiering-ssd-$$.pool
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK" "$SEGS"
    rm -f "$POOL"
}
trap cleanup EXIT

start() { # start NAME ARGS... -> prints the port
    local name=$1; shift
    local port dir=$WORK/$name
    mkdir -p "$dir"
    port=$(free_port)
    (cd "$dir" && exec "$STRATA_SERVER" --port "$port" --bind 127.0.0.1 "$@" >"$dir/log" 2>&1) &
    echo $! >"$dir/pid"
    for _ in $(seq 1 600); do
        if cli "$port" ping >/dev/null 2>&1; then echo "$port"; return 0; fi
        sleep 0.1
    done
    echo "tiering_ssd: $name did not start; log:" >&2
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

echo "== tiering (SSD) benchmark: $(date -u +%FT%TZ), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "   budget ${BUDGET_MB} MB, data set ${FACTOR}x = $KEYS keys of $VALUE B JSON, zipf 0.99, GET:SET 90:10,"
echo "   $CLIENTS clients / $THREADS threads, pipeline $PIPELINE, ${DURATION}s runs, $ROUNDS rounds"
echo "   PMem pool ${POOL_MB} MB in $POOL_DIR, SSD tier ${SSD_MB} MB in $SSD_DIR ($(df -PT "$SSD_DIR" | awk 'NR == 2 { print $1 ", " $2 }'))"

TPORT=$(start tiered --maxmemory "${BUDGET_MB}mb" --maxmemory-policy allkeys-lru \
    --pmem-path "$POOL" --pmem-size "${POOL_MB}mb" --ssd-path "$SEGS" --ssd-size "${SSD_MB}mb")
PIDS+=("$(cat "$WORK/tiered/pid")")
DPORT=$(start dram)
PIDS+=("$(cat "$WORK/dram/pid")")

echo "-- load (every key SET once, pipelined)"
bench "$TPORT" --load-only --quiet | grep -E '^load' | sed 's/^/   tiered /'
bench "$DPORT" --load-only --quiet | grep -E '^load' | sed 's/^/   dram   /'
ti=$(info "$TPORT" all)
echo "   tiered: dbsize $(cli "$TPORT" dbsize), cold_keys $(field "$ti" cold_keys), stubs $(field "$ti" cold_stubs)," \
     "pmem keys $(tierf "$ti" pmem keys), ssd keys $(tierf "$ti" ssd keys), used_memory $(field "$ti" used_memory)," \
     "cascade_moves $(field "$ti" cascade_moves), evicted $(field "$ti" evicted_keys)"
echo "   dram:   dbsize $(cli "$DPORT" dbsize), used_memory $(field "$(info "$DPORT" memory)" used_memory)"

echo "-- runs (${DURATION}s each)"
: >"$WORK/samples"
wa_written0=$(field "$ti" ssd_bytes_written)
wa_records0=$(field "$ti" ssd_record_bytes)
for r in $(seq 1 "$ROUNDS"); do
    order="tiered dram"
    [ $((r % 2)) -eq 0 ] && order="dram tiered"
    for who in $order; do
        port=$TPORT
        [ "$who" = dram ] && port=$DPORT
        before=$(info "$port" all)
        out=$(bench "$port" --duration "$DURATION" --quiet --csv)
        after=$(info "$port" all)
        all=$(grep -E '^run,ALL,' <<<"$out")
        get=$(grep -E '^run,GET,' <<<"$out")
        ops=$(cut -d, -f5 <<<"$all")
        gets=$(cut -d, -f3 <<<"$get")
        pm=0
        sd=0
        if [ "$who" = tiered ]; then
            pm=$(( $(tierf "$after" pmem reads) - $(tierf "$before" pmem reads) ))
            sd=$(( $(tierf "$after" ssd reads) - $(tierf "$before" ssd reads) ))
        fi
        echo "$r $who $ops $(cut -d, -f7-9 <<<"$all" | tr , ' ') $gets $pm $sd" >>"$WORK/samples"
        printf '   round %d %-6s %10.0f ops/s  p50 %8s us  p99 %8s us  p999 %8s us  GETs %s, from PMem %s, from SSD %s\n' \
            "$r" "$who" "$ops" "$(cut -d, -f7 <<<"$all")" "$(cut -d, -f8 <<<"$all")" "$(cut -d, -f9 <<<"$all")" \
            "$gets" "$pm" "$sd"
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
awk '$2 == "tiered" { g += $7; p += $8; s += $9 } END { if (g) printf "   tiered GETs: %.1f%% from DRAM, %.1f%% from PMem, %.1f%% from SSD (%d GETs)\n", 100 * (g - p - s) / g, 100 * p / g, 100 * s / g, g }' "$WORK/samples"
ti=$(info "$TPORT" all)
for t in pmem ssd; do
    echo "   $t tier read latency (whole run, in the server): p50 $(tierf "$ti" $t read_p50_us) us," \
         "p99 $(tierf "$ti" $t read_p99_us) us, p999 $(tierf "$ti" $t read_p999_us) us"
done
echo "   tiered at the end: dbsize $(cli "$TPORT" dbsize), stubs $(field "$ti" cold_stubs), pmem keys $(tierf "$ti" pmem keys)," \
     "ssd keys $(tierf "$ti" ssd keys), used_memory $(field "$ti" used_memory) (budget $((BUDGET_MB * 1048576)))," \
     "cascade_moves $(field "$ti" cascade_moves), evicted $(field "$ti" evicted_keys), ssd sync_reads $(tierf "$ti" ssd sync_reads)"
wa_written=$(( $(field "$ti" ssd_bytes_written) - wa_written0 ))
wa_records=$(( $(field "$ti" ssd_record_bytes) - wa_records0 ))
echo "-- B. SSD write amplification during the runs: $wa_written bytes written / $wa_records record bytes =" \
     "$(python3 -c "print(f'{$wa_written/max($wa_records,1):.3f}')")" \
     "(whole life: $(field "$ti" ssd_bytes_written) / $(field "$ti" ssd_record_bytes); compacted segments $(field "$ti" ssd_segments_compacted))"
echo "   INFO tiers lines:"
awk -F: '$1 ~ /^tier_/ || $1 ~ /^ssd_/' <<<"$ti" | sed 's/^/     /'
stop "$TPORT"
stop "$DPORT"

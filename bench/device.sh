#!/usr/bin/env bash
#
# device.sh -- the device's own limits, measured with fio on the directory
# the SSD tier (or snapshots) would use, so the tier's figures can be read as
# a fraction of what the hardware gives:
#
#   seq-write   1 MiB sequential writes, O_DIRECT, one job, fdatasync at end
#   seq-read    1 MiB sequential reads of the same file, O_DIRECT
#   rand-read   4 KiB random reads, O_DIRECT, 4 jobs x queue depth 8 (libaio)
#   rand-read1  4 KiB random reads, O_DIRECT, one job at depth 1 (latency)
#
# Prints one line per job (bandwidth, IOPS, latency p50/p99) and leaves
# nothing behind. Bounded: each job runs for RUNTIME seconds at most.
#
# Environment: DIR [/var/tmp]  SIZE [2g]  RUNTIME [15]
set -euo pipefail

DIR=${DIR:-/var/tmp}
SIZE=${SIZE:-2g}
RUNTIME=${RUNTIME:-15}
command -v fio >/dev/null || { echo "device: fio not found (apt-get install fio)" >&2; exit 2; }

WORK=$(mktemp -d "$DIR/strata-device.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FILE=$WORK/fio.dat

run() { # run NAME fio-args...
    local name=$1; shift
    fio --name="$name" --filename="$FILE" --size="$SIZE" --direct=1 --runtime="$RUNTIME" \
        --time_based=0 --output-format=json "$@" >"$WORK/$name.json"
    python3 - "$name" "$WORK/$name.json" <<'EOF'
import json, sys
name, path = sys.argv[1], sys.argv[2]
job = json.load(open(path))["jobs"]
rw = "write" if name.startswith("seq-write") else "read"
bw = sum(j[rw]["bw_bytes"] for j in job) / 1e6
iops = sum(j[rw]["iops"] for j in job)
pct = job[0][rw].get("clat_ns", {}).get("percentile", {})
p50 = pct.get("50.000000", 0) / 1000
p99 = pct.get("99.000000", 0) / 1000
print(f"   {name:<11} {bw:9.1f} MB/s  {iops:10.0f} IOPS  latency p50 {p50:8.1f} us  p99 {p99:8.1f} us")
EOF
}

echo "== device: $(date -u +%FT%TZ), $DIR on $(df -P "$DIR" | awk 'NR == 2 { print $1 }') ($(df -PT "$DIR" | awk 'NR == 2 { print $2 }')), $SIZE file, ${RUNTIME}s per job"
run seq-write --rw=write --bs=1m --ioengine=psync --end_fsync=1
run seq-read --rw=read --bs=1m --ioengine=psync
run rand-read --rw=randread --bs=4k --ioengine=libaio --iodepth=8 --numjobs=4 --group_reporting=1 --time_based=1
run rand-read1 --rw=randread --bs=4k --ioengine=psync --time_based=1

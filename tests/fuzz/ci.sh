#!/usr/bin/env bash
# tests/fuzz/ci.sh -- the short fuzzing pass of CI: installs clang and libFuzzer's runtime when they
# are missing (Debian: clang, libclang-rt-14-dev), builds every harness (tests/fuzz/run.sh) and runs
# each for FUZZ_SECONDS (default 20) seconds. Exits non-zero when a harness crashes, leaks or trips a
# sanitizer (the input is in build-fuzz/artifacts/<target>/), or when the tools cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
rt=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
if [ -z "$rt" ] || [ ! -f "$rt" ]; then
  need+=(libclang-rt-14-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "fuzz/ci.sh: installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
start=$(date +%s)
bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
echo "fuzz/ci.sh: every harness ran ${FUZZ_SECONDS:-20}s without a crash ($(( $(date +%s) - start ))s in all)"

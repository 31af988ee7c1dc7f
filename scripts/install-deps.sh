#!/usr/bin/env bash
# Installs the Debian 12 packages Strata builds, tests and benchmarks with.
# Installs only what is missing; safe to run again. Needs root (or sudo).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  libzstd-dev libpmemobj-dev libnuma-dev numactl libjemalloc-dev libssl-dev
  liblua5.1-0-dev liburing-dev libxxhash-dev
  libcmocka-dev libhiredis-dev
  redis-tools redis-server python3 python3-redis
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The packaged redis-server starts a system service on 6379; Strata's tests and
# `make run` want that port, and the benchmark starts its own redis-server.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl stop redis-server || true
  $SUDO systemctl disable redis-server >/dev/null 2>&1 || true
fi
if pgrep -x redis-server >/dev/null 2>&1 && [ -x /etc/init.d/redis-server ]; then
  $SUDO /etc/init.d/redis-server stop >/dev/null 2>&1 || true
fi

#!/usr/bin/env bash
# Regenerates the directive table of docs/config.md from `strata-server --help-config`
# (the table is generated; tests/unit/server/test_config.c checks it is current).
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:-build/strata-server}
doc=docs/config.md
head=$(awk '/^\| directive \|/ { exit } { print }' "$doc")
tail=$(awk 'f && !/^\|/ { p = 1 } p { print } /^\| directive \|/ { f = 1 }' "$doc")
{
    printf '%s\n\n' "$head"
    "$server" --help-config
    if [ -n "$tail" ]; then printf '%s\n' "$tail"; fi
} >"$doc.new"
mv "$doc.new" "$doc"
